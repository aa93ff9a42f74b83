//! The admin portal (DESIGN.md §8): server-rendered HTML on the admin
//! listener, for an operator who would rather click than type. Pages are
//! askama templates (`templates/portal/`, escaped by default); htmx and
//! the style sheet are embedded (`assets/`); every form works without
//! JavaScript. Each action calls the `AdminService` method the admin API
//! calls, so the rules and the audit rows are the same.
//!
//! Security: sessions in the database (`tollgate_core::portal`), an
//! `HttpOnly`, `SameSite=Strict` cookie (`session.rs`), CSRF checks on every
//! state-changing request (`csrf.rs`), and a strict Content-Security-Policy
//! with the other protective headers on every response (`page.rs`).

mod assets;
mod audit;
mod csrf;
mod keys;
mod overview;
mod page;
mod principals;
mod session;
mod sign_in;
mod signing_keys;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use crate::AppState;

/// The portal's routes, at `/` of the admin listener.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(overview::show))
        .route("/login", get(sign_in::form).post(sign_in::sign_in))
        .route("/logout", post(sign_in::sign_out))
        .route("/principals", get(principals::search).post(principals::create))
        .route("/principals/new", get(principals::new_form))
        .route("/principals/{id}", get(principals::show))
        .route("/principals/{id}/profile", post(principals::update_profile))
        .route("/principals/{id}/enabled", post(principals::set_enabled))
        .route("/principals/{id}/password", post(principals::set_password))
        .route("/principals/{id}/unlock", post(principals::unlock))
        .route("/principals/{id}/api-keys", post(keys::issue_api_key))
        .route("/principals/{id}/access-keys", post(keys::create_access_key))
        .route("/api-keys/{id}/revoke", post(keys::revoke_api_key))
        .route("/access-keys/{id}/state", post(keys::set_access_key_state))
        .route("/access-keys/{id}/roll", post(keys::roll_access_key))
        .route("/signing-keys", get(signing_keys::list))
        .route("/signing-keys/rotate", post(signing_keys::rotate))
        .route("/audit", get(audit::list))
        .route("/assets/{file}", get(assets::serve))
        .layer(axum::middleware::map_response(page::secure_headers))
}

/// The admin listener's answer to a URL nobody serves, outside the API:
/// an HTML page with the portal's headers.
pub(crate) async fn not_found() -> Response {
    page::secure_headers(page::error_page(StatusCode::NOT_FOUND, "There is no page at this address.")).await
}

/// A portal URL asked with a method it does not take.
pub(crate) async fn method_not_allowed() -> Response {
    page::secure_headers(page::error_page(
        StatusCode::METHOD_NOT_ALLOWED,
        "This page does not take that kind of request.",
    ))
    .await
}
