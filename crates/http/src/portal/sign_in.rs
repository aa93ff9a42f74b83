//! `/login` and `/logout`: an administrator's name and password in (checked
//! as contract A checks them, lockouts and the per-address limit included),
//! a session cookie under a new id out; signing out deletes the session.

use std::time::Instant;

use askama::Template;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use tollgate_core::secret::{Password, random_hex};
use tollgate_core::{Contract, LoginContext, LoginError};

use super::csrf::{FormFields, TOKEN_FIELD, check_origin, read_form};
use super::page::{Layout, PortalError, render, see_other};
use super::session::{
    Admin, SESSION_COOKIE, SIGN_IN_COOKIE, add_cookie, cookie, over_tls, plane, sessions, set_cookie,
};
use crate::AppState;
use crate::metrics::{Outcome, record_login};

/// The one message for every failed sign-in: a wrong name, a wrong
/// password, a disabled or locked principal, one without the admin role.
pub(super) const SIGN_IN_FAILED: &str = "The name or password is not right.";

/// How long the sign-in form's cookie lives.
const SIGN_IN_FORM_SECONDS: u64 = 3600;

#[derive(Template)]
#[template(path = "portal/login.html")]
struct LoginPage {
    layout: Layout,
    form_token: String,
    name: String,
    role: String,
}

/// The sign-in form's cookie as the browser holds it, if it is one of ours.
fn sign_in_cookie(parts: &Parts) -> Option<&str> {
    cookie(&parts.headers, SIGN_IN_COOKIE)
        .filter(|value| value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The sign-in page with `status`, `message` and the name typed so far. A
/// fresh sign-in cookie is set unless the browser holds one.
fn login_page(
    state: &AppState,
    parts: &Parts,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<String>,
    name: &str,
) -> Result<Response, PortalError> {
    let plane = plane(state)?;
    let (browser, fresh) = match sign_in_cookie(parts) {
        Some(existing) => (existing.to_owned(), false),
        None => (random_hex(32), true),
    };
    let page = LoginPage {
        layout: Layout::new("Sign in", "", None).with_notice(notice).with_error(error),
        form_token: plane.portal.sign_in_token(&browser),
        name: name.to_owned(),
        role: plane.role.clone(),
    };
    let mut response = render(status, &page);
    if fresh {
        let value =
            set_cookie(SIGN_IN_COOKIE, &browser, "/login", SIGN_IN_FORM_SECONDS, over_tls(state, parts));
        add_cookie(response.headers_mut(), value);
    }
    Ok(response)
}

/// `GET /login`: the form (or, for a signed-in administrator, the overview).
pub(super) async fn form(State(state): State<AppState>, request: Request) -> Result<Response, PortalError> {
    let (mut parts, _) = request.into_parts();
    if Admin::from_request_parts(&mut parts, &state).await.is_ok() {
        return Ok(see_other("/"));
    }
    let query = FormFields::parse(parts.uri.query().unwrap_or_default().as_bytes());
    login_page(&state, &parts, StatusCode::OK, query.get("notice"), None, "")
}

/// `POST /login`.
pub(super) async fn sign_in(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, PortalError> {
    let (parts, body) = request.into_parts();
    check_origin(&parts)?;
    let form = read_form(body).await?;
    let name = form.text("name");
    let portal = sessions(&state)?;
    // The form's token is bound to the browser's sign-in cookie.
    let token_ok = sign_in_cookie(&parts).is_some_and(|browser| {
        tollgate_core::portal::PortalSessions::tokens_match(
            &portal.sign_in_token(browser),
            form.text(TOKEN_FIELD),
        )
    });
    if !token_ok {
        let message = "The sign-in form had expired. Please sign in again.".to_owned();
        return login_page(&state, &parts, StatusCode::FORBIDDEN, None, Some(message), name);
    }
    let password = form.text("password");
    if name.is_empty() || password.is_empty() {
        let message = "Enter your name and your password.".to_owned();
        return login_page(&state, &parts, StatusCode::BAD_REQUEST, None, Some(message), name);
    }

    let client = crate::http_util::client_address_of(&state, &parts.extensions, &parts.headers);
    let context = LoginContext::new(Contract::Portal, client);
    let started = Instant::now();
    let previous = cookie(&parts.headers, SESSION_COOKIE);
    let result = portal.sign_in(&context, name, &Password::new(password), previous).await;
    let outcome = match &result {
        Ok(_) => Outcome::Success,
        Err(LoginError::BadCredentials) => Outcome::BadCredentials,
        Err(LoginError::RateLimited { .. }) => Outcome::RateLimited,
        Err(LoginError::Overloaded) => Outcome::Overloaded,
        Err(_) => Outcome::Error,
    };
    record_login(state.service.tally(), Contract::Portal, outcome, started);
    let tls = over_tls(&state, &parts);
    match result {
        Ok(signed_in) => {
            let mut response = see_other("/");
            let lifetime = portal.policy().max.as_secs();
            let headers = response.headers_mut();
            add_cookie(headers, set_cookie(SESSION_COOKIE, signed_in.session.expose(), "/", lifetime, tls));
            add_cookie(headers, set_cookie(SIGN_IN_COOKIE, "", "/login", 0, tls));
            Ok(response)
        }
        Err(LoginError::BadCredentials) => {
            login_page(&state, &parts, StatusCode::UNAUTHORIZED, None, Some(SIGN_IN_FAILED.into()), name)
        }
        Err(LoginError::RateLimited { retry_after }) => {
            let seconds = retry_after.as_secs().max(1);
            let message =
                format!("Too many failed sign-ins from your address. Try again in {seconds} seconds.");
            let mut response =
                login_page(&state, &parts, StatusCode::TOO_MANY_REQUESTS, None, Some(message), name)?;
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
            Ok(response)
        }
        Err(LoginError::Overloaded) => {
            let message = "The server is busy checking passwords. Try again in a moment.".to_owned();
            let mut response =
                login_page(&state, &parts, StatusCode::SERVICE_UNAVAILABLE, None, Some(message), name)?;
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static("1"));
            Ok(response)
        }
        Err(LoginError::Store(err)) => Err(err.into()),
        Err(other) => Err(PortalError::Internal(Box::new(other))),
    }
}

/// `POST /logout`: ends the session (when the request is the portal's own).
pub(super) async fn sign_out(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, PortalError> {
    let (mut parts, body) = request.into_parts();
    check_origin(&parts)?;
    let tls = over_tls(&state, &parts);
    if let Ok(admin) = Admin::from_request_parts(&mut parts, &state).await {
        let form = read_form(body).await?;
        super::csrf::check_token(&admin.form_token, &parts.headers, &form)?;
        sessions(&state)?.sign_out(admin.session.expose()).await?;
        tracing::info!(admin = %admin.name, "portal sign-out");
    }
    // Signed out already (or never in): the cookie goes all the same.
    let mut response = see_other("/login?notice=signed-out");
    add_cookie(response.headers_mut(), set_cookie(SESSION_COOKIE, "", "/", 0, tls));
    Ok(response)
}
