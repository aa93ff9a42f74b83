//! Starting and stopping the server: open and migrate the store, seed the
//! demo, build the service, bind every listener, serve until told to stop.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tollgate_core::admin::SigningPolicy;
use tollgate_core::clock::SharedClock;
use tollgate_core::login::ServiceLimits;
use tollgate_core::portal::{PortalSessions, SessionPolicy};
use tollgate_core::{AdminService, LoginService, ServerKeys, Store, TokenPolicy};
use tollgate_http::{AdminPlane, AppState, ContractMount, HttpSettings};
use tollgate_store::{OpenMode, StoreOptions};

use crate::config::{Config, TlsListener};

/// A server that is accepting connections.
pub struct Running {
    /// Bound addresses: the main listener first, then per-contract ones.
    pub addrs: Vec<SocketAddr>,
    /// The admin listener's address, when it is enabled.
    pub admin_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    servers: JoinSet<std::io::Result<()>>,
    background: Vec<tokio::task::JoinHandle<()>>,
    service: Arc<LoginService>,
    admin: Arc<AdminService>,
}

impl Running {
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// The management service of this server: its changes hold here at
    /// once (as the admin API's do).
    pub fn admin(&self) -> Arc<AdminService> {
        Arc::clone(&self.admin)
    }

    /// Stops accepting, lets in-flight requests finish, then returns.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        self.wait().await;
    }

    async fn wait(&mut self) {
        while let Some(result) = self.servers.join_next().await {
            if let Ok(Err(err)) = result {
                tracing::error!(%err, "listener failed");
            }
        }
        for task in self.background.drain(..) {
            task.abort();
        }
        self.service.flush_usage().await;
        self.service.flush_lockouts().await;
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully.
    pub async fn run_until_signal(mut self) {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        let _ = self.stop.send(true);
        self.wait().await;
        tracing::info!("stopped");
    }
}

pub fn store_options(config: &Config) -> StoreOptions {
    StoreOptions { timeout: config.database_timeout.0, ..StoreOptions::default() }
}

/// Opens (and migrates) the configured database; only `OpenMode::Create`
/// may make a new one.
pub async fn open_store(config: &Config, mode: OpenMode) -> anyhow::Result<Arc<dyn Store>> {
    open_store_with(config, mode, &store_options(config)).await
}

async fn open_store_with(
    config: &Config,
    mode: OpenMode,
    options: &StoreOptions,
) -> anyhow::Result<Arc<dyn Store>> {
    tollgate_store::open(&config.database_url, options, mode)
        .await
        .with_context(|| format!("database {}", tollgate_store::redact_url(&config.database_url)))
}

/// The management service over an existing database, for the command line
/// (no login service, no password threads, no caches: a running server
/// follows the change counter).
pub async fn open_admin(config: &Config) -> anyhow::Result<AdminService> {
    let store = open_store(config, OpenMode::Existing).await?;
    let keys = Arc::new(load_keys(config, store.as_ref()).await?);
    admin_service(config, store, keys, tollgate_core::clock::system())
}

fn admin_service(
    config: &Config,
    store: Arc<dyn Store>,
    keys: Arc<ServerKeys>,
    clock: SharedClock,
) -> anyhow::Result<AdminService> {
    let signing =
        SigningPolicy { algorithm: config.jwt_algorithm()?, rotation_delay: config.jwt.rotation_delay.0 };
    Ok(AdminService::new(store, keys, token_policy(config), signing, clock))
}

fn http_settings(config: &Config) -> HttpSettings {
    HttpSettings {
        listen: config.listen,
        login_check: ContractMount {
            enabled: config.login_check.enabled,
            path: config.login_check.path.clone(),
            listen: None,
        },
        apikey: ContractMount {
            enabled: config.apikey.enabled,
            path: config.apikey.path.clone(),
            listen: config.apikey.listen,
        },
        accesskey: ContractMount {
            enabled: config.accesskey.enabled,
            path: config.accesskey.path.clone(),
            listen: config.accesskey.listen,
        },
    }
}

fn token_policy(config: &Config) -> TokenPolicy {
    TokenPolicy {
        login_check_ttl: config.login_check.token_ttl.0,
        refresh_ttl: config.login_check.refresh_ttl.0,
        refresh_grace: config.login_check.refresh_grace.0,
        apikey_ttl: config.apikey.token_ttl.0,
        accesskey_ttl: config.accesskey.token_ttl.0,
        jwt_leeway: config.jwt.leeway.0,
    }
}

/// The server's keys: the configured JWT secret, or the database's, sealed
/// under the master key when one is configured.
pub async fn load_keys(config: &Config, store: &dyn Store) -> anyhow::Result<ServerKeys> {
    let jwt_secret = config.jwt_secret()?;
    let vault = tollgate_core::server_keys::Vault::sealed_with(config.master_key()?);
    let policy = token_policy(config);
    let longest_token = [policy.login_check_ttl, policy.refresh_ttl, policy.apikey_ttl, policy.accesskey_ttl]
        .into_iter()
        .max()
        .unwrap_or_default();
    ServerKeys::load(store, config.jwt_algorithm()?, jwt_secret, vault, longest_token)
        .await
        .context("cannot load the server's keys")
}

