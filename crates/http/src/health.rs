//! Liveness, readiness and the Prometheus scrape endpoint.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use crate::AppState;

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
            tracing::warn!(%err, "not ready: database unavailable");
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
    match state.metrics {
        Some(handle) => ([(CONTENT_TYPE, "text/plain; version=0.0.4")], handle.render()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
