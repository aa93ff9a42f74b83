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

use crate::config::Config;

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
    let admin = Arc::new(
        admin_service(config, store, Arc::clone(&keys), Arc::clone(&clock))?
            .with_caches(Arc::clone(&service) as Arc<dyn tollgate_core::login::CacheControl>),
    );
    if demo {
        crate::demo::seed(&admin, &config.admin).await?;
    }
    service.warm_up().await.context("cannot read which keys exist")?;
    let mut background = vec![
        service.spawn_tally_keeper(Duration::from_secs(30)),
        service.spawn_change_watcher(Duration::from_millis(500)),
        service.spawn_sweeper(Duration::from_secs(60), 1000),
        service.spawn_usage_flusher(Duration::from_secs(1)),
        service.spawn_lockout_writer(Duration::from_millis(200)),
    ];
    let metrics = tollgate_http::metrics::install_recorder();
    if let Some(handle) = &metrics {
        background.push(tollgate_http::metrics::spawn_upkeep(handle.clone(), Duration::from_secs(1)));
    }
    let mut state =
        AppState::new(Arc::clone(&service), metrics, config.public_url.clone(), config.trusted_proxies()?);
    if config.admin.enabled {
        background.push(admin.spawn_audit_sweeper(
            config.admin.audit_retention.0,
            Duration::from_secs(60),
            1000,
        ));
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

    // Every socket is bound before any is served or logged: a taken port
    // stops start-up, and once "listening" is logged every listener is.
    let mut bound = Vec::new();
    for listener in tollgate_http::listeners(state.clone(), &http_settings(config)) {
        bound.push((bind(listener.addr).await?, listener.router, Serves::Public));
    }
    if config.admin.enabled {
        let router = tollgate_http::admin::router(state.clone());
        bound.push((bind(config.admin.listen).await?, router, Serves::Admin));
    }

    let idle_limit = connection_idle_limit(config);
    let (stop, stopped) = watch::channel(false);
    let mut servers = JoinSet::new();
    let mut addrs = Vec::new();
    let mut admin_addr = None;
    for (socket, router, serves) in bound {
        let addr = socket.local_addr()?;
        let database = tollgate_store::redact_url(&config.database_url);
        match serves {
            Serves::Public => {
                if addrs.is_empty() {
                    state.listening_on(addr);
                }
                addrs.push(addr);
                tracing::info!(%addr, %database, "listening on http://{addr}");
            }
            Serves::Admin => {
                admin_addr = Some(addr);
                tracing::info!(%addr, "admin API, portal and /metrics listening on http://{addr}");
            }
        }
        let mut stopped = stopped.clone();
        servers.spawn(async move {
            serve_connections(socket, router, idle_limit, async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            })
            .await
        });
    }
    Ok(Running { addrs, admin_addr, stop, servers, background, service, admin })
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
        let service =
            hyper_util::service::TowerToHyperService::new(peer::WithPeer { router: router.clone(), peer });
        let (stream, activity) = idle::Watched::new(stream);
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
        let connection = graceful.watch(connection);
        let task = tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%err, "connection ended with an error");
            }
        });
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
