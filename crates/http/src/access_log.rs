//! One log line per request (`[log] access`, target `tollgate::access`, at
//! `info`): method, path, status, duration and client. Never the query
//! string, a header or a body, so never a token or a secret.

use std::time::Instant;

use axum::Router;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

use crate::PeerAddr;

/// `router` with every request logged.
pub fn with_access_log(router: Router) -> Router {
    router.layer(axum::middleware::from_fn(log_request))
}

async fn log_request(request: Request, next: Next) -> Response {
    // Filtered out (RUST_LOG=…,tollgate::access=off): nothing is copied.
    if !tracing::enabled!(target: "tollgate::access", tracing::Level::INFO) {
        return next.run(request).await;
    }
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let client = request.extensions().get::<PeerAddr>().map(|peer| peer.0.ip());
    let response = next.run(request).await;
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    tracing::info!(
        target: "tollgate::access",
        %method,
        path,
        status = response.status().as_u16(),
        micros,
        client = client.map(|ip| ip.to_string()),
        "request"
    );
    response
}
