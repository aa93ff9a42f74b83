//! Small HTTP helpers shared by the contracts: media types, bounded body
//! reading, and the headers every token response carries.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::task::Poll;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes, HttpBody as _};
use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA};
use axum::http::{HeaderMap, HeaderValue};
use http_body_util::BodyExt as _;
use tollgate_core::{Contract, LoginContext};

/// The TCP peer of a connection, put on each of its requests by the server.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

/// Put on each request of a connection that came over TLS.
#[derive(Debug, Clone, Copy)]
pub struct OverTls;

/// What the core learns about a login besides its credentials.
pub(crate) fn login_context(state: &crate::AppState, request: &Request, contract: Contract) -> LoginContext {
    LoginContext::new(contract, client_address(state, request))
}

/// `context` with the request's body and media type kept, when logins of
/// its contract may be forwarded to a legacy service (lazy migration); as
/// it is otherwise, at no cost.
pub(crate) fn forwardable(
    state: &crate::AppState,
    context: LoginContext,
    headers: &HeaderMap,
    body: Bytes,
) -> LoginContext {
    if !state.service.forwards(context.contract) {
        return context;
    }
    let content_type =
        single(headers, &CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let content_type = content_type.to_owned();
    context.forwarding(body, content_type)
}

/// The client's address: the TCP peer, or — when the peer is a trusted
/// proxy — the nearest `X-Forwarded-For` hop that is not one (walking from
/// the right, as each proxy appends the address it saw). A client can write
/// anything into the header; only hops added by trusted proxies count.
pub(crate) fn client_address(state: &crate::AppState, request: &Request) -> Option<std::net::IpAddr> {
    client_address_of(state, request.extensions(), request.headers())
}

/// [`client_address`] from a request's parts.
pub(crate) fn client_address_of(
    state: &crate::AppState,
    extensions: &axum::http::Extensions,
    headers: &HeaderMap,
) -> Option<std::net::IpAddr> {
    let peer = extensions.get::<PeerAddr>()?.0.ip();
    if !state.is_trusted_proxy(peer) {
        return Some(peer);
    }
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    let mut nearest = peer;
    for hop in hops.iter().rev() {
        // A hop that is not an address cannot be told: stop at the last
        // address a trusted proxy vouched for.
        let Ok(address) = hop.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>()
        else {
            break;
        };
        nearest = address;
        if !state.is_trusted_proxy(address) {
            break;
        }
    }
    Some(nearest)
}

/// Logs a failure inside (a database down, a full disk) that a request was
/// answered 500 for: at most one line a second per place, saying how many
/// were left out, so that a failing database does not flood the log at the
/// rate requests arrive.
pub(crate) fn log_failure(place: &'static str, err: &(dyn std::error::Error + 'static)) {
    static LAST: Mutex<Vec<(&'static str, Instant, u64)>> = Mutex::new(Vec::new());
    let now = Instant::now();
    let Ok(mut last) = LAST.lock() else { return };
    let at = match last.iter().position(|(seen, _, _)| *seen == place) {
        Some(at) => at,
        None => {
            last.push((place, now - Duration::from_secs(2), 0));
            last.len() - 1
        }
    };
    let (_, logged, skipped) = &mut last[at];
    if now.duration_since(*logged) < Duration::from_secs(1) {
        *skipped += 1;
        return;
    }
    let left_out = std::mem::take(skipped);
    *logged = now;
    drop(last);
    tracing::error!(error = %tollgate_core::error::report(err), left_out, "{place} failed inside");
}

/// Largest request body any login contract reads. Credentials are short;
/// anything bigger is refused before it is parsed.
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;

/// The one value of header `name`, or `None` if it is absent or sent more
/// than once: two lines are ambiguous (the first winning for us and the last
/// for a proxy is how requests get smuggled), so they count as none.
pub(crate) fn single<'h>(headers: &'h HeaderMap, name: &axum::http::HeaderName) -> Option<&'h HeaderValue> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?;
    values.next().is_none().then_some(value)
}

