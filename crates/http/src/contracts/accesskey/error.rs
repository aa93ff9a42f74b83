//! Contract C's errors and their one mapping to the wire (LoopBack style:
//! `{"statusCode":"Error","error":{…}}`).

use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tollgate_core::LoginError;

use super::schema::Detail;
use crate::metrics::Outcome;

#[derive(Debug)]
pub(super) enum AccessKeyLoginError {
    /// 415: the body is not declared as JSON.
    UnsupportedMediaType,
    /// 400: the body is not JSON.
    MalformedJson,
    /// 400: the body is larger than any login needs.
    TooLarge,
    /// 400: the body breaks the schema; one detail per violation.
    Schema(Vec<Detail>),
    /// 401: unknown key, wrong secret, key not active, holder disabled.
    Unauthorized,
    /// 503: overloaded.
    Overloaded,
    /// 429: too many failed logins from this address.
    RateLimited(std::time::Duration),
    /// 500: the database or something else inside failed.
    Internal,
}

impl From<LoginError> for AccessKeyLoginError {
    fn from(err: LoginError) -> Self {
        match err {
            LoginError::BadCredentials | LoginError::MalformedKey | LoginError::KeyNotUsable => {
                Self::Unauthorized
            }
            LoginError::Overloaded => Self::Overloaded,
            LoginError::RateLimited { retry_after } => Self::RateLimited(retry_after),
            err @ (LoginError::Store(_)
            | LoginError::PasswordPool
            | LoginError::Signing(_)
            | LoginError::Upstream(_)) => {
                crate::http_util::log_failure("accesskey login", &err);
                Self::Internal
            }
        }
    }
}

impl AccessKeyLoginError {
    pub(super) fn outcome(&self) -> Outcome {
        match self {
            Self::UnsupportedMediaType | Self::MalformedJson | Self::TooLarge | Self::Schema(_) => {
                Outcome::InvalidRequest
            }
            Self::Unauthorized => Outcome::BadCredentials,
            Self::Overloaded => Outcome::Overloaded,
            Self::RateLimited(_) => Outcome::RateLimited,
            Self::Internal => Outcome::Error,
        }
    }
}

const INVALID_BODY: &str = "The request body is invalid. See error object `details` property for more info";

/// `{"statusCode":"Error","error":{...}}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Envelope<E> {
    status_code: &'static str,
    error: E,
}

/// The 400 error: `name`, `message`, `details`, in that order.
#[derive(Serialize)]
struct FormatError<'a> {
    name: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a [Detail]>,
}

/// The 401 error: `message`, `name`, `code`, `details`, in the document's order.
#[derive(Serialize)]
struct AuthenticationError {
    message: &'static str,
    name: &'static str,
    code: &'static str,
    details: Reason,
}

#[derive(Serialize)]
struct Reason {
    reason: &'static str,
}

/// The 429 error: `message`, `name`, `code`, as the 401's.
#[derive(Serialize)]
struct TooManyRequests {
    message: &'static str,
    name: &'static str,
    code: &'static str,
}

/// Other errors: `name`, `message`.
#[derive(Serialize)]
struct PlainError {
    name: &'static str,
    message: &'static str,
}

fn json_response<E: Serialize>(status: StatusCode, error: E) -> Response {
    let body = serde_json::to_string(&Envelope { status_code: "Error", error }).unwrap_or_default();
    (status, [(CONTENT_TYPE, crate::http_util::JSON)], body).into_response()
}

impl IntoResponse for AccessKeyLoginError {
    fn into_response(self) -> Response {
        let format_error =
            |message, details| FormatError { name: "InvalidRequestFormatError", message, details };
        match self {
            Self::Schema(details) => {
                json_response(StatusCode::BAD_REQUEST, format_error(INVALID_BODY, Some(&details)))
            }
            Self::MalformedJson => json_response(
                StatusCode::BAD_REQUEST,
                format_error("The request body is not valid JSON.", None),
            ),
            Self::TooLarge => {
                json_response(StatusCode::BAD_REQUEST, format_error("The request body is too large.", None))
            }
            Self::UnsupportedMediaType => json_response(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                PlainError {
                    name: "UnsupportedMediaTypeError",
                    message: "Content-type must be application/json.",
                },
            ),
            Self::Unauthorized => json_response(
                StatusCode::UNAUTHORIZED,
                AuthenticationError {
                    message: "Service was unable to complete your request.",
                    name: "AuthenticationError",
                    code: "AuthenticationError",
                    details: Reason { reason: "AccessKeyUnauthorized" },
                },
            ),
            Self::Overloaded => {
                let mut response = json_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    PlainError {
                        name: "ServiceUnavailableError",
                        message: "Service overloaded. Please try again later.",
                    },
                );
                response.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static("1"));
                response
            }
            Self::RateLimited(after) => {
                let mut response = json_response(
                    StatusCode::TOO_MANY_REQUESTS,
                    TooManyRequests {
                        message: crate::http_util::TOO_MANY_REQUESTS,
                        name: "TooManyRequestsError",
                        code: "TooManyRequestsError",
                    },
                );
                crate::http_util::retry_after(response.headers_mut(), after);
                response
            }
            Self::Internal => json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                PlainError {
                    name: "InternalServerError",
                    message: "Service was unable to complete your request.",
                },
            ),
        }
    }
}