/// Starts the server on the system clock. Listeners open only after
/// migrations (and demo seeding) are done, so the first answer of `/healthz`
/// means "usable".
pub async fn start(config: &Config, demo: bool) -> anyhow::Result<Running> {
    start_with_clock(config, demo, tollgate_core::clock::system()).await
}

/// [`start`] with the clock the core goes by (tests move one by hand).
pub async fn start_with_clock(config: &Config, demo: bool, clock: SharedClock) -> anyhow::Result<Running> {
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "tollgate starting");
    // Every page is checked before a server serves from the file.
    let options = StoreOptions { verify_integrity: true, ..store_options(config) };
    let store = open_store_with(config, OpenMode::Create, &options).await?;
    let keys = Arc::new(load_keys(config, store.as_ref()).await?);
    let service = LoginService::new(
        Arc::clone(&store),
        Arc::clone(&keys),
        token_policy(config),
        &ServiceLimits::default(),
        config.protection_policy(),
        Arc::clone(&clock),
    )
    .context("cannot use the signing keys")?;
    let upstreams = config.upstream_settings();
    if upstreams.any() {
        let client = tollgate_http::migration::HttpUpstream::new(upstreams)
            .context("cannot set up the client of the legacy endpoints")?;
        service.set_upstream(Arc::new(client));
    }
    let admin = Arc::new(
        admin_service(config, store, Arc::clone(&keys), Arc::clone(&clock))?
            .with_caches(Arc::clone(&service) as Arc<dyn tollgate_core::login::CacheControl>),
    );
    // The demo's credentials exist before any listener opens; its banner
    // is logged once every listener is bound (a taken port shows none).
    let banner = if demo { Some(crate::demo::seed(&admin, &config.admin).await?) } else { None };
    service.warm_up().await.context("cannot read which keys exist")?;
    let mut background = vec![
        service.spawn_tally_keeper(Duration::from_secs(30)),
        service.spawn_change_watcher(Duration::from_millis(500)),
        service.spawn_sweeper(Duration::from_secs(60), 1000),
        service.spawn_usage_flusher(Duration::from_secs(1)),
        service.spawn_lockout_writer(Duration::from_millis(200)),
        service.spawn_legacy_gauge(Duration::from_secs(5)),
        // Audit rows come from the command line and security events too:
        // they are swept whether or not this node serves the admin plane.
        admin.spawn_audit_sweeper(config.admin.audit_retention.0, Duration::from_secs(60), 1000),
    ];
    let metrics = tollgate_http::metrics::install_recorder();
    if let Some(handle) = &metrics {
        background.push(tollgate_http::metrics::spawn_upkeep(
            handle.clone(),
            Duration::from_secs(1),
            Arc::clone(&service),
        ));
    }
    let mut state =
        AppState::new(Arc::clone(&service), metrics, config.public_url.clone(), config.trusted_proxies()?);
    if config.admin.enabled {
        let portal = Arc::new(PortalSessions::new(
            Arc::clone(&service),
            Arc::clone(admin.store()),
            &keys,
            SessionPolicy {
                idle: config.admin.session_idle.0,
                max: config.admin.session_max.0,
                admin_role: config.admin.role.clone(),
            },
            Arc::clone(&clock),
        ));
        background.push(portal.spawn_sweeper(Duration::from_secs(60), 1000));
        state = state.with_admin(AdminPlane {
            service: Arc::clone(&admin),
            role: config.admin.role.clone(),
            portal,
        });
    }

    // Every socket is bound (and every certificate loaded) before any is
    // served or logged: a taken port or a bad certificate stops start-up,
    // and once "listening" is logged every listener is.
    let mut bound = Vec::new();
    for listener in tollgate_http::listeners(state.clone(), &http_settings(config)) {
        let tls = match listener.own_contract {
            Some("apikey") => config.tls(TlsListener::ApiKey)?,
            Some("accesskey") => config.tls(TlsListener::AccessKey)?,
            _ => config.tls(TlsListener::Main)?,
        };
        bound.push((bind(listener.addr).await?, listener.router, Serves::Public, tls_for(tls)?));
    }
    if config.admin.enabled {
        let router = tollgate_http::admin::router(state.clone());
        let tls = tls_for(config.tls(TlsListener::Admin)?)?;
        bound.push((bind(config.admin.listen).await?, router, Serves::Admin, tls));
    }
    let certs: Vec<_> =
        bound.iter().filter_map(|(_, _, _, tls)| tls.as_ref().map(|(cert, _)| Arc::clone(cert))).collect();
    // Also without certificates: SIGHUP (logrotate, `systemctl kill -s HUP`)
    // must never end a server that has nothing to reload.
    background.push(tls::spawn_reloader(certs, Duration::from_secs(5)));

    let idle_limit = connection_idle_limit(config);
    let (stop, stopped) = watch::channel(false);
    let mut servers = JoinSet::new();
    let mut addrs = Vec::new();
    let mut admin_addr = None;
    for (socket, router, serves, tls) in bound {
        let addr = socket.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let database = tollgate_store::redact_url(&config.database_url);
        match serves {
            Serves::Public => {
                if addrs.is_empty() {
                    state.listening_on(format!("{scheme}://{addr}"));
                }
                addrs.push(addr);
                tracing::info!(%addr, %database, "listening on {scheme}://{addr}");
            }
            Serves::Admin => {
                admin_addr = Some(addr);
                tracing::info!(%addr, "admin API, portal and /metrics listening on {scheme}://{addr}");
            }
        }
        let router =
            if config.log.access { tollgate_http::access_log::with_access_log(router) } else { router };
        let (router, acceptor) = match tls {
            // HTTPS answers tell browsers to come back only over HTTPS.
            Some((_, acceptor)) => (router.layer(strict_transport_security()), Some(acceptor)),
            None => (router, None),
        };
        let mut stopped = stopped.clone();
        servers.spawn(async move {
            serve_connections(socket, router, acceptor, idle_limit, async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            })
            .await
        });
    }
    if let Some(banner) = banner {
        banner.log(admin_addr);
    }
    Ok(Running { addrs, admin_addr, stop, servers, background, service, admin })
}

