//! Cross-site request forgery: every state-changing request must come from
//! a page of the portal itself. Two independent checks, both required:
//!
//! - the browser's own word: `Sec-Fetch-Site` must be `same-origin` (or
//!   `none`, a request the user typed), and an `Origin` header, when sent,
//!   must name this host. Pages say `Referrer-Policy: no-referrer`, under
//!   which browsers send `Origin: null` even for the portal's own forms:
//!   `null` passes only beside `Sec-Fetch-Site: same-origin`, a header no
//!   page can forge;
//! - a synchronizer token: the session's form token (an HMAC of the
//!   session id, see `tollgate_core::portal`) in a hidden form field or the
//!   `X-CSRF-Token` header htmx sends, compared in constant time.
//!
//! `SameSite=Strict` on the session cookie is a third line: another site's
//! request carries no session at all.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{HOST, ORIGIN};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName};
use tollgate_core::portal::PortalSessions;

use super::page::PortalError;
use super::session::Admin;
use crate::AppState;

/// The header htmx sends the form token in (`hx-headers` on `<body>`).
pub(super) const TOKEN_HEADER: &str = "x-csrf-token";

/// The hidden form field that carries the form token.
pub(super) const TOKEN_FIELD: &str = "csrf";

/// Largest form the portal reads (its forms are small).
const MAX_FORM_BYTES: usize = 64 * 1024;

/// Refuses a request another site's page made the browser send.
pub(super) fn check_origin(parts: &Parts) -> Result<(), PortalError> {
    let headers = &parts.headers;
    let sec_fetch_site = HeaderName::from_static("sec-fetch-site");
    if crate::http_util::repeated(headers, &sec_fetch_site) || crate::http_util::repeated(headers, &ORIGIN) {
        return Err(PortalError::Refused("ambiguous Sec-Fetch-Site or Origin"));
    }
    let site = headers.get(&sec_fetch_site).map(|site| site.as_bytes());
    // `same-site` is refused too: a sibling subdomain is another origin.
    if site.is_some_and(|site| !matches!(site, b"same-origin" | b"none")) {
        return Err(PortalError::Refused("Sec-Fetch-Site is not same-origin"));
    }
    let origin = headers
        .get(ORIGIN)
        .filter(|origin| !(origin.as_bytes() == b"null" && site == Some(b"same-origin".as_slice())));
    if let Some(origin) = origin {
        let origin = origin.to_str().map_err(|_| PortalError::Refused("unreadable Origin"))?;
        let authority = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .ok_or(PortalError::Refused("Origin is not an HTTP origin"))?;
        // HTTP/2 names the host in `:authority`, HTTP/1.1 in `Host`.
        let host = headers
            .get(HOST)
            .and_then(|host| host.to_str().ok())
            .or_else(|| parts.uri.authority().map(|authority| authority.as_str()));
        if !host.is_some_and(|host| host.eq_ignore_ascii_case(authority)) {
            return Err(PortalError::Refused("Origin does not match Host"));
        }
    }
    Ok(())
}

/// Refuses a request without the session's form token.
pub(super) fn check_token(expected: &str, headers: &HeaderMap, form: &FormFields) -> Result<(), PortalError> {
    let presented = headers
        .get(TOKEN_HEADER)
        .and_then(|value| value.to_str().ok())
        .or_else(|| form.get(TOKEN_FIELD))
        .unwrap_or_default();
    if PortalSessions::tokens_match(expected, presented) {
        Ok(())
    } else {
        Err(PortalError::Refused("missing or wrong form token"))
    }
}

/// A form's fields (`application/x-www-form-urlencoded`), each name's first
/// value.
#[derive(Debug, Default)]
pub(super) struct FormFields(Vec<(String, String)>);

impl FormFields {
    pub fn parse(bytes: &[u8]) -> Self {
        Self(form_urlencoded::parse(bytes).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }

    /// A field's value, if sent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// A field's value, or empty.
    pub fn text(&self, name: &str) -> &str {
        self.get(name).unwrap_or_default()
    }
}

/// A URL's query parameters are read the same way (first value wins).
impl FromRequestParts<AppState> for FormFields {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self::parse(parts.uri.query().unwrap_or_default().as_bytes()))
    }
}

/// Reads a request's form body (bounded).
pub(super) async fn read_form(body: axum::body::Body) -> Result<FormFields, PortalError> {
    match crate::http_util::read_body_up_to(body, MAX_FORM_BYTES).await {
        Ok(bytes) => Ok(FormFields::parse(&bytes)),
        Err(crate::http_util::BodyError::TooLarge) => {
            Err(PortalError::BadRequest("The form is too large.".into()))
        }
        Err(crate::http_util::BodyError::Incomplete) => {
            Err(PortalError::BadRequest("The form did not arrive whole; try again.".into()))
        }
    }
}

/// A state-changing request of a signed-in administrator, checked: from
/// the portal's own page (origin and token), with its form read.
pub(super) struct Action {
    pub admin: Admin,
    pub form: FormFields,
}

impl FromRequest<AppState> for Action {
    type Rejection = PortalError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, PortalError> {
        let (mut parts, body) = request.into_parts();
        // The browser's word first: it costs no database work.
        check_origin(&parts)?;
        let admin = Admin::from_request_parts(&mut parts, state).await?;
        let form = read_form(body).await?;
        check_token(&admin.form_token, &parts.headers, &form)?;
        Ok(Action { admin, form })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&'static str, &'static str)]) -> Parts {
        let mut request = axum::http::Request::builder().method("POST").uri("/principals");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).expect("a request").into_parts().0
    }

    #[test]
    fn same_origin_requests_pass_and_cross_site_ones_do_not() {
        let host = ("host", "127.0.0.1:8081");
        assert!(check_origin(&parts(&[host])).is_ok(), "no header: older browsers, tests");
        assert!(check_origin(&parts(&[host, ("origin", "http://127.0.0.1:8081")])).is_ok());
        assert!(check_origin(&parts(&[host, ("sec-fetch-site", "same-origin")])).is_ok());
        // What a browser sends for the portal's own form under no-referrer.
        assert!(check_origin(&parts(&[host, ("sec-fetch-site", "same-origin"), ("origin", "null")])).is_ok());
        for refused in [
            vec![host, ("origin", "http://evil.example")],
            vec![host, ("origin", "null")],
            vec![host, ("origin", "http://127.0.0.1:8082")],
            vec![host, ("sec-fetch-site", "cross-site")],
            vec![host, ("sec-fetch-site", "same-site")],
            vec![host, ("sec-fetch-site", "none"), ("origin", "null")],
            vec![host, ("sec-fetch-site", "same-origin"), ("origin", "http://evil.example")],
            vec![("origin", "http://127.0.0.1:8081")],
        ] {
            assert!(check_origin(&parts(&refused)).is_err(), "{refused:?}");
        }
    }

    #[test]
    fn the_token_comes_from_the_header_or_the_form() {
        let form = FormFields::parse(b"csrf=abc&name=x");
        assert!(check_token("abc", &HeaderMap::new(), &form).is_ok());
        assert!(check_token("abd", &HeaderMap::new(), &form).is_err());
        assert!(check_token("abc", &HeaderMap::new(), &FormFields::default()).is_err());
        let mut headers = HeaderMap::new();
        headers.insert(TOKEN_HEADER, axum::http::HeaderValue::from_static("abc"));
        assert!(check_token("abc", &headers, &FormFields::default()).is_ok());
    }
}
