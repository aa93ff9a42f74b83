//! Contract B's errors and their one mapping to the wire:
//! `{"Result":{"ErrorNumber":N,"Description":"..."}}` or the same as XML, in
//! the negotiated format. Descriptions are the document's own words.

use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use tollgate_core::LoginError;

use super::negotiate::Format;
use super::{json, xml};
use crate::metrics::Outcome;

#[derive(Debug)]
pub(super) enum ApiKeyLoginError {
    /// 415: not `application/json`, `application/xml` or `text/xml` (or a
    /// charset other than UTF-8).
    UnsupportedMediaType,
    /// 400 / 1002: a parameter missing or empty, or the body cannot be bound.
    BadRequest,
    /// 401 / 1003: unknown login, or a key that is not this login's.
    UnknownCredentials,
    /// 401 / 1004: not base64 of 16 bytes, or a revoked or expired key.
    InvalidKey,
    /// 503: overloaded.
    Overloaded,
    /// 429: too many failed logins from this address.
    RateLimited(std::time::Duration),
    /// 500: the database or something else inside failed.
    Internal,
}

impl From<LoginError> for ApiKeyLoginError {
    fn from(err: LoginError) -> Self {
        match err {
            LoginError::BadCredentials => Self::UnknownCredentials,
            LoginError::MalformedKey | LoginError::KeyNotUsable => Self::InvalidKey,
            LoginError::Overloaded => Self::Overloaded,
            LoginError::RateLimited { retry_after } => Self::RateLimited(retry_after),
            err @ (LoginError::Store(_)
            | LoginError::PasswordPool
            | LoginError::Signing(_)
            | LoginError::Upstream(_)) => {
                crate::http_util::log_failure("apikey login", &err);
                Self::Internal
            }
        }
    }
}

impl ApiKeyLoginError {
    pub(super) fn outcome(&self) -> Outcome {
        match self {
            Self::UnsupportedMediaType | Self::BadRequest => Outcome::InvalidRequest,
            Self::UnknownCredentials | Self::InvalidKey => Outcome::BadCredentials,
            Self::Overloaded => Outcome::Overloaded,
            Self::RateLimited(_) => Outcome::RateLimited,
            Self::Internal => Outcome::Error,
        }
    }

    pub(super) fn status(&self) -> StatusCode {
        match self {
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::UnknownCredentials | Self::InvalidKey => StatusCode::UNAUTHORIZED,
            Self::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn number_and_description(&self) -> (u16, &'static str) {
        match self {
            Self::UnsupportedMediaType => (
                415,
                "The request entity has a media type which the server or resource does not support. \
                 Only application/json and application/xml are supported",
            ),
            Self::BadRequest => (1002, "Entry parameter missing or parameter bindigs failed"),
            Self::UnknownCredentials => (1003, "UserLogin or ApiKey are unknown"),
            Self::InvalidKey => (1004, "ApiKey is invalid"),
            Self::Overloaded => (503, "Service overloaded. Please try again later."),
            Self::RateLimited(_) => (429, crate::http_util::TOO_MANY_REQUESTS),
            Self::Internal => (500, "Internal server error. Please try again later."),
        }
    }

    pub(super) fn render(&self, format: Format) -> String {
        let (number, description) = self.number_and_description();
        match format {
            Format::Json => json::render_error(number, description),
            Format::Xml(_) => xml::render_error(number, description),
        }
    }

    pub(super) fn add_headers(&self, headers: &mut HeaderMap) {
        match self {
            Self::Overloaded => {
                headers.insert(RETRY_AFTER, HeaderValue::from_static("1"));
            }
            Self::RateLimited(after) => crate::http_util::retry_after(headers, *after),
            _ => {}
        }
    }
}
