//! `TestApp`: a real server per test, its own database, typed helpers.

use std::path::PathBuf;
use std::sync::Arc;

use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use tempfile::TempDir;
use tollgate::config::Config;
use tollgate::server::Running;
use tollgate_core::AdminService;
use tollgate_core::Store;
use tollgate_core::admin::PrincipalSpec;

pub struct TestApp {
    pub base: String,
    /// The admin listener (`http://addr`), when enabled.
    pub admin_base: Option<String>,
    pub client: reqwest::Client,
    pub store: Arc<dyn Store>,
    /// The server's own management service (its changes hold at once, as
    /// the admin API's do; the CLI's are tested through the binary).
    pub admin: Arc<AdminService>,
    pub config: Config,
    pub dir: TempDir,
    /// Every bound listener: the main one first.
    pub addrs: Vec<std::net::SocketAddr>,
    running: Option<Running>,
    /// Dropped last, for its `Drop` (the servers above have let go of it).
    _database: Option<TestDatabase>,
}

/// A fresh database for one test: a temporary SQLite file (it goes with the
/// test's directory), or a new schema in the test PostgreSQL, dropped when
/// this is. Reads as its URL.
pub struct TestDatabase {
    url: String,
    schema: Option<(String, String)>,
}

impl std::ops::Deref for TestDatabase {
    type Target = str;

    fn deref(&self) -> &str {
        &self.url
    }
}

impl std::fmt::Display for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

/// A test leaves nothing behind in the shared PostgreSQL: its schema goes
/// when the test ends (on a thread of its own: a `Drop` cannot await).
impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((base, schema)) = self.schema.take() else { return };
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                use sqlx::Connection as _;
                let mut conn = sqlx::PgConnection::connect(&base).await.ok()?;
                // The test's servers are gone; their last connections may
                // still be closing.
                sqlx::query("SET lock_timeout = '10s'").execute(&mut conn).await.ok()?;
                sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&mut conn).await.ok()
            })
        });
        let _ = dropped.join();
    }
}

pub async fn fresh_database(dir: &TempDir) -> TestDatabase {
    if std::env::var("TOLLGATE_TEST_BACKEND").as_deref() == Ok("postgres") {
        let base = std::env::var("TEST_POSTGRES_URL")
            .expect("TOLLGATE_TEST_BACKEND=postgres needs TEST_POSTGRES_URL");
        return fresh_postgres_schema(&base).await;
    }
    TestDatabase { url: format!("sqlite://{}", dir.path().join("tollgate.db").display()), schema: None }
}

