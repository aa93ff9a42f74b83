//! `GET /auth/verify`: forward authentication for nginx `auth_request`,
//! Traefik `forwardAuth` and Envoy `ext_authz`.
//!
//! Gateways treat any status other than 2xx, 401 and 403 as a server error,
//! so this answers 200, 401 or 403 and nothing else, whatever it is sent; a
//! database failure fails closed (401). Tokens are read from the
//! `Authorization` header only, never from the URL.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tollgate_core::time_util::rfc3339_utc;
use tollgate_core::{Identity, VerifyError};

use crate::AppState;
use crate::metrics::record_verify;

/// Where gateways ask (any method, and any path below: Envoy's HTTP
/// ext_authz keeps the original method and appends the original path).
pub const VERIFY_PATH: &str = "/auth/verify";

pub(crate) async fn verify(State(state): State<AppState>, request: Request) -> Response {
    let started = Instant::now();
    let token = match bearer_token(request.headers()) {
        Bearer::Absent => {
            record_verify("missing", started);
            return unauthorized("Bearer");
        }
        Bearer::Malformed => {
            record_verify("malformed", started);
            return invalid_token();
        }
        Bearer::Token(token) => token,
    };
    let identity = match state.service.verify_bearer(token).await {
        Ok(identity) => identity,
        Err(err) => {
            if let VerifyError::Store(err) = &err {
                crate::http_util::log_failure("token check (the token was refused)", err);
            }
            record_verify(reason(&err), started);
            return invalid_token();
        }
    };
    let missing_role =
        required_roles(request.uri().query()).find(|role| !identity.roles.iter().any(|r| r == role));
    if missing_role.is_some() {
        record_verify("forbidden", started);
        let challenge = HeaderValue::from_static(r#"Bearer error="insufficient_scope""#);
        return (
            StatusCode::FORBIDDEN,
            [(WWW_AUTHENTICATE, challenge), (CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        )
            .into_response();
    }
    record_verify("valid", started);
    identity_response(&identity)
}

pub(crate) enum Bearer<'a> {
    Absent,
    Malformed,
    Token(&'a str),
}

/// The token of `Authorization: Bearer <token>` (RFC 6750 §2.1). Another
/// scheme counts as no bearer token at all.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Bearer<'_> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Bearer::Absent;
    };
    // Two lines, equal or not, are ambiguous: refused, never picked from.
    if crate::http_util::repeated(headers, &AUTHORIZATION) {
        return Bearer::Malformed;
    }
    // What `HeaderValue::to_str` accepts (visible ASCII and tabs), checked
    // in one branch-free pass instead of its byte-by-byte loop.
    let visible = |b: u8| (b == b'\t') | (0x20..0x7f).contains(&b);
    let bytes = value.as_bytes();
    let Some(value) =
        bytes.iter().fold(true, |ok, &b| ok & visible(b)).then(|| std::str::from_utf8(bytes).ok()).flatten()
    else {
        return Bearer::Malformed;
    };
    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Bearer::Absent;
    }
    let token = token.trim();
    // RFC 6750's b64token, in one branch-free pass (JWTs are long).
    let b64token = |b: u8| b.is_ascii_alphanumeric() | matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
    let body = token.trim_end_matches('=');
    if body.is_empty() || !body.bytes().fold(true, |ok, b| ok & b64token(b)) || token.len() > 8192 {
        return Bearer::Malformed;
    }
    Bearer::Token(token)
}

/// Every `role` the caller asked for in `?role=R` (repeatable; all required).
fn required_roles(query: Option<&str>) -> impl Iterator<Item = String> + '_ {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .filter(|(key, _)| key == "role")
        .map(|(_, value)| value.into_owned())
        .filter(|role| !role.is_empty())
}

fn reason(err: &VerifyError) -> &'static str {
    match err {
        VerifyError::Unknown => "unknown",
        VerifyError::Invalid(_) | VerifyError::ClaimsMismatch | VerifyError::TimeClaims(_) => "invalid",
        VerifyError::Expired => "expired",
        VerifyError::Revoked => "revoked",
        VerifyError::PrincipalDisabled => "disabled",
        VerifyError::Store(_) => "error",
    }
}

fn unauthorized(challenge: &'static str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [
            (WWW_AUTHENTICATE, HeaderValue::from_static(challenge)),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response()
}

fn invalid_token() -> Response {
    unauthorized(r#"Bearer error="invalid_token""#)
}

const X_AUTH_SUBJECT: HeaderName = HeaderName::from_static("x-auth-subject");
const X_AUTH_NAME: HeaderName = HeaderName::from_static("x-auth-name");
const X_AUTH_ROLES: HeaderName = HeaderName::from_static("x-auth-roles");
const X_AUTH_REALM: HeaderName = HeaderName::from_static("x-auth-realm");
const X_AUTH_EXPIRES: HeaderName = HeaderName::from_static("x-auth-expires");

fn identity_response(identity: &Identity) -> Response {
    let mut headers = HeaderMap::with_capacity(8);
    let mut put = |name: HeaderName, value: &str| {
        // Non-ASCII text (a name in NFC, `café`) travels as its UTF-8 bytes,
        // which HTTP allows in field values; names hold no control character
        // (refused when created), so this only skips what cannot be a header.
        if let Ok(value) = HeaderValue::from_bytes(value.as_bytes()) {
            headers.insert(name, value);
        }
    };
    put(X_AUTH_SUBJECT, identity.principal_id.0.hyphenated().encode_lower(&mut uuid::Uuid::encode_buffer()));
    put(X_AUTH_NAME, &identity.name);
    put(X_AUTH_ROLES, &identity.roles.join(","));
    // Present, empty, when the principal has no realm (as roles are): a
    // gateway copying the five headers finds each one.
    put(X_AUTH_REALM, identity.realm.as_deref().unwrap_or(""));
    // One shape for every token kind: RFC 3339, UTC, milliseconds.
    put(X_AUTH_EXPIRES, &rfc3339_utc(identity.expires_at, 3));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    (StatusCode::OK, headers).into_response()
}
