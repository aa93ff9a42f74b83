//! Contract A's wire format: what a request must look like, checked in the
//! document's order (111 → 110 → 1005), and the success body.

use axum::body::Body;
use axum::http::HeaderMap;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use tollgate_core::SessionTokens;
use tollgate_core::secret::{Password, PlainToken};

use super::error::LoginCheckError;
use crate::http_util::{media_type, read_body};
use crate::json_body::{Member, TopLevel, read_top_level};

/// How deeply the body may nest before it counts as not JSON (110).
const MAX_DEPTH: usize = 128;

pub(super) struct LoginCheckRequest {
    pub username: String,
    pub password: Password,
    /// The body as it came (lazy migration forwards it).
    pub raw: axum::body::Bytes,
}

pub(super) struct RefreshRequest {
    pub refresh_token: PlainToken,
}

/// Checks the media type (111) and reads a JSON object (110).
async fn json_object(
    headers: &HeaderMap,
    body: Body,
) -> Result<(TopLevel, axum::body::Bytes), LoginCheckError> {
    if media_type(headers).as_deref() != Some("application/json") {
        return Err(LoginCheckError::ContentType);
    }
    let bytes = read_body(body).await.map_err(|_| LoginCheckError::InvalidJson)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| LoginCheckError::InvalidJson)?;
    match read_top_level(text, Some(MAX_DEPTH)) {
        Ok(object @ TopLevel::Object(_)) => Ok((object, bytes)),
        _ => Err(LoginCheckError::InvalidJson),
    }
}

/// A required, non-empty string field (1005 otherwise).
fn required_string(object: &TopLevel, field: &str) -> Result<String, LoginCheckError> {
    match object.member(field) {
        Some(Member::Text(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(LoginCheckError::MissingCredentials),
    }
}

impl LoginCheckRequest {
    pub(super) async fn parse(headers: &HeaderMap, body: Body) -> Result<Self, LoginCheckError> {
        let (object, raw) = json_object(headers, body).await?;
        let username = required_string(&object, "username")?;
        let password = Password::new(required_string(&object, "password")?);
        Ok(Self { username, password, raw })
    }
}

impl RefreshRequest {
    pub(super) async fn parse(headers: &HeaderMap, body: Body) -> Result<Self, LoginCheckError> {
        let (object, _) = json_object(headers, body).await?;
        Ok(Self { refresh_token: PlainToken::new(required_string(&object, "refresh_token")?) })
    }
}

/// `{"date": ..., "token": ..., "refresh_token": ...}`, in that order.
#[derive(Serialize)]
pub(super) struct SessionResponse<'a> {
    date: String,
    token: &'a str,
    refresh_token: &'a str,
}

impl<'a> SessionResponse<'a> {
    pub(super) fn of(tokens: &'a SessionTokens) -> Self {
        // RFC 3339 in UTC, whole seconds: "2026-11-24T14:16:52Z".
        let date = tokens.issued_at.replace_nanosecond(0).unwrap_or(tokens.issued_at);
        Self {
            date: date.format(&Rfc3339).unwrap_or_default(),
            token: tokens.token.expose(),
            refresh_token: tokens.refresh_token.expose(),
        }
    }
}
