//! The portal's session cookie, and who a request comes from: the signed-in
//! administrator ([`Admin`]), checked against the database at every
//! request (a disabled principal, or one that lost the admin role, is
//! signed out at its next click).

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use tollgate_core::AdminContext;
use tollgate_core::portal::PortalSessions;
use tollgate_core::secret::PortalSessionId;

use super::page::PortalError;
use crate::{AdminPlane, AppState};

/// The session cookie: `HttpOnly` (no script reads it), `SameSite=Strict`
/// (no other site's page sends it), `Secure` when the browser came over
/// TLS.
pub(super) const SESSION_COOKIE: &str = "tollgate_portal";

/// A cookie of the sign-in form, before there is a session: its token is
/// bound to it, so another site cannot sign a browser in under its own
/// account (login CSRF).
pub(super) const SIGN_IN_COOKIE: &str = "tollgate_portal_signin";

/// The value of cookie `name`, if the request carries it (the first, if
/// several: a browser sends the most specific first).
pub(super) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// Whether the browser reached us over TLS: the admin listener's own
/// (`[admin] tls_cert`), or a TLS-terminating proxy listed in
/// `[protection] trusted_proxies` saying `X-Forwarded-Proto: https`.
pub(super) fn over_tls(state: &AppState, parts: &Parts) -> bool {
    if parts.extensions.get::<crate::OverTls>().is_some() {
        return true;
    }
    let from_trusted_proxy =
        parts.extensions.get::<crate::PeerAddr>().is_some_and(|peer| state.is_trusted_proxy(peer.0.ip()));
    from_trusted_proxy
        && crate::http_util::single(&parts.headers, &axum::http::HeaderName::from_static("x-forwarded-proto"))
            .and_then(|value| value.to_str().ok())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value. `max_age`: seconds, `0` deletes the cookie.
pub(super) fn set_cookie(name: &str, value: &str, path: &str, max_age: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}");
    // Names, paths and values are ours (hex), always valid header text.
    HeaderValue::try_from(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Adds a `Set-Cookie` to `headers`.
pub(super) fn add_cookie(headers: &mut HeaderMap, cookie: HeaderValue) {
    headers.append(SET_COOKIE, cookie);
}

/// Whether htmx sent the request (`HX-Request: true`).
pub(super) fn from_htmx(headers: &HeaderMap) -> bool {
    headers.get("hx-request").is_some_and(|value| value.as_bytes() == b"true")
}

/// The management plane and its sessions, which the admin router is only
/// built with.
pub(super) fn plane(state: &AppState) -> Result<&AdminPlane, PortalError> {
    state
        .admin_plane()
        .ok_or_else(|| PortalError::Internal("the portal is served without a management plane".into()))
}

pub(super) fn sessions(state: &AppState) -> Result<&Arc<PortalSessions>, PortalError> {
    Ok(&plane(state)?.portal)
}

/// The signed-in administrator making a request.
pub(super) struct Admin {
    pub name: String,
    /// The session's form token (every form carries it).
    pub form_token: String,
    /// What the audit trail records: the admin's name and address.
    pub context: AdminContext,
    /// The session id, as the cookie holds it (never printed).
    pub session: PortalSessionId,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = PortalError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PortalError> {
        let htmx = from_htmx(&parts.headers);
        let Some(session) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(PortalError::SignInRequired { htmx, ended: false });
        };
        let Some(operator) = sessions(state)?.authenticate(session).await? else {
            return Err(PortalError::SignInRequired { htmx, ended: true });
        };
        let source = crate::http_util::client_address_of(state, &parts.extensions, &parts.headers);
        Ok(Admin {
            context: AdminContext::admin(operator.principal.name.clone(), source),
            name: operator.principal.name,
            form_token: operator.form_token,
            session: PortalSessionId::new(session),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers
            .insert(COOKIE, HeaderValue::from_static("a=1; tollgate_portal_signin=x; tollgate_portal=abc"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, SIGN_IN_COOKIE), Some("x"));
        assert_eq!(cookie(&headers, "b"), None);
        headers.insert(COOKIE, HeaderValue::from_static("tollgate_portal="));
        assert_eq!(cookie(&headers, SESSION_COOKIE), None);
    }

    #[test]
    fn session_cookies_are_http_only_and_strict() {
        let plain = set_cookie(SESSION_COOKIE, "ab", "/", 60, false);
        assert_eq!(plain, "tollgate_portal=ab; Path=/; Max-Age=60; HttpOnly; SameSite=Strict");
        let tls = set_cookie(SESSION_COOKIE, "ab", "/", 60, true);
        assert!(tls.to_str().unwrap_or_default().ends_with("; Secure"));
    }
}
