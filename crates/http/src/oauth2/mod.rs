//! OAuth 2.0 for new clients: the token endpoint (RFC 6749:
//! `client_credentials` with an access key as the client, `refresh_token`
//! with contract A's refresh tokens), introspection (RFC 7662), revocation
//! (RFC 7009) and server metadata (RFC 8414).

mod client_auth;
mod error;
mod form;
mod introspect;
mod metadata;
mod revoke;
mod token;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub const TOKEN_PATH: &str = "/oauth2/token";
pub const INTROSPECT_PATH: &str = "/oauth2/introspect";
pub const REVOKE_PATH: &str = "/oauth2/revoke";
pub const METADATA_PATH: &str = "/.well-known/oauth-authorization-server";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(TOKEN_PATH, post(token::issue_token))
        .route(INTROSPECT_PATH, post(introspect::introspect_token))
        .route(REVOKE_PATH, post(revoke::revoke_token))
        .route(METADATA_PATH, get(metadata::server_metadata))
}

/// A JSON answer that nobody may cache (RFC 6749 §5.1), or the error.
fn respond<T: serde::Serialize>(result: Result<T, error::OAuthError>) -> axum::response::Response {
    respond_json(
        result.and_then(|body| serde_json::to_vec(&body).map_err(|_| error::OAuthError::ServerError)),
    )
}

/// [`respond`] for a body already serialized.
fn respond_json(result: Result<Vec<u8>, error::OAuthError>) -> axum::response::Response {
    use axum::http::header::CONTENT_TYPE;
    use axum::response::IntoResponse as _;
    match result {
        Ok(body) => {
            let mut response = ([(CONTENT_TYPE, crate::http_util::JSON)], body).into_response();
            crate::http_util::no_store(response.headers_mut());
            response
        }
        Err(err) => err.into_response(),
    }
}

/// The token endpoint's form and client authentication as its handler reads
/// them, up to the core's call (fuzz targets, `fuzz/`).
#[cfg(feature = "fuzzing")]
pub(crate) async fn fuzz_read(
    headers: &axum::http::HeaderMap,
    body: bytes::Bytes,
) -> Result<(), axum::response::Response> {
    use axum::response::IntoResponse;
    let form =
        form::Form::read(headers, axum::body::Body::from(body)).await.map_err(IntoResponse::into_response)?;
    client_auth::fuzz_presented(headers, &form).map_err(IntoResponse::into_response)
}