/// Whether header `name` was sent more than once.
pub(crate) fn repeated(headers: &HeaderMap, name: &axum::http::HeaderName) -> bool {
    headers.get_all(name).iter().nth(1).is_some()
}

/// The media type of `Content-Type`, lower-cased, without parameters
/// (`application/json; charset=utf-8` → `application/json`); `None` when
/// absent or sent twice (the contract's media-type error).
pub(crate) fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = single(headers, &CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next()?.trim();
    (!essence.is_empty()).then(|| essence.to_ascii_lowercase())
}

/// The `charset` parameter of `Content-Type`, lower-cased, if any.
pub(crate) fn charset(headers: &HeaderMap) -> Option<String> {
    let value = single(headers, &CONTENT_TYPE)?.to_str().ok()?;
    value.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"').to_ascii_lowercase())
    })
}

/// A request's headers and body, taken apart. Handlers take the whole
/// request instead of axum's `HeaderMap` extractor, which copies every header.
pub(crate) fn headers_and_body(request: Request) -> (HeaderMap, Body) {
    let (parts, body) = request.into_parts();
    (parts.headers, body)
}

/// How long a client may take to send a request's body once its headers are
/// in. A client that stalls (or trickles bytes) then gets the contract's 4xx
/// and the connection is closed, instead of holding it open forever.
pub(crate) const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a request body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// Larger than the limit.
    TooLarge,
    /// The client broke off, or did not finish within [`BODY_READ_TIMEOUT`].
    Incomplete,
}

/// Reads the whole body, refusing more than [`MAX_BODY_BYTES`] and waiting at
/// most [`BODY_READ_TIMEOUT`] for it.
pub(crate) async fn read_body(body: Body) -> Result<Bytes, BodyError> {
    read_body_up_to(body, MAX_BODY_BYTES).await
}

/// [`read_body`] with a limit of `max_bytes`.
pub(crate) async fn read_body_up_to(body: Body, max_bytes: usize) -> Result<Bytes, BodyError> {
    // A declared Content-Length over the limit is refused before waiting
    // for bytes that would be refused anyway.
    if body.size_hint().lower() > max_bytes as u64 {
        return Err(BodyError::TooLarge);
    }
    let mut collect = std::pin::pin!(http_body_util::Limited::new(body, max_bytes).collect());
    // Login bodies nearly always arrive with their headers: those are read
    // without arming a timer.
    let first = std::future::poll_fn(|cx| Poll::Ready(collect.as_mut().poll(cx))).await;
    let collected = match first {
        Poll::Ready(collected) => collected,
        Poll::Pending => match tokio::time::timeout(BODY_READ_TIMEOUT, collect).await {
            Ok(collected) => collected,
            Err(_) => return Err(BodyError::Incomplete),
        },
    };
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => Err(BodyError::TooLarge),
        Err(_) => Err(BodyError::Incomplete),
    }
}

/// What every contract says when an address has failed too often
/// (DESIGN.md §9).
pub(crate) const TOO_MANY_REQUESTS: &str = "Too many requests. Please try again later.";

/// `Retry-After: <whole seconds>` (at least 1).
pub(crate) fn retry_after(headers: &mut HeaderMap, after: Duration) {
    let seconds = after.as_secs().max(1);
    headers.insert(axum::http::header::RETRY_AFTER, HeaderValue::from(seconds));
}

/// Token responses must not be cached by anyone (RFC 6749 §5.1).
pub(crate) fn no_store(headers: &mut HeaderMap) {
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
}

