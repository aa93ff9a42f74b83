//! The admin listener (DESIGN.md §8): the admin REST API under `/admin/v1`,
//! `/metrics`, and the web portal at `/` (`crate::portal`). Each handler is a thin adapter over the core's
//! `AdminService` — the one the command line uses, which validates, writes
//! and records the audit row — so no rule is written twice.

mod audit;
mod body;
mod caller;
mod import;
mod keys;
mod lockouts;
mod openapi;
mod page;
mod principals;
mod problem;
mod signing_keys;
mod tokens;
pub mod views;

use axum::Router;
use axum::http::header::X_CONTENT_TYPE_OPTIONS;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;

pub use import::MAX_IMPORT_BYTES;
pub(crate) use keys::MAX_GRACE_SECONDS;
pub use openapi::document;
pub use page::Page;
pub use problem::Problem;

use crate::health::METRICS_PATH;
use crate::{AdminPlane, AppState};

pub(crate) const PRINCIPALS: &str = "/admin/v1/principals";
pub(crate) const ACCESS_KEYS: &str = "/admin/v1/access-keys";
pub const OPENAPI_PATH: &str = "/admin/v1/openapi.json";

/// The admin listener's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(PRINCIPALS, post(principals::create).get(principals::search))
        .route(
            "/admin/v1/principals/{id}",
            get(principals::get).patch(principals::update).delete(principals::delete),
        )
        .route("/admin/v1/principals/{id}/api-keys", post(keys::issue_api_key).get(keys::list_api_keys))
        .route("/admin/v1/principals/{id}/access-keys", post(keys::create_access_key))
        .route("/admin/v1/api-keys/{id}", delete(keys::revoke_api_key))
        .route(ACCESS_KEYS, get(keys::list_access_keys))
        .route("/admin/v1/access-keys/{id}", get(keys::get_access_key).patch(keys::update_access_key))
        .route("/admin/v1/access-keys/{id}/roll", post(keys::roll_access_key))
        .route("/admin/v1/tokens/revoke", post(tokens::revoke))
        .route("/admin/v1/signing-keys", get(signing_keys::list))
        .route("/admin/v1/signing-keys/rotate", post(signing_keys::rotate))
        .route("/admin/v1/lockouts", get(lockouts::list))
        .route("/admin/v1/lockouts/{name}", delete(lockouts::clear))
        .route("/admin/v1/audit-events", get(audit::list))
        .route("/admin/v1/import", post(import::import_records))
        .route(OPENAPI_PATH, get(openapi::serve))
        .route(METRICS_PATH, get(crate::health::metrics))
        .merge(crate::portal::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(CatchPanicLayer::custom(|_| Problem::internal().into_response()))
        .layer(SetResponseHeaderLayer::overriding(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .with_state(state)
}

/// The management plane of this state (the admin router is only built
/// with one).
fn plane(state: &AppState) -> Result<&AdminPlane, Problem> {
    state.admin_plane().ok_or_else(Problem::internal)
}

/// Whether `path` belongs to the API (JSON problems) rather than the
/// portal (HTML pages).
fn is_api_path(path: &str) -> bool {
    path == "/admin" || path.starts_with("/admin/") || path == METRICS_PATH
}

async fn not_found(uri: axum::http::Uri) -> Response {
    if is_api_path(uri.path()) {
        Problem::not_found("There is nothing at this URL.").into_response()
    } else {
        crate::portal::not_found().await
    }
}

async fn method_not_allowed(uri: axum::http::Uri) -> Response {
    if is_api_path(uri.path()) {
        Problem::new(StatusCode::METHOD_NOT_ALLOWED, "This URL does not take that method.").into_response()
    } else {
        crate::portal::method_not_allowed().await
    }
}
