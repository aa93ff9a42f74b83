//! Small HTTP helpers shared by the contracts: media types, bounded body
//! reading, and the headers every token response carries.

use axum::body::{Body, Bytes};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA};
use axum::http::{HeaderMap, HeaderValue};
use http_body_util::BodyExt as _;

/// Largest request body any login contract reads. Credentials are short;
/// anything bigger is refused before it is parsed.
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;

/// The media type of `Content-Type`, lower-cased, without parameters
/// (`application/json; charset=utf-8` → `application/json`).
pub(crate) fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next()?.trim();
    (!essence.is_empty()).then(|| essence.to_ascii_lowercase())
}

/// The `charset` parameter of `Content-Type`, lower-cased, if any.
pub(crate) fn charset(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    value.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"').to_ascii_lowercase())
    })
}

/// Reads the whole body, refusing more than [`MAX_BODY_BYTES`]. `None` if it
/// is too large or the client broke off.
pub(crate) async fn read_body(body: Body) -> Option<Bytes> {
    http_body_util::Limited::new(body, MAX_BODY_BYTES).collect().await.ok().map(|b| b.to_bytes())
}

/// Token responses must not be cached by anyone (RFC 6749 §5.1).
pub(crate) fn no_store(headers: &mut HeaderMap) {
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
}

pub(crate) const JSON: HeaderValue = HeaderValue::from_static("application/json");
