//! What every portal page shares: the layout's data, rendering a template
//! into a response, the security headers, and the portal's errors (each an
//! HTML page, never a stack trace or a database message).

use askama::Template;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, REFERRER_POLICY, RETRY_AFTER,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;
use tollgate_core::admin::AdminError;

use super::assets::AssetUrls;
use super::session::Admin;

/// The policy every portal response carries: only the portal's own files,
/// no inline script or style, never inside a frame, forms only to itself.
pub(crate) const CSP: &str =
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// What the layout (`base.html`) shows around every page.
pub(super) struct Layout {
    pub title: String,
    /// Which section of the navigation is current (`overview`,
    /// `principals`, `signing-keys`, `audit`), or empty.
    pub section: &'static str,
    pub operator: Option<OperatorView>,
    /// What the last action did.
    pub notice: Option<String>,
    /// Why the last action did not happen.
    pub error: Option<String>,
    pub assets: AssetUrls,
}

/// The signed-in administrator, as the layout shows them.
pub(super) struct OperatorView {
    pub name: String,
    /// The session's form token: in every form, and in htmx's requests.
    pub form_token: String,
}

impl Layout {
    pub fn new(title: impl Into<String>, section: &'static str, admin: Option<&Admin>) -> Self {
        Self {
            title: title.into(),
            section,
            operator: admin
                .map(|admin| OperatorView { name: admin.name.clone(), form_token: admin.form_token.clone() }),
            notice: None,
            error: None,
            assets: AssetUrls::get(),
        }
    }

    pub fn with_notice(mut self, notice: Option<&str>) -> Self {
        self.notice = notice.and_then(notice_text).map(str::to_owned);
        self
    }

    pub fn with_error(mut self, error: Option<String>) -> Self {
        self.error = error;
        self
    }
}

/// The message of a `?notice=` code an action redirected with. Only these
/// texts can appear: nothing from the URL is shown.
fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "created" => "Principal created.",
        "profile" => "Roles, realm and attributes saved.",
        "unchanged" => "Nothing was changed.",
        "enabled" => "Principal enabled. Tokens it held before stay void.",
        "disabled" => "Principal disabled: its logins are refused and its tokens no longer work.",
        "password" => "Password set.",
        "unlocked" => "Unlocked: the name may log in again.",
        "not-locked" => "Nothing to unlock: no failed logins were counted.",
        "apikey-revoked" => "API key revoked, with every token issued with it.",
        "key-state" => "Access key state changed.",
        "key-revoked" => "Access key revoked.",
        "rotated" => "Signing key rotated: the new key is published now and signs after the rotation delay.",
        "signed-out" => "You have signed out.",
        "session-ended" => "Your session has ended. Sign in again.",
        _ => return None,
    })
}

/// An instant, for people (`2026-03-01 09:00:12 UTC`) and for machines
/// (RFC 3339, in `<time datetime>`).
pub(super) struct Stamp {
    pub machine: String,
    pub human: String,
}

impl Stamp {
    pub fn of(at: OffsetDateTime) -> Self {
        let at = at.to_offset(time::UtcOffset::UTC);
        let human = at
            .format(time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC"))
            .unwrap_or_else(|_| tollgate_core::time_util::rfc3339(at));
        Self { machine: tollgate_core::time_util::rfc3339(at), human }
    }

    pub fn maybe(at: Option<OffsetDateTime>) -> Option<Self> {
        at.map(Self::of)
    }
}

/// A rendered page with `status`.
pub(super) fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, [(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))], html)
            .into_response(),
        Err(err) => {
            crate::http_util::log_failure("rendering a portal page", &err);
            plain_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be rendered; see the server log.",
            )
        }
    }
}

