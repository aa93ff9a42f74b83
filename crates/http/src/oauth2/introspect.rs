//! `POST /oauth2/introspect` (RFC 7662): any active access key may ask about
//! any token.

use axum::extract::{Request, State};
use axum::response::Response;
use serde::Serialize;
use tollgate_core::{Contract, Introspection, TokenKindHint};

use super::client_auth::required_client;
use super::error::OAuthError;
use super::form::Form;
use crate::AppState;
use crate::http_util::{headers_and_body, login_context};

/// Borrows what it shows from the identity: a checked JWT's identity is
/// shared by every check of that token.
#[derive(Serialize, Default)]
struct IntrospectionResponse<'a> {
    active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jti: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    realm: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    roles: Option<&'a [String]>,
}

impl<'a> IntrospectionResponse<'a> {
    fn of(found: Option<&'a Introspection>) -> Self {
        let Some(found) = found else { return Self::default() };
        let identity = &found.identity;
        Self {
            active: true,
            sub: Some(identity.principal_id.to_string()),
            username: Some(&identity.name),
            client_id: identity.client_id.as_deref(),
            token_type: (!found.is_refresh_token).then_some("Bearer"),
            exp: Some(identity.expires_at.unix_timestamp()),
            iat: Some(identity.issued_at.unix_timestamp()),
            jti: identity.token_id.map(|jti| jti.to_string()),
            realm: identity.realm.as_deref(),
            roles: Some(&identity.roles),
        }
    }
}

pub(super) fn hint(form: &Form) -> Option<TokenKindHint> {
    match form.get("token_type_hint") {
        Some("access_token") => Some(TokenKindHint::AccessToken),
        Some("refresh_token") => Some(TokenKindHint::RefreshToken),
        _ => None,
    }
}

pub(super) async fn introspect_token(State(state): State<AppState>, request: Request) -> Response {
    let context = login_context(&state, &request, Contract::OAuth2);
    let (headers, body) = headers_and_body(request);
    let result = async {
        let form = Form::read(&headers, body).await?;
        required_client(&state, &context, &headers, &form).await?;
        let token = form.require("token", "token is required.")?;
        Ok::<_, OAuthError>(state.service.introspect(token, hint(&form)).await?)
    }
    .await;
    match result {
        Ok(found) => super::respond(Ok(IntrospectionResponse::of(found.as_ref()))),
        Err(err) => super::respond::<IntrospectionResponse>(Err(err)),
    }
}