pub(crate) const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Body text in the charset the request declares: UTF-8 (and its ASCII
/// subset) by default, ISO-8859-1 and UTF-16 when named. `None` if the bytes
/// cannot be read so.
pub(crate) fn decode_text(bytes: &[u8], charset: Option<&str>) -> Option<String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match charset {
        Some("iso-8859-1" | "latin1" | "latin-1" | "l1" | "iso_8859-1") => {
            Some(bytes.iter().map(|&b| char::from(b)).collect())
        }
        Some("utf-16" | "utf-16le" | "utf-16be" | "unicode") => {
            let big_endian = charset == Some("utf-16be") || bytes.starts_with(&[0xFE, 0xFF]);
            let bytes = bytes
                .strip_prefix(&[0xFF, 0xFE])
                .or_else(|| bytes.strip_prefix(&[0xFE, 0xFF]))
                .unwrap_or(bytes);
            if !bytes.len().is_multiple_of(2) {
                return None;
            }
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|pair| {
                    if big_endian {
                        u16::from_be_bytes([pair[0], pair[1]])
                    } else {
                        u16::from_le_bytes([pair[0], pair[1]])
                    }
                })
                .collect();
            String::from_utf16(&units).ok()
        }
        // UTF-8, ASCII, or a charset we do not know: read as UTF-8, which is
        // right for every ASCII body.
        _ => String::from_utf8(bytes.to_vec()).ok(),
    }
}

/// Replaces `\uD800`-style escapes of unpaired UTF-16 surrogates with
/// `\uFFFD`, so that JSON JavaScript parsers accept (as `JSON.parse` does)
/// also parses here instead of failing as "not JSON".
pub(crate) fn replace_lone_surrogates(json: &str) -> std::borrow::Cow<'_, str> {
    fn escape_at(bytes: &[u8], i: usize) -> Option<u16> {
        let hex = bytes.get(i + 2..i + 6)?;
        if bytes.get(i) != Some(&b'\\') || bytes.get(i + 1) != Some(&b'u') {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
    }
    if !json.contains("\\u") {
        return std::borrow::Cow::Borrowed(json);
    }
    let bytes = json.as_bytes();
    let mut out = String::with_capacity(json.len());
    let mut i = 0;
    let mut backslashes = 0usize;
    while i < bytes.len() {
        if backslashes.is_multiple_of(2)
            && let Some(unit) = escape_at(bytes, i)
        {
            let lone = match unit {
                0xD800..=0xDBFF => !matches!(escape_at(bytes, i + 6), Some(0xDC00..=0xDFFF)),
                0xDC00..=0xDFFF => true,
                _ => false,
            };
            let paired_high = matches!(unit, 0xD800..=0xDBFF) && !lone;
            let take = if paired_high { 12 } else { 6 };
            out.push_str(if lone { "\\uFFFD" } else { &json[i..i + take] });
            i += take;
            backslashes = 0;
            continue;
        }
        let c = json[i..].chars().next().unwrap_or('\0');
        backslashes = if c == '\\' { backslashes + 1 } else { 0 };
        out.push(c);
        i += c.len_utf8();
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_surrogates_become_replacement_characters_and_pairs_stay() {
        assert_eq!(replace_lone_surrogates(r#"{"a":"\ud800"}"#), r#"{"a":"\uFFFD"}"#);
        assert_eq!(replace_lone_surrogates(r#"{"a":"\udc00x"}"#), r#"{"a":"\uFFFDx"}"#);
        assert_eq!(replace_lone_surrogates(r#"{"a":"\ud83d\ude00"}"#), r#"{"a":"\ud83d\ude00"}"#);
        assert_eq!(replace_lone_surrogates(r#"{"a":"\\ud800"}"#), r#"{"a":"\\ud800"}"#);
        assert_eq!(replace_lone_surrogates(r#"{"a":"é\u0041"}"#), r#"{"a":"é\u0041"}"#);
    }

    #[test]
    fn declared_charsets_are_decoded() {
        assert_eq!(decode_text(b"caf\xe9", Some("iso-8859-1")).as_deref(), Some("café"));
        assert_eq!(decode_text(&[0xFF, 0xFE, b'a', 0], Some("utf-16")).as_deref(), Some("a"));
        assert_eq!(decode_text(b"\xEF\xBB\xBFok", None).as_deref(), Some("ok"));
        assert_eq!(decode_text(b"\xff", Some("utf-8")), None);
    }
}
