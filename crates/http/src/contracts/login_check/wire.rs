//! Contract A's wire format: what a request must look like, checked in the
//! document's order (111 → 110 → 1005), and the success body.

use axum::body::Body;
use axum::http::HeaderMap;
use serde::Serialize;
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use tollgate_core::SessionTokens;

use super::error::LoginCheckError;
use crate::http_util::{media_type, read_body};

pub(super) struct LoginCheckRequest {
    pub username: String,
    pub password: String,
}

pub(super) struct RefreshRequest {
    pub refresh_token: String,
}

/// Checks the media type (111) and reads a JSON object (110).
async fn json_object(headers: &HeaderMap, body: Body) -> Result<Map<String, Value>, LoginCheckError> {
    if media_type(headers).as_deref() != Some("application/json") {
        return Err(LoginCheckError::ContentType);
    }
    let bytes = read_body(body).await.map_err(|_| LoginCheckError::InvalidJson)?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(LoginCheckError::InvalidJson),
    }
}

/// A required, non-empty string field (1005 otherwise).
fn required_string(object: &mut Map<String, Value>, field: &str) -> Result<String, LoginCheckError> {
    match object.remove(field) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        _ => Err(LoginCheckError::MissingCredentials),
    }
}

impl LoginCheckRequest {
    pub(super) async fn parse(headers: &HeaderMap, body: Body) -> Result<Self, LoginCheckError> {
        let mut object = json_object(headers, body).await?;
        let username = required_string(&mut object, "username")?;
        let password = required_string(&mut object, "password")?;
        Ok(Self { username, password })
    }
}

impl RefreshRequest {
    pub(super) async fn parse(headers: &HeaderMap, body: Body) -> Result<Self, LoginCheckError> {
        let mut object = json_object(headers, body).await?;
        Ok(Self { refresh_token: required_string(&mut object, "refresh_token")? })
    }
}

/// `{"date": ..., "token": ..., "refresh_token": ...}`, in that order.
#[derive(Serialize)]
pub(super) struct SessionResponse {
    date: String,
    token: String,
    refresh_token: String,
}

impl From<SessionTokens> for SessionResponse {
    fn from(tokens: SessionTokens) -> Self {
        // RFC 3339 in UTC, whole seconds: "2026-11-24T14:16:52Z".
        let date = tokens.issued_at.replace_nanosecond(0).unwrap_or(tokens.issued_at);
        Self {
            date: date.format(&Rfc3339).unwrap_or_default(),
            token: tokens.token,
            refresh_token: tokens.refresh_token,
        }
    }
}
