//! Tollgate's HTTP shell: the router, the login contracts' wire formats
//! (`contracts/`), forward authentication for gateways, health and metrics.
//! Handlers parse, call the core's `LoginService`, and render; they decide
//! nothing about credentials or tokens themselves.

pub mod contracts;
mod forward_auth;
mod health;
mod http_util;
pub mod metrics;
mod oauth2;
mod router;

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use tollgate_core::LoginService;

pub use router::{ContractMount, HttpSettings, Listener, listeners};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub service: Arc<LoginService>,
    pub metrics: Option<PrometheusHandle>,
    /// Where clients reach this service (the OAuth 2.0 issuer), if configured.
    pub public_url: Option<String>,
}