/// The certificate and acceptor of a listener that serves HTTPS.
fn tls_for(
    files: Option<tls::TlsFiles>,
) -> anyhow::Result<Option<(Arc<tls::ReloadingCert>, tokio_rustls::TlsAcceptor)>> {
    let Some(files) = files else { return Ok(None) };
    let cert = Arc::new(
        tls::ReloadingCert::load(files.clone())
            .with_context(|| format!("TLS certificate {}", files.cert.display()))?,
    );
    let acceptor = cert.acceptor()?;
    Ok(Some((cert, acceptor)))
}

/// `Strict-Transport-Security` on every answer of an HTTPS listener (never
/// on plain HTTP, where it means nothing to a browser).
fn strict_transport_security() -> tower_http::set_header::SetResponseHeaderLayer<axum::http::HeaderValue> {
    tower_http::set_header::SetResponseHeaderLayer::if_not_present(
        axum::http::header::STRICT_TRANSPORT_SECURITY,
        axum::http::HeaderValue::from_static("max-age=31536000"),
    )
}

/// What a listener serves.
enum Serves {
    /// Logins, token checks and health: what clients and gateways reach.
    Public,
    /// The management plane: keep it private.
    Admin,
}

async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))
}

mod idle;
mod peer;
pub mod tls;

/// How long a client may take to send a request's headers. Without it (as
/// with `axum::serve`, which sets no timer) a client trickling header bytes
/// holds a connection open forever.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a connection may move no byte before it is closed: the header
/// timeout, or longer when a request may wait that long on the database
/// (twice its timeout) without a byte on the wire.
fn connection_idle_limit(config: &Config) -> Duration {
    HEADER_READ_TIMEOUT.max(config.database_timeout.0 * 2)
}

/// Accepts connections and serves each with HTTP/1.1 or HTTP/2 until `stop`
/// completes; then stops accepting, lets in-flight requests finish, and
/// returns once every connection is closed.
async fn serve_connections(
    socket: TcpListener,
    router: axum::Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    idle_limit: Duration,
    stop: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto;

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
    builder.http2().timer(TokioTimer::new());
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = socket.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: wait, do not spin.
                Err(err) => {
                    tracing::warn!(%err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let (stream, activity) = idle::Watched::new(stream);
        let task = match &tls {
            None => {
                let service = hyper_util::service::TowerToHyperService::new(peer::WithPeer {
                    router: router.clone(),
                    peer,
                    tls: false,
                });
                let connection =
                    builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(err) = connection.await {
                        tracing::debug!(%err, "connection ended with an error");
                    }
                })
            }
            Some(acceptor) => {
                // The handshake runs in the connection's own task (a slow
                // client holds up no one), bounded like reading headers.
                let (acceptor, builder, watcher) = (acceptor.clone(), builder.clone(), graceful.watcher());
                let service = hyper_util::service::TowerToHyperService::new(peer::WithPeer {
                    router: router.clone(),
                    peer,
                    tls: true,
                });
                tokio::spawn(async move {
                    let stream =
                        match tokio::time::timeout(HEADER_READ_TIMEOUT, acceptor.accept(stream)).await {
                            Ok(Ok(stream)) => stream,
                            Ok(Err(err)) => return tracing::debug!(%err, "TLS handshake failed"),
                            Err(_) => return tracing::debug!("TLS handshake timed out"),
                        };
                    let connection =
                        builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
                    if let Err(err) = watcher.watch(connection).await {
                        tracing::debug!(%err, "connection ended with an error");
                    }
                })
            }
        };
        idle::spawn_watchdog(task.abort_handle(), activity, idle_limit);
    }
    drop(socket);
    graceful.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(err) => {
                    tracing::warn!(%err, "cannot watch SIGTERM");
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::select! {
            _ = interrupt => {}
            () = terminate => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