/// `303 See Other` to `location`: where a form's action sends the browser
/// next (a reload then repeats the GET, never the POST).
pub(super) fn see_other(location: &str) -> Response {
    match HeaderValue::try_from(location) {
        Ok(location) => (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response(),
        Err(_) => plain_error(StatusCode::INTERNAL_SERVER_ERROR, "A redirect could not be built."),
    }
}

/// The headers of every portal response (a layer on the portal's routes,
/// and the admin listener's HTML fallbacks). HTML is never stored by
/// anyone: pages show principals and keys, and one shows a secret.
pub(crate) async fn secure_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[derive(Template)]
#[template(path = "portal/error.html")]
struct ErrorPage {
    layout: Layout,
    heading: &'static str,
}

/// A page saying what went wrong. For an htmx request the message lands in
/// the page's notice area instead of replacing the part it asked for
/// (`HX-Retarget` and friends are ignored by browsers without htmx).
pub(super) fn error_page(status: StatusCode, message: impl Into<String>) -> Response {
    let heading = match status {
        StatusCode::FORBIDDEN => "Request refused",
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::BAD_REQUEST => "That did not work",
        StatusCode::CONFLICT => "That did not work",
        StatusCode::METHOD_NOT_ALLOWED => "Not allowed here",
        StatusCode::SERVICE_UNAVAILABLE => "Try again in a moment",
        _ => "Something went wrong",
    };
    let page = ErrorPage { layout: Layout::new(heading, "", None).with_error(Some(message.into())), heading };
    let mut response = render(status, &page);
    let headers = response.headers_mut();
    headers.insert(HeaderName::from_static("hx-retarget"), HeaderValue::from_static("#notice"));
    headers.insert(HeaderName::from_static("hx-reselect"), HeaderValue::from_static("#notice"));
    headers.insert(HeaderName::from_static("hx-reswap"), HeaderValue::from_static("outerHTML"));
    response
}

/// A last resort when not even a page can be rendered.
fn plain_error(status: StatusCode, message: &'static str) -> Response {
    (status, [(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"))], message).into_response()
}

/// Why a portal request was not served.
#[derive(Debug, thiserror::Error)]
pub(super) enum PortalError {
    /// No session, or one that ended: to the sign-in page.
    #[error("sign-in required")]
    SignInRequired {
        /// htmx asked (it must be told to navigate; a redirect it would
        /// follow inside the page).
        htmx: bool,
        /// A session was presented, and it has ended.
        ended: bool,
    },
    /// A state-changing request that did not come from the portal's own
    /// pages (403).
    #[error("request refused: {0}")]
    Refused(&'static str),
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// A form that cannot be read (400).
    #[error("{0}")]
    BadRequest(String),
    /// The database cannot be reached (503).
    #[error("the database is unavailable")]
    Unavailable(#[source] tollgate_core::StoreError),
    /// A failure inside, logged where it is answered (500).
    #[error("internal failure")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<tollgate_core::StoreError> for PortalError {
    fn from(err: tollgate_core::StoreError) -> Self {
        match err {
            tollgate_core::StoreError::Unavailable(_) => PortalError::Unavailable(err),
            other => PortalError::Internal(Box::new(other)),
        }
    }
}

impl From<AdminError> for PortalError {
    fn from(err: AdminError) -> Self {
        match err {
            AdminError::NoSuchPrincipal(_) | AdminError::NoSuchKey(_) => {
                PortalError::NotFound(err.to_string())
            }
            AdminError::Invalid(_)
            | AdminError::InvalidField { .. }
            | AdminError::NameTaken(_)
            | AdminError::IdTaken(_)
            | AdminError::RevokedIsFinal
            | AdminError::Unsupported(_) => PortalError::BadRequest(user_message(&err)),
            AdminError::Store(store) => store.into(),
            other => PortalError::Internal(Box::new(other)),
        }
    }
}

/// What an operator is told about a refused change: the core's message
/// (it names the field and the rule, never a secret), as a sentence.
pub(super) fn user_message(err: &AdminError) -> String {
    let text = err.to_string();
    let mut chars = text.chars();
    let mut sentence = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
        None => return "The change was refused.".into(),
    };
    if !sentence.ends_with('.') {
        sentence.push('.');
    }
    sentence
}

/// The status an operator's refused change is answered with.
pub(super) fn refusal_status(err: &AdminError) -> StatusCode {
    match err {
        AdminError::NameTaken(_)
        | AdminError::IdTaken(_)
        | AdminError::RevokedIsFinal
        | AdminError::Unsupported(_) => StatusCode::CONFLICT,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// Whether an operator can fix the refusal (a bad field, a taken name):
/// the page they came from is shown again with the message.
pub(super) fn is_refusal(err: &AdminError) -> bool {
    matches!(
        err,
        AdminError::Invalid(_)
            | AdminError::InvalidField { .. }
            | AdminError::NameTaken(_)
            | AdminError::IdTaken(_)
            | AdminError::RevokedIsFinal
            | AdminError::Unsupported(_)
    )
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        match self {
            PortalError::SignInRequired { htmx, ended } => {
                let target = if ended { "/login?notice=session-ended" } else { "/login" };
                if htmx {
                    // htmx follows a redirect inside the page; this makes
                    // it load the sign-in page instead.
                    let mut response = StatusCode::UNAUTHORIZED.into_response();
                    response
                        .headers_mut()
                        .insert(HeaderName::from_static("hx-redirect"), HeaderValue::from_static(target));
                    response
                } else {
                    see_other(target)
                }
            }
            PortalError::Refused(why) => {
                tracing::info!(why, "portal request refused");
                error_page(
                    StatusCode::FORBIDDEN,
                    "This request was refused: it did not come from a page of this portal. Go back, reload the page and try again.",
                )
            }
            PortalError::NotFound(what) => {
                error_page(StatusCode::NOT_FOUND, format!("{}.", what.trim_end_matches('.')))
            }
            PortalError::BadRequest(message) => error_page(StatusCode::BAD_REQUEST, message),
            PortalError::Unavailable(err) => {
                crate::http_util::log_failure("portal request", &err);
                let mut response = error_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The database cannot be reached right now. Try again in a moment.",
                );
                response.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static("5"));
                response
            }
            PortalError::Internal(err) => {
                crate::http_util::log_failure("portal request", err.as_ref());
                error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The request could not be completed; see the server log.",
                )
            }
        }
    }
}
