//! Tollgate's HTTP shell: the router, the login contracts' wire formats
//! (`contracts/`), forward authentication for gateways, health and metrics.
//! Handlers parse, call the core's `LoginService` (each login with its
//! `LoginContext`), and render; they decide nothing about credentials or
//! tokens themselves.

pub mod contracts;
mod forward_auth;
mod health;
mod http_util;
mod json_body;
pub mod metrics;
mod oauth2;
mod router;

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use tollgate_core::LoginService;

pub use http_util::PeerAddr;
pub use router::{ContractMount, HttpSettings, Listener, RESERVED_PATHS, listeners};

/// What every handler can reach. One shared allocation: axum clones the
/// state for every request, and one reference count is cheaper than three.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub service: Arc<LoginService>,
    pub metrics: Option<PrometheusHandle>,
    /// Where clients reach this service (the OAuth 2.0 issuer), if configured.
    pub public_url: Option<String>,
}

impl AppState {
    pub fn new(
        service: Arc<LoginService>,
        metrics: Option<PrometheusHandle>,
        public_url: Option<String>,
    ) -> Self {
        Self(Arc::new(Shared { service, metrics, public_url }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
