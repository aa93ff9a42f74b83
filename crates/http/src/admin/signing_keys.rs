//! `/admin/v1/signing-keys`: the keys that sign and check JWTs, and their
//! staged rotation.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::caller::Caller;
use super::keys::Paging;
use super::page::{Page, QueryParams, page_in_memory};
use super::plane;
use super::problem::Problem;
use super::views::SigningKeyView;
use crate::AppState;

#[utoipa::path(
    get, path = "/admin/v1/signing-keys", operation_id = "listSigningKeys", tag = "signing-keys",
    params(Paging),
    responses(
        (status = 200, description = "Every key in use, oldest first (a configured HMAC secret too)", body = Page<SigningKeyView>),
        (status = 400, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(_): Caller,
    params: QueryParams,
) -> Result<axum::Json<Page<SigningKeyView>>, Problem> {
    let keys = plane(&state)?.service.list_signing_keys().await?;
    // Oldest first, as the core lists them: the position keeps that order.
    let numbered: Vec<(usize, SigningKeyView)> = keys.iter().map(SigningKeyView::from).enumerate().collect();
    let page = page_in_memory(numbered, &params, |(i, _)| format!("{i:06}"), |(_, view)| view.clone())?;
    Ok(axum::Json(page))
}

#[utoipa::path(
    post, path = "/admin/v1/signing-keys/rotate", operation_id = "rotateSigningKey", tag = "signing-keys",
    responses(
        (status = 201, description = "The new key: published now, signing after the rotation delay", body = SigningKeyView),
        (status = 409, description = "HS384 signs with a shared secret, which cannot be rotated here", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn rotate(
    State(state): State<AppState>,
    Caller(context): Caller,
) -> Result<Response, Problem> {
    let key = plane(&state)?.service.rotate_signing_key(&context, None).await?;
    Ok((StatusCode::CREATED, axum::Json(SigningKeyView::from(&key))).into_response())
}
