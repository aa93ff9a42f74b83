//! Liveness, readiness, the Prometheus scrape endpoint and the JWK Set.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use crate::AppState;

pub const HEALTHZ_PATH: &str = "/healthz";
pub const READYZ_PATH: &str = "/readyz";
pub const METRICS_PATH: &str = "/metrics";
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// The process is up and serving.
pub(crate) async fn healthz() -> Response {
    ([(CONTENT_TYPE, "application/json")], r#"{"status":"ok"}"#).into_response()
}

/// The database answers: the node can do useful work.
pub(crate) async fn readyz(State(state): State<AppState>) -> Response {
    let ping = tokio::time::timeout(Duration::from_secs(2), state.service.store().ping()).await;
    match ping {
        Ok(Ok(())) => ([(CONTENT_TYPE, "application/json")], r#"{"status":"ready"}"#).into_response(),
        Ok(Err(err)) => {
            crate::http_util::log_failure("readiness check", &err);
            not_ready()
        }
        Err(_) => {
            tracing::warn!("not ready: database did not answer within 2 s");
            not_ready()
        }
    }
}

fn not_ready() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, [(CONTENT_TYPE, "application/json")], r#"{"status":"unavailable"}"#)
        .into_response()
}

pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    match &state.metrics {
        Some(handle) => ([(CONTENT_TYPE, "text/plain; version=0.0.4")], handle.render()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `GET /.well-known/jwks.json` (RFC 7517): the public signing keys, when an
/// asymmetric algorithm is configured; 404 otherwise. Relying parties may
/// cache it for 5 minutes (`jwt.rotation_delay` should be longer).
pub(crate) async fn jwks(State(state): State<AppState>) -> Response {
    match state.service.jwks() {
        Some(set) => (
            [(CONTENT_TYPE, "application/json"), (axum::http::header::CACHE_CONTROL, "public, max-age=300")],
            set.to_string(),
        )
            .into_response(),
        None => crate::contracts::login_check::error_list(StatusCode::NOT_FOUND, 404, "Invalid request URL."),
    }
}
