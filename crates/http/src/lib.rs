//! Tollgate's HTTP shell: the router, the login contracts' wire formats
//! (`contracts/`), forward authentication for gateways, health and metrics,
//! the admin API (`admin/`) and the admin portal (`portal/`).
//! Handlers parse, call the core's `LoginService` (each login with its
//! `LoginContext`), and render; they decide nothing about credentials or
//! tokens themselves.

pub mod access_log;
pub mod admin;
pub mod contracts;
mod forward_auth;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod health;
mod http_util;
mod json_body;
pub mod metrics;
pub mod migration;
mod oauth2;
mod portal;
mod router;

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use tollgate_core::{AdminService, LoginService};

pub use http_util::{OverTls, PeerAddr};
pub use router::{ContractMount, HttpSettings, Listener, RESERVED_PATHS, listeners};

/// What every handler can reach. One shared allocation: axum clones the
/// state for every request, and one reference count is cheaper than three.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

#[derive(Clone)]
pub struct Shared {
    pub service: Arc<LoginService>,
    pub metrics: Option<PrometheusHandle>,
    /// The OAuth 2.0 issuer: `public_url`, else the main listener's address
    /// once bound. Never taken from a request (`Host` is the client's to say).
    issuer: std::sync::OnceLock<String>,
    /// Proxies whose `X-Forwarded-For` names the client.
    trusted_proxies: Vec<ipnet::IpNet>,
    /// The management plane, where the admin listener is served.
    admin: Option<AdminPlane>,
}

/// What the admin listener serves with.
#[derive(Clone)]
pub struct AdminPlane {
    pub service: Arc<AdminService>,
    /// The role that makes a principal an administrator.
    pub role: String,
    /// The portal's sign-in sessions.
    pub portal: Arc<tollgate_core::portal::PortalSessions>,
}

impl AppState {
    /// `public_url` is where clients reach this service, if configured.
    pub fn new(
        service: Arc<LoginService>,
        metrics: Option<PrometheusHandle>,
        public_url: Option<String>,
        trusted_proxies: Vec<ipnet::IpNet>,
    ) -> Self {
        let issuer = std::sync::OnceLock::new();
        if let Some(url) = public_url {
            let _ = issuer.set(url.trim_end_matches('/').to_owned());
        }
        Self(Arc::new(Shared { service, metrics, issuer, trusted_proxies, admin: None }))
    }

    /// Adds the management plane (before the state is shared).
    pub fn with_admin(self, admin: AdminPlane) -> Self {
        let mut shared = Arc::unwrap_or_clone(self.0);
        shared.admin = Some(admin);
        Self(Arc::new(shared))
    }

    pub(crate) fn admin_plane(&self) -> Option<&AdminPlane> {
        self.0.admin.as_ref()
    }

    /// Whether `peer` is a proxy whose `X-Forwarded-For` is believed.
    pub(crate) fn is_trusted_proxy(&self, peer: std::net::IpAddr) -> bool {
        self.0.trusted_proxies.iter().any(|net| net.contains(&peer))
    }

    /// Without `public_url`, the issuer is the main listener's base URL
    /// (`http://` or `https://` and its address).
    pub fn listening_on(&self, main: String) {
        let _ = self.0.issuer.set(main);
    }

    pub(crate) fn issuer(&self) -> &str {
        self.0.issuer.get().map_or("http://127.0.0.1:8080", String::as_str)
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