pub async fn fresh_postgres_schema(base: &str) -> TestDatabase {
    use sqlx::Connection as _;
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(base).await.expect("connect to the test PostgreSQL");
    sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&mut conn).await.expect("create schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}options=-csearch_path%3D{schema}");
    TestDatabase { url, schema: Some((base.to_owned(), schema)) }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts a server whose configuration `tweak` may change first.
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_seeded(tweak, false).await
    }

    /// Starts a server seeded with the documents' demo credentials.
    pub async fn spawn_demo_with(tweak: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_seeded(tweak, true).await
    }

    async fn spawn_seeded(tweak: impl FnOnce(&mut Config), demo: bool) -> Self {
        Self::spawn_on_clock(tweak, demo, tollgate_core::clock::system()).await
    }

    /// Starts a server (with the demo) whose core goes by `clock`: a test
    /// moves time by hand instead of sleeping.
    pub async fn spawn_demo_on_clock(
        tweak: impl FnOnce(&mut Config),
        clock: Arc<tollgate_core::clock::ManualClock>,
    ) -> Self {
        Self::spawn_on_clock(tweak, true, clock).await
    }

    async fn spawn_on_clock(
        tweak: impl FnOnce(&mut Config),
        demo: bool,
        clock: tollgate_core::clock::SharedClock,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = fresh_database(&dir).await;
        let mut config = Config {
            listen: "127.0.0.1:0".parse().expect("addr"),
            database_url: database.to_string(),
            ..Config::default()
        };
        config.admin.listen = "127.0.0.1:0".parse().expect("addr");
        tweak(&mut config);
        let running = tollgate::server::start_with_clock(&config, demo, clock).await.expect("server starts");
        Self::around(running, config, dir, Some(database)).await
    }

    pub async fn start(config: Config, dir: TempDir) -> Self {
        Self::start_seeded(config, dir, false).await
    }

    async fn start_seeded(config: Config, dir: TempDir, demo: bool) -> Self {
        let running = tollgate::server::start(&config, demo).await.expect("server starts");
        Self::around(running, config, dir, None).await
    }

    async fn around(running: Running, config: Config, dir: TempDir, database: Option<TestDatabase>) -> Self {
        let store =
            tollgate::server::open_store(&config, tollgate_store::OpenMode::Existing).await.expect("store");
        let admin = running.admin();
        Self {
            base: format!("http://{}", running.addr()),
            admin_base: running.admin_addr.map(|addr| format!("http://{addr}")),
            client: reqwest::Client::new(),
            store,
            admin,
            config,
            dir,
            addrs: running.addrs.clone(),
            running: Some(running),
            _database: database,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `path` on the admin listener.
    pub fn admin_url(&self, path: &str) -> String {
        format!("{}{path}", self.admin_base.as_deref().expect("the admin listener is enabled"))
    }

    /// The Prometheus text the admin listener's `/metrics` serves now.
    pub async fn metrics(&self) -> String {
        let response = self.client.get(self.admin_url("/metrics")).send().await.expect("metrics");
        assert_eq!(response.status(), 200);
        response.text().await.expect("metrics text")
    }

    /// Runs the binary in the app's directory with `args`, `stdin` written
    /// to it (then closed) and `env` added; its whole output.
    pub fn run_binary(
        &self,
        args: &[&str],
        stdin: Option<&str>,
        env: &[(&str, &str)],
    ) -> std::process::Output {
        use std::io::Write as _;
        use std::process::{Command, Stdio};
        let mut child = Command::new(self.bin_path())
            .args(args)
            .envs(env.iter().copied())
            .current_dir(self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run tollgate");
        if let Some(input) = stdin {
            child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
        }
        drop(child.stdin.take());
        child.wait_with_output().expect("tollgate output")
    }

    pub fn bin_path(&self) -> PathBuf {
        PathBuf::from(env!("CARGO_BIN_EXE_tollgate"))
    }

    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await;
        }
    }

    /// A fixture: a principal with a password, written straight into the
    /// store (so a test may use the short passwords of the documents; the
    /// management plane's rules are tested through the CLI).
    pub async fn add_user(&self, name: &str, password: &str) {
        let hash = tollgate_core::password::hash_password(&tollgate_core::secret::Password::new(password))
            .expect("hash");
        let new = tollgate_core::model::NewPrincipal {
            id: tollgate_core::PrincipalId::new(),
            name: name.into(),
            name_key: tollgate_core::names::collision_key(name),
            roles: Vec::new(),
            realm: None,
            attributes: Default::default(),
            password: Some(tollgate_core::model::StoredPassword::argon2id(hash)),
            enabled: true,
            created_at: tollgate_core::time_util::now(),
        };
        self.store.create_principal(new).await.expect("add user");
    }

    pub async fn add_principal(&self, spec: PrincipalSpec) {
        self.admin.add_principal(&tollgate_core::AdminContext::cli(), spec).await.expect("add principal");
    }

    /// POSTs raw bytes with the given Content-Type (none if `None`).
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let mut request = self.client.post(self.url(path)).body(body);
        if let Some(content_type) = content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        Reply::from(request.send().await.expect("request")).await
    }

    /// POSTs with arbitrary headers, to any listener's base URL.
    pub async fn post_to(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let mut request = self.client.post(url).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Reply::from(request.send().await.expect("request")).await
    }

    pub async fn post_login_check(&self, body: &Value) -> Reply {
        self.post_raw("/v1/login_check", Some("application/json"), body.to_string()).await
    }

    /// Logs `name` in and returns the whole success body.
    pub async fn login(&self, name: &str, password: &str) -> Value {
        let reply = self.post_login_check(&json!({ "username": name, "password": password })).await;
        assert_eq!(reply.status, 200, "login failed: {}", reply.text);
        reply.json()
    }

    pub async fn refresh(&self, refresh_token: &str) -> Reply {
        self.post_raw(
            "/v1/token/refresh",
            Some("application/json"),
            json!({ "refresh_token": refresh_token }).to_string(),
        )
        .await
    }

    pub async fn verify(&self, token: &str) -> Reply {
        self.get("/auth/verify", Some(&format!("Bearer {token}"))).await
    }

    /// Polls until `token` is refused: a change made by another process (the
    /// CLI, another node) may take up to 2 s to reach the server.
    pub async fn refused_within_two_seconds(&self, token: &str) -> bool {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while std::time::Instant::now() < deadline {
            if self.verify(token).await.status == 401 {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        false
    }

    pub async fn get(&self, path: &str, authorization: Option<&str>) -> Reply {
        let mut request = self.client.get(self.url(path));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        Reply::from(request.send().await.expect("request")).await
    }
}

/// A response, read whole.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub async fn from(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        Self { status, headers, text }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts status and the exact body.
    pub fn assert(&self, status: u16, body: &str) {
        assert_eq!((self.status, self.text.as_str()), (status, body));
    }
}

