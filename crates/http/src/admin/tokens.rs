//! `POST /admin/v1/tokens/revoke`: one token, every token of a principal,
//! or every token issued with an access key.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::body::JsonBody;
use super::caller::Caller;
use super::plane;
use super::problem::Problem;
use crate::AppState;

/// What to revoke: exactly one member.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Revoke {
    /// Any token: an access token, a refresh token (its whole session) or a
    /// JWT.
    pub token: Option<String>,
    /// Every token of this principal (its id or its name).
    pub principal: Option<String>,
    /// Every token issued with this key (its 40-hex accessKey, or a key's id).
    pub access_key: Option<String>,
}

#[utoipa::path(
    post, path = "/admin/v1/tokens/revoke", operation_id = "revokeTokens", tag = "tokens",
    request_body = Revoke,
    responses(
        (status = 204, description = "Revoked (a token that matched nothing is not told apart)"),
        (status = 400, description = "Not exactly one of token, principal, accessKey", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such principal or key", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    Caller(context): Caller,
    JsonBody(body): JsonBody<Revoke>,
) -> Result<StatusCode, Problem> {
    let admin = &plane(&state)?.service;
    match (body.token, body.principal, body.access_key) {
        (Some(token), None, None) => {
            admin.revoke_token(&context, &token).await?;
        }
        (None, Some(principal), None) => {
            admin.revoke_principal_tokens(&context, &principal).await?;
        }
        (None, None, Some(key)) => {
            admin.revoke_key_tokens(&context, &key).await?;
        }
        _ => {
            return Err(Problem::invalid("", "Give exactly one of token, principal, accessKey."));
        }
    }
    Ok(StatusCode::NO_CONTENT)
}
