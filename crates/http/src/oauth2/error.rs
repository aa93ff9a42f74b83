//! OAuth 2.0 errors and their one mapping to the wire (RFC 6749 §5.2):
//! `{"error":"...","error_description":"..."}`.

use axum::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tollgate_core::{LoginError, StoreError};

#[derive(Debug)]
pub(super) enum OAuthError {
    /// 400 `invalid_request`: a parameter missing, repeated or malformed.
    InvalidRequest(&'static str),
    /// 401 `invalid_client` with a `WWW-Authenticate: Basic` challenge.
    InvalidClient,
    /// 400 `invalid_grant`: the refresh token is unknown, spent, expired or revoked.
    InvalidGrant,
    /// 400 `unsupported_grant_type`.
    UnsupportedGrantType,
    /// 503 `temporarily_unavailable`.
    Overloaded,
    /// 429 `too_many_requests`: too many failed logins from this address.
    RateLimited(std::time::Duration),
    /// 500 `server_error`.
    ServerError,
}

impl From<StoreError> for OAuthError {
    fn from(err: StoreError) -> Self {
        crate::http_util::log_failure("OAuth 2.0 request", &err);
        OAuthError::ServerError
    }
}

impl OAuthError {
    /// A failed client authentication: a failure inside stays a 500.
    pub(super) fn from_client_auth(err: LoginError) -> Self {
        Self::from_login(err, OAuthError::InvalidClient)
    }

    /// A failed refresh: a failure inside stays a 500.
    pub(super) fn from_grant(err: LoginError) -> Self {
        Self::from_login(err, OAuthError::InvalidGrant)
    }

    fn from_login(err: LoginError, refused: OAuthError) -> Self {
        match err {
            LoginError::Overloaded => OAuthError::Overloaded,
            LoginError::RateLimited { retry_after } => OAuthError::RateLimited(retry_after),
            LoginError::BadCredentials | LoginError::MalformedKey | LoginError::KeyNotUsable => refused,
            err @ (LoginError::Store(_)
            | LoginError::PasswordPool
            | LoginError::Signing(_)
            | LoginError::Upstream(_)) => {
                crate::http_util::log_failure("OAuth 2.0 request", &err);
                OAuthError::ServerError
            }
        }
    }
}

#[derive(Serialize)]
struct ErrorBody {
    error: &'static str,
    error_description: &'static str,
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let retry_after = match self {
            Self::RateLimited(after) => Some(after),
            _ => None,
        };
        let (status, error, description) = match self {
            Self::InvalidRequest(why) => (StatusCode::BAD_REQUEST, "invalid_request", why),
            Self::InvalidClient => {
                (StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed.")
            }
            Self::InvalidGrant => (
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "The refresh token is invalid, expired, revoked or already used.",
            ),
            Self::UnsupportedGrantType => (
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Supported grant types: client_credentials, refresh_token.",
            ),
            Self::RateLimited(_) => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_requests", crate::http_util::TOO_MANY_REQUESTS)
            }
            Self::Overloaded => (
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "Overloaded. Please try again later.",
            ),
            Self::ServerError => {
                (StatusCode::INTERNAL_SERVER_ERROR, "server_error", "Internal server error.")
            }
        };
        let body =
            serde_json::to_string(&ErrorBody { error, error_description: description }).unwrap_or_default();
        let mut response = (status, [(CONTENT_TYPE, crate::http_util::JSON)], body).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static(r#"Basic realm="tollgate""#));
        }
        if let Some(after) = retry_after {
            crate::http_util::retry_after(response.headers_mut(), after);
        }
        crate::http_util::no_store(response.headers_mut());
        response
    }
}
