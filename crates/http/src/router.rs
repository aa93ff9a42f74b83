//! Which routes are served on which listener.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::X_CONTENT_TYPE_OPTIONS;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::routing::{any, get};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::contracts::{accesskey, apikey, login_check};
use crate::forward_auth::VERIFY_PATH;
use crate::health::{HEALTHZ_PATH, JWKS_PATH, METRICS_PATH, READYZ_PATH};
use crate::oauth2::{INTROSPECT_PATH, METADATA_PATH, REVOKE_PATH, TOKEN_PATH};
use crate::{AppState, forward_auth, health};

/// Paths the main listener serves whatever the configuration: a contract
/// cannot be mounted on one of them.
pub const RESERVED_PATHS: &[&str] = &[
    HEALTHZ_PATH,
    READYZ_PATH,
    METRICS_PATH,
    VERIFY_PATH,
    login_check::REFRESH_PATH,
    TOKEN_PATH,
    INTROSPECT_PATH,
    REVOKE_PATH,
    METADATA_PATH,
    JWKS_PATH,
];

/// Whether and where a contract is served.
#[derive(Debug, Clone)]
pub struct ContractMount {
    pub enabled: bool,
    pub path: String,
    /// Serve the contract on this address instead of the main listener.
    pub listen: Option<SocketAddr>,
}

/// The HTTP side of the configuration.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub listen: SocketAddr,
    pub login_check: ContractMount,
    pub apikey: ContractMount,
    pub accesskey: ContractMount,
}

/// One address and what it serves.
pub struct Listener {
    pub addr: SocketAddr,
    pub router: Router,
    /// The contract served on an address of its own (`apikey`,
    /// `accesskey`); `None` for the main listener.
    pub own_contract: Option<&'static str>,
}

/// The routers to serve: the main listener, plus one per contract that asks
/// for its own address.
pub fn listeners(state: AppState, settings: &HttpSettings) -> Vec<Listener> {
    let mut main = Router::new()
        .route(HEALTHZ_PATH, get(health::healthz))
        .route(READYZ_PATH, get(health::readyz))
        // Any method, and any path below: Envoy's HTTP ext_authz keeps the
        // original method and appends the original path to its prefix.
        .route(VERIFY_PATH, any(forward_auth::verify))
        .route(&format!("{VERIFY_PATH}/"), any(forward_auth::verify))
        .route(&format!("{VERIFY_PATH}/{{*original}}"), any(forward_auth::verify))
        .route(JWKS_PATH, get(health::jwks))
        .merge(crate::oauth2::routes());
    // Contract B's path where it is served, for its other letter cases.
    let mut main_apikey_path = None;
    let mut extra: Vec<Unfinished> = Vec::new();

    let contracts = [
        (&settings.login_check, login_check::routes(&settings.login_check.path), "login_check"),
        (&settings.apikey, apikey::routes(&settings.apikey.path), "apikey"),
        (&settings.accesskey, accesskey::routes(&settings.accesskey.path), "accesskey"),
    ];
    for (mount, routes, contract) in contracts {
        let is_apikey = contract == "apikey";
        if !mount.enabled {
            continue;
        }
        let apikey_path = is_apikey.then(|| mount.path.clone());
        match mount.listen {
            // Port 0 asks for a fresh port, so it is never "the same" address.
            Some(addr) if addr != settings.listen || addr.port() == 0 => extra.push(Unfinished {
                addr,
                router: Router::new().route(HEALTHZ_PATH, get(health::healthz)).merge(routes),
                apikey_path,
                own_contract: Some(contract),
            }),
            _ => {
                main = main.merge(routes);
                main_apikey_path = main_apikey_path.or(apikey_path);
            }
        }
    }

    let main =
        Unfinished { addr: settings.listen, router: main, apikey_path: main_apikey_path, own_contract: None };
    std::iter::once(main)
        .chain(extra)
        .map(|listener| Listener {
            addr: listener.addr,
            router: finish(listener.router, state.clone(), listener.apikey_path),
            own_contract: listener.own_contract,
        })
        .collect()
}

/// A listener's routes before the fallbacks common to all are added.
struct Unfinished {
    addr: SocketAddr,
    router: Router<AppState>,
    /// Contract B's path where it is served here (its other letter cases).
    apikey_path: Option<String>,
    own_contract: Option<&'static str>,
}

/// Fallbacks and safety nets common to every listener: unknown URLs and
/// methods get a JSON error list, a panic gets a JSON 500, never HTML; every
/// response tells browsers not to guess its content type.
fn finish(router: Router<AppState>, state: AppState, apikey_path: Option<String>) -> Router {
    let fallback = move |state: State<AppState>, request: Request| {
        let apikey_path = apikey_path.clone();
        async move {
            match apikey_path {
                Some(path) if apikey::is_path_in_other_case(&path, request.uri().path()) => {
                    if request.method() == Method::POST {
                        apikey::login(state, request).await
                    } else {
                        method_not_allowed().await
                    }
                }
                _ => not_found().await,
            }
        }
    };
    router
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(CatchPanicLayer::custom(|_| login_check::internal_error()))
        .layer(SetResponseHeaderLayer::overriding(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .with_state(state)
}

async fn not_found() -> Response {
    login_check::error_list(StatusCode::NOT_FOUND, 404, "Invalid request URL.")
}

async fn method_not_allowed() -> Response {
    login_check::error_list(StatusCode::METHOD_NOT_ALLOWED, 405, "Method not allowed.")
}
