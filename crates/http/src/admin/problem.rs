//! The admin API's errors: RFC 9457 `application/problem+json`, mapped from
//! the core's `AdminError` here and nowhere else.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tollgate_core::admin::AdminError;
use utoipa::ToSchema;

pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

/// One member of a request that is wrong.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    /// A JSON Pointer (RFC 6901) to the member in the body (`/name`), or to
    /// the query parameter (`/limit`).
    pub pointer: String,
    pub detail: String,
}

/// An RFC 9457 problem. `type` is `about:blank`: the status says what kind
/// of problem it is, `detail` says what went wrong this time.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    #[schema(example = "about:blank")]
    pub kind: &'static str,
    /// The status's reason phrase.
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// What is wrong, member by member (400 only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    #[serde(skip)]
    challenge: Option<&'static str>,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: detail.into(),
            errors: None,
            challenge: None,
        }
    }

    /// 400 naming the member that is wrong.
    pub fn invalid(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        let errors = vec![FieldError { pointer: pointer.into(), detail: detail.clone() }];
        Self { errors: Some(errors), ..Self::new(StatusCode::BAD_REQUEST, detail) }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    /// 401: no token, or one that is not good.
    pub fn unauthorized(challenge: &'static str) -> Self {
        Self {
            challenge: Some(challenge),
            ..Self::new(StatusCode::UNAUTHORIZED, "A valid bearer token of an administrator is required.")
        }
    }

    pub fn forbidden(role: &str) -> Self {
        Self {
            challenge: Some(r#"Bearer error="insufficient_scope""#),
            ..Self::new(
                StatusCode::FORBIDDEN,
                format!("The token's principal does not hold the role {role:?}."),
            )
        }
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The request could not be completed; see the server log.",
        )
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(challenge) = self.challenge {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        response
    }
}

impl From<AdminError> for Problem {
    fn from(err: AdminError) -> Self {
        match err {
            AdminError::Invalid(detail) => {
                Self { errors: Some(Vec::new()), ..Self::new(StatusCode::BAD_REQUEST, detail) }
            }
            AdminError::InvalidField { field, message } => Self::invalid(format!("/{field}"), message),
            AdminError::NoSuchPrincipal(_) | AdminError::NoSuchKey(_) => Self::not_found(err.to_string()),
            AdminError::NameTaken(_)
            | AdminError::IdTaken(_)
            | AdminError::RevokedIsFinal
            | AdminError::Unsupported(_) => Self::new(StatusCode::CONFLICT, err.to_string()),
            AdminError::Store(tollgate_core::StoreError::Unavailable(_)) => {
                crate::http_util::log_failure("admin request", &err);
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "The database cannot be reached; try again.")
            }
            AdminError::Hashing(_)
            | AdminError::KeyGeneration(_)
            | AdminError::Keys(_)
            | AdminError::Signing(_)
            | AdminError::Task(_)
            | AdminError::Store(_) => {
                crate::http_util::log_failure("admin request", &err);
                Self::internal()
            }
        }
    }
}