/// Contract A's error body with one error.
pub fn error_list(code: u16, message: &str) -> String {
    json!({ "errors": [ { "error": code, "message": message } ] }).to_string()
}

/// A `tollgate serve` process of its own (its metrics and log hold only
/// what the test did), killed when dropped.
pub struct Served {
    pub child: tokio::process::Child,
    pub base: String,
    /// The admin listener.
    pub admin_base: String,
    /// What it logged before it listened.
    pub startup_log: Vec<String>,
    /// Its log lines, after the one that said it listens.
    pub log: tokio::sync::mpsc::UnboundedReceiver<String>,
}

/// Starts the real binary on `url` with `env` and extra `serve` arguments,
/// and waits until it listens; `Err` with its log if it stopped instead.
pub async fn serve_binary(url: &str, env: &[(&str, &str)], args: &[&str]) -> Result<Served, String> {
    use tokio::io::{AsyncBufReadExt as _, BufReader};
    let listen = format!("127.0.0.1:{}", free_port());
    let admin_listen = format!("127.0.0.1:{}", free_port());
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["serve", "--listen", &listen, "--database", url])
        .args(args)
        .env("TOLLGATE_ADMIN__LISTEN", &admin_listen)
        .envs(env.iter().copied())
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start tollgate");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut seen = Vec::new();
    loop {
        let line = tokio::time::timeout(deadline - std::time::Instant::now(), lines.next_line()).await;
        match line {
            Ok(Ok(Some(line))) if line.contains("listening on") => break,
            Ok(Ok(Some(line))) => seen.push(line),
            _ => return Err(seen.join("\n")),
        }
    }
    let (send, log) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            let _ = send.send(line);
        }
    });
    Ok(Served {
        child,
        base: format!("http://{listen}"),
        admin_base: format!("http://{admin_listen}"),
        startup_log: seen,
        log,
    })
}

impl Served {
    /// The Prometheus text its admin listener's `/metrics` serves now.
    pub async fn metrics(&self) -> String {
        let response = reqwest::get(format!("{}/metrics", self.admin_base)).await.expect("metrics");
        assert_eq!(response.status(), 200);
        response.text().await.expect("metrics text")
    }
}

/// The sum of every series whose name (labels included) starts with
/// `series` in a Prometheus text: `tollgate_lockouts_total`,
/// `tollgate_legacy_credentials{format="bcrypt"}`. `None` if there is none.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    let values: Vec<f64> = text
        .lines()
        .filter(|line| line.starts_with(series) && !line.starts_with('#'))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

/// A port free now (for a server process that binds it next).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}
