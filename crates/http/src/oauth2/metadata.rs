//! `GET /.well-known/oauth-authorization-server` (RFC 8414).

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::{INTROSPECT_PATH, REVOKE_PATH, TOKEN_PATH};
use crate::AppState;

#[derive(Serialize)]
pub(super) struct ServerMetadata {
    issuer: String,
    token_endpoint: String,
    introspection_endpoint: String,
    revocation_endpoint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    jwks_uri: Option<String>,
    grant_types_supported: [&'static str; 2],
    response_types_supported: [&'static str; 0],
    token_endpoint_auth_methods_supported: [&'static str; 2],
    introspection_endpoint_auth_methods_supported: [&'static str; 2],
    revocation_endpoint_auth_methods_supported: [&'static str; 2],
}

/// The issuer is `public_url`, else the main listener's address: never the
/// request's `Host` or `X-Forwarded-*`, which a client chooses (an issuer
/// taken from them lets anyone point relying parties elsewhere).
pub(super) async fn server_metadata(State(state): State<AppState>) -> Json<ServerMetadata> {
    let issuer = state.issuer().to_owned();
    const AUTH_METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];
    Json(ServerMetadata {
        token_endpoint: format!("{issuer}{TOKEN_PATH}"),
        introspection_endpoint: format!("{issuer}{INTROSPECT_PATH}"),
        revocation_endpoint: format!("{issuer}{REVOKE_PATH}"),
        jwks_uri: state.service.publishes_jwks().then(|| format!("{issuer}/.well-known/jwks.json")),
        grant_types_supported: ["client_credentials", "refresh_token"],
        response_types_supported: [],
        token_endpoint_auth_methods_supported: AUTH_METHODS,
        introspection_endpoint_auth_methods_supported: AUTH_METHODS,
        revocation_endpoint_auth_methods_supported: AUTH_METHODS,
        issuer,
    })
}
