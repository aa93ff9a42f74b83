//! Contract A's errors and their one mapping to the wire:
//! `{"errors":[{"error":N,"message":"..."}]}`.

use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tollgate_core::LoginError;

use crate::metrics::Outcome;

#[derive(Debug)]
pub enum LoginCheckError {
    /// 400 / 111: the media type is not `application/json`.
    ContentType,
    /// 400 / 110: not JSON, not an object, or too large.
    InvalidJson,
    /// 400 / 1005: `username` or `password` missing, not a string, or empty.
    MissingCredentials,
    /// 401 / 1006: unknown user, wrong password or disabled user (one body).
    BadCredentials,
    /// 503: password verification is saturated; retry shortly.
    Overloaded,
    /// 429: too many failed logins from this address; retry after.
    RateLimited(std::time::Duration),
    /// 500: the database or something else inside failed.
    Internal,
}

impl LoginCheckError {
    pub(crate) fn outcome(&self) -> Outcome {
        match self {
            Self::ContentType | Self::InvalidJson | Self::MissingCredentials => Outcome::InvalidRequest,
            Self::BadCredentials => Outcome::BadCredentials,
            Self::Overloaded => Outcome::Overloaded,
            Self::RateLimited(_) => Outcome::RateLimited,
            Self::Internal => Outcome::Error,
        }
    }
}

impl From<LoginError> for LoginCheckError {
    fn from(err: LoginError) -> Self {
        match err {
            LoginError::BadCredentials | LoginError::MalformedKey | LoginError::KeyNotUsable => {
                Self::BadCredentials
            }
            LoginError::Overloaded => Self::Overloaded,
            LoginError::RateLimited { retry_after } => Self::RateLimited(retry_after),
            err @ (LoginError::Store(_)
            | LoginError::PasswordPool
            | LoginError::Signing(_)
            | LoginError::Upstream(_)) => {
                crate::http_util::log_failure("login_check", &err);
                Self::Internal
            }
        }
    }
}

#[derive(Serialize)]
struct ErrorList<'a> {
    errors: [ErrorEntry<'a>; 1],
}

/// Field order as in the document: `error`, then `message`.
#[derive(Serialize)]
struct ErrorEntry<'a> {
    error: u16,
    message: &'a str,
}

/// A response with this contract's error list holding one error.
pub fn error_list(status: StatusCode, code: u16, message: &str) -> Response {
    let body = ErrorList { errors: [ErrorEntry { error: code, message }] };
    (status, [(CONTENT_TYPE, crate::http_util::JSON)], serde_json::to_string(&body).unwrap_or_default())
        .into_response()
}

impl IntoResponse for LoginCheckError {
    fn into_response(self) -> Response {
        match self {
            Self::ContentType => {
                error_list(StatusCode::BAD_REQUEST, 111, "Invalid data format (Content-type).")
            }
            Self::InvalidJson => error_list(StatusCode::BAD_REQUEST, 110, "JSON is not valid."),
            Self::MissingCredentials => {
                error_list(StatusCode::BAD_REQUEST, 1005, "Invalid authorization data.")
            }
            Self::BadCredentials => error_list(StatusCode::UNAUTHORIZED, 1006, "Bad credentials."),
            Self::Overloaded => {
                let mut response = error_list(
                    StatusCode::SERVICE_UNAVAILABLE,
                    503,
                    "Service overloaded. Please try again later.",
                );
                response.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static("1"));
                response
            }
            Self::RateLimited(after) => {
                let mut response =
                    error_list(StatusCode::TOO_MANY_REQUESTS, 429, crate::http_util::TOO_MANY_REQUESTS);
                crate::http_util::retry_after(response.headers_mut(), after);
                response
            }
            Self::Internal => internal_error(),
        }
    }
}

/// 500 in this contract's format (also the fallback for panics).
pub fn internal_error() -> Response {
    error_list(
        StatusCode::INTERNAL_SERVER_ERROR,
        500,
        "Internal Server Error. Please try again later or contact support.",
    )
}
