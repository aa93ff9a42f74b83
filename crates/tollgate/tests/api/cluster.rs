//! Several nodes over one PostgreSQL: tokens, rotation and revocations are
//! shared; a node rides out a PostgreSQL restart; `migrate-data` moves a
//! SQLite database into PostgreSQL. Real server processes throughout.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, BufReader};

use crate::helpers::fresh_postgres_schema;

const C_LOGIN: &str = r#"{"accessKey":"986d8167a9b9a15e37db4ab4ad50877b01347a94","secret":"79bPqahzbeYuIgyod1GBjsBy38wN7KuBBNNmN/emwjFCuAfq"}"#;
const B_LOGIN: &str = r#"{"UserLogin":"John.Doo","ApiKey":"hDn/LFXIPESM036W+s7VKg=="}"#;
const A_LOGIN: &str = r#"{"username":"user","password":"1234"}"#;
const DOC_KEY: &str = "986d8167a9b9a15e37db4ab4ad50877b01347a94";

/// The PostgreSQL of the test suite, or `None` (skipped) outside CI.
fn test_postgres() -> Option<String> {
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(url) => Some(url),
        Err(_) => {
            assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "CI must set TEST_POSTGRES_URL");
            eprintln!("TEST_POSTGRES_URL not set: multi-node test skipped");
            None
        }
    }
}

/// A `tollgate serve` process.
struct Node {
    base: String,
    /// Held so the process is killed when the node is dropped.
    _child: tokio::process::Child,
    client: reqwest::Client,
}

impl Node {
    /// A node that seeds the documents' demo credentials.
    async fn start(database_url: &str, extra_env: &[(&str, &str)]) -> Self {
        Self::start_serving(database_url, extra_env, true).await
    }

    async fn start_serving(database_url: &str, extra_env: &[(&str, &str)], demo: bool) -> Self {
        let port =
            std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let listen = format!("127.0.0.1:{port}");
        let mut args = vec!["serve", "--listen", &listen];
        if demo {
            args.push("--demo");
        }
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .args(&args)
            .env("TOLLGATE_DATABASE_URL", database_url)
            .envs(extra_env.iter().copied())
            .env("RUST_LOG", "info")
            .env("TOLLGATE_ADMIN__LISTEN", "127.0.0.1:0")
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start tollgate");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            assert!(Instant::now() < deadline, "node did not start");
            match tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await {
                Ok(Ok(Some(line))) if line.contains("listening on") => break,
                Ok(Ok(Some(_))) => {}
                _ => panic!("node exited before listening"),
            }
        }
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self { base: format!("http://127.0.0.1:{port}"), _child: child, client: reqwest::Client::new() }
    }

    async fn post(&self, path: &str, content_type: &str, body: &str) -> (u16, String) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body.to_owned())
            .timeout(Duration::from_secs(15))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    async fn json(&self, path: &str, body: &str) -> Value {
        let (status, text) = self.post(path, "application/json", body).await;
        assert!(status < 300, "{path}: {status} {text}");
        serde_json::from_str(&text).expect("json")
    }

    async fn verify(&self, token: &str) -> u16 {
        self.client
            .get(format!("{}/auth/verify", self.base))
            .bearer_auth(token)
            .send()
            .await
            .map_or(0, |r| r.status().as_u16())
    }

    async fn status(&self, path: &str) -> u16 {
        self.client
            .get(format!("{}{path}", self.base))
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_or(0, |r| r.status().as_u16())
    }
}

/// How long until `token` is refused by `node` (panics after 2 s).
async fn refused_within_two_seconds(node: &Node, token: &str, since: Instant) -> Duration {
    loop {
        if node.verify(token).await == 401 {
            return since.elapsed();
        }
        assert!(since.elapsed() < Duration::from_secs(2), "still accepted after 2 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn cli(database_url: &str, args: &[&str]) -> Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["--database", database_url, "--json"])
        .args(args)
        .output()
        .expect("run tollgate");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json")
}

#[tokio::test]
async fn two_nodes_on_one_postgres_share_tokens_rotation_and_revocations() {
    let Some(base) = test_postgres() else { return };
    let url = fresh_postgres_schema(&base).await;
    // Both start (and seed the demo, and migrate) at the same time.
    let (one, two) = tokio::join!(Node::start(&url, &[]), Node::start(&url, &[]));

    let a = one.json("/v1/login_check", A_LOGIN).await;
    let b = two.json("/api/login", B_LOGIN).await;
    let (status, c) = one.post("/login", "application/json", C_LOGIN).await;
    assert_eq!(status, 201);
    for token in [a["token"].as_str().expect("a"), b["Token"].as_str().expect("b"), c.as_str()] {
        assert_eq!(one.verify(token).await, 200);
        assert_eq!(two.verify(token).await, 200);
    }
    let introspected = two
        .post(
            "/oauth2/introspect",
            "application/x-www-form-urlencoded",
            &format!("token={}&client_id={DOC_KEY}&client_secret=79bPqahzbeYuIgyod1GBjsBy38wN7KuBBNNmN%2FemwjFCuAfq", a["token"].as_str().expect("a")),
        )
        .await;
    assert_eq!(serde_json::from_str::<Value>(&introspected.1).expect("json")["active"], true);

    // A refresh token rotated on one node cannot be reused on the other.
    let refresh = a["refresh_token"].as_str().expect("refresh");
    let next = one.json("/v1/token/refresh", &json!({ "refresh_token": refresh }).to_string()).await;
    let (status, _) = two
        .post("/v1/token/refresh", "application/json", &json!({ "refresh_token": refresh }).to_string())
        .await;
    assert_eq!(status, 401);
    let since = Instant::now();
    let took = refused_within_two_seconds(&one, next["token"].as_str().expect("token"), since).await;
    eprintln!("reuse on node two revoked the family on node one after {took:?}");

    // Revocations, disabled principals and key states made anywhere reach every node.
    let jwt = c.clone();
    let since = Instant::now();
    cli(&url, &["accesskey", "set-state", DOC_KEY, "expired"]);
    let took_one = refused_within_two_seconds(&one, &jwt, since).await;
    let took_two = refused_within_two_seconds(&two, &jwt, since).await;
    eprintln!("access key expired via CLI: node one after {took_one:?}, node two after {took_two:?}");

    let b_token = b["Token"].as_str().expect("b");
    let since = Instant::now();
    cli(&url, &["principal", "disable", "John.Doo"]);
    refused_within_two_seconds(&one, b_token, since).await;
    refused_within_two_seconds(&two, b_token, since).await;

    let fresh = one.json("/v1/login_check", A_LOGIN).await;
    let since = Instant::now();
    cli(&url, &["token", "revoke", fresh["token"].as_str().expect("token")]);
    refused_within_two_seconds(&two, fresh["token"].as_str().expect("token"), since).await;
}

#[tokio::test]
async fn migrate_data_copies_a_sqlite_database_into_postgres() {
    let Some(base) = test_postgres() else { return };
    let dir = tempfile::tempdir().expect("dir");
    let sqlite = format!("sqlite://{}", dir.path().join("old.db").display());
    let node = Node::start(&sqlite, &[]).await;
    let a = node.json("/v1/login_check", A_LOGIN).await;
    let b = node.json("/api/login", B_LOGIN).await;
    let (_, c) = node.post("/login", "application/json", C_LOGIN).await;
    drop(node);

    let postgres = fresh_postgres_schema(&base).await;
    let report = cli(&sqlite, &["migrate-data", "--from", &sqlite, "--to", &postgres]);
    assert_eq!(report["copied"]["principals"], 4, "the demo's four: {report}");
    assert!(report["copied"]["tokens"].as_u64().expect("tokens") >= 2, "{report}");
    assert_eq!(report["copied"]["apiKeys"], 1, "camelCase, as every --json: {report}");
    assert!(report["copied"]["refreshTokens"].as_u64().expect("refreshTokens") >= 1, "{report}");
    // Copying again changes nothing.
    let again = cli(&sqlite, &["migrate-data", "--from", &sqlite, "--to", &postgres]);
    assert_eq!(again["copied"]["principals"], 0);

    let moved = Node::start(&postgres, &[]).await;
    for token in [a["token"].as_str().expect("a"), b["Token"].as_str().expect("b"), c.as_str()] {
        assert_eq!(moved.verify(token).await, 200, "a token issued before the move still works");
    }
    let refreshed =
        moved.json("/v1/token/refresh", &json!({ "refresh_token": a["refresh_token"] }).to_string()).await;
    assert_eq!(moved.verify(refreshed["token"].as_str().expect("token")).await, 200);
    assert_eq!(
        moved.post("/api/login", "application/json", B_LOGIN).await.0,
        200,
        "API keys (keyed hashes) still match"
    );
}

#[tokio::test]
async fn a_lock_made_on_one_node_holds_on_the_other_within_two_seconds() {
    let Some(base) = test_postgres() else { return };
    let url = fresh_postgres_schema(&base).await;
    let env = [("TOLLGATE_PROTECTION__LOCKOUT_THRESHOLD", "3"), ("TOLLGATE_PROTECTION__LOCKOUT_BASE", "1h")];
    let (one, two) = tokio::join!(Node::start(&url, &env), Node::start(&url, &env));
    let wrong = r#"{"username":"user","password":"wrong"}"#;
    for _ in 0..3 {
        assert_eq!(one.post("/v1/login_check", "application/json", wrong).await.0, 401);
    }
    let since = Instant::now();
    loop {
        // The right password: refused only once the other node honours the
        // lock. What counts is when an attempt starts: one that starts in
        // time may still take an argon2id verify (slow on a loaded machine)
        // before it is accepted, and the next one must then be refused.
        let started = since.elapsed();
        if two.post("/v1/login_check", "application/json", A_LOGIN).await.0 == 401 {
            eprintln!("lock honoured by the other node for a login started {started:?} after it was made");
            break;
        }
        assert!(
            started < Duration::from_secs(2),
            "node two accepted a login started {started:?} after the lock was made on node one"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs a command that must fail; its standard error.
fn cli_fails(database_url: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["--database", database_url])
        .args(args)
        .output()
        .expect("run tollgate");
    assert!(!out.status.success(), "{args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs a command that reads its password from standard input.
fn cli_with_password(database_url: &str, args: &[&str], password: &str) -> Value {
    use std::io::Write as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["--database", database_url, "--json"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tollgate");
    child.stdin.take().expect("stdin").write_all(format!("{password}\n").as_bytes()).expect("password");
    let out = child.wait_with_output().expect("output");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json")
}

#[tokio::test]
async fn migrate_data_into_a_target_started_once_copies_credentials_that_all_work() {
    let Some(base) = test_postgres() else { return };
    let dir = tempfile::tempdir().expect("dir");
    let sqlite = format!("sqlite://{}", dir.path().join("old.db").display());
    let node = Node::start(&sqlite, &[]).await;
    cli_with_password(&sqlite, &["principal", "add", "mover", "--password-stdin"], "moving-day-1");
    let api_key = cli(&sqlite, &["apikey", "issue", "mover"]);
    let access = cli(&sqlite, &["accesskey", "create", "mover"]);
    let a = node.json("/v1/login_check", A_LOGIN).await;
    drop(node);

    // The target ran once: it generated key material of its own, and holds
    // nothing that depends on it.
    let postgres = fresh_postgres_schema(&base).await;
    drop(Node::start_serving(&postgres, &[], false).await);
    let report = cli(&sqlite, &["migrate-data", "--from", &sqlite, "--to", &postgres]);
    assert_eq!(report["copied"]["principals"], 5, "{report}");
    assert_eq!(report["copied"]["apiKeys"], 2, "{report}");
    assert_eq!(report["copied"]["accessKeys"], 2, "{report}");

    let moved = Node::start_serving(&postgres, &[], false).await;
    // Every kind of credential copied works: passwords, API keys, access
    // keys (contract C and OAuth 2.0), and tokens issued before the move.
    assert_eq!(moved.post("/v1/login_check", "application/json", A_LOGIN).await.0, 200);
    let mover = json!({ "username": "mover", "password": "moving-day-1" }).to_string();
    assert_eq!(moved.post("/v1/login_check", "application/json", &mover).await.0, 200);
    assert_eq!(moved.post("/api/login", "application/json", B_LOGIN).await.0, 200);
    let movers_key = json!({ "UserLogin": "mover", "ApiKey": api_key["apiKey"] }).to_string();
    assert_eq!(moved.post("/api/login", "application/json", &movers_key).await.0, 200);
    assert_eq!(moved.post("/login", "application/json", C_LOGIN).await.0, 201);
    let movers_access = json!({ "accessKey": access["accessKey"], "secret": access["secret"] }).to_string();
    assert_eq!(moved.post("/login", "application/json", &movers_access).await.0, 201);
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        access["accessKey"].as_str().expect("key"),
        form_urlencoded::byte_serialize(access["secret"].as_str().expect("secret").as_bytes())
            .collect::<String>()
    );
    assert_eq!(moved.post("/oauth2/token", "application/x-www-form-urlencoded", &form).await.0, 200);
    assert_eq!(moved.verify(a["token"].as_str().expect("token")).await, 200);
}

#[tokio::test]
async fn migrate_data_refuses_a_seeded_target_before_copying_anything() {
    let Some(base) = test_postgres() else { return };
    let dir = tempfile::tempdir().expect("dir");
    let sqlite = format!("sqlite://{}", dir.path().join("old.db").display());
    drop(Node::start(&sqlite, &[]).await);
    cli_with_password(&sqlite, &["principal", "add", "mover", "--password-stdin"], "moving-day-1");
    // The target was seeded on its own: the same names under other ids,
    // and other key material that its keys depend on.
    let postgres = fresh_postgres_schema(&base).await;
    drop(Node::start(&postgres, &[]).await);
    let before = cli(&postgres, &["principal", "list"]);

    let stderr = cli_fails(&sqlite, &["migrate-data", "--from", &sqlite, "--to", &postgres]);
    assert!(stderr.contains("nothing copied"), "{stderr}");
    assert!(stderr.contains("Copy into an empty database"), "{stderr}");
    assert_eq!(cli(&postgres, &["principal", "list"]), before, "the target changed");
}

/// A PostgreSQL cluster of the test's own, on its own port, so that stopping
/// it disturbs nothing else.
struct ThrowawayPostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    as_postgres_user: bool,
    _dir: tempfile::TempDir,
}

impl ThrowawayPostgres {
    fn create() -> Option<Self> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .find(|bin| bin.join("initdb").exists())?;
        let dir = tempfile::tempdir().ok()?;
        let as_postgres_user = unsafe_is_root();
        if as_postgres_user {
            std::process::Command::new("chown").args(["-R", "postgres"]).arg(dir.path()).status().ok()?;
        }
        let data = dir.path().join("data");
        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let cluster = Self { bin, data, port, as_postgres_user, _dir: dir };
        let initdb = cluster.bin.join("initdb");
        let ok = cluster.run(
            &initdb,
            &["-D", &cluster.data.display().to_string(), "-A", "trust", "-U", "postgres", "--no-sync"],
        );
        ok.then_some(cluster)
    }

    fn run(&self, program: &Path, args: &[&str]) -> bool {
        let mut command = if self.as_postgres_user {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            std::process::Command::new(program)
        };
        command.args(args).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
    }

    fn pg_ctl(&self, action: &str) -> bool {
        let socket_dir = self.data.parent().map(|p| p.display().to_string()).unwrap_or_default();
        let options = format!("-p {} -k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off", self.port);
        let log = format!("{socket_dir}/postgres.log");
        let data = self.data.display().to_string();
        self.run(
            &self.bin.join("pg_ctl"),
            &["-D", &data, "-o", &options, "-l", &log, "-w", "-m", "fast", action],
        )
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for ThrowawayPostgres {
    fn drop(&mut self) {
        self.pg_ctl("stop");
    }
}

/// Root cannot run initdb; the cluster then runs as the `postgres` user.
fn unsafe_is_root() -> bool {
    std::process::Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

#[tokio::test]
async fn a_node_answers_quickly_during_a_postgres_outage_and_recovers_by_itself() {
    if test_postgres().is_none() {
        return;
    }
    let Some(cluster) = ThrowawayPostgres::create() else {
        assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "CI must be able to run initdb");
        eprintln!("no initdb: outage test skipped");
        return;
    };
    assert!(cluster.pg_ctl("start"), "throwaway PostgreSQL did not start");
    let node = Node::start(&cluster.url(), &[("TOLLGATE_DATABASE_TIMEOUT", "1s")]).await;
    let (_, jwt) = node.post("/login", "application/json", C_LOGIN).await;
    assert_eq!(node.post("/v1/login_check", "application/json", A_LOGIN).await.0, 200);
    assert_eq!(node.status("/readyz").await, 200);
    assert_eq!(node.verify(&jwt).await, 200);

    assert!(cluster.pg_ctl("stop"), "could not stop PostgreSQL");
    for (path, body, content_type) in
        [("/v1/login_check", A_LOGIN, "application/json"), ("/api/login", B_LOGIN, "application/json")]
    {
        let started = Instant::now();
        let (status, text) = node.post(path, content_type, body).await;
        assert_eq!(status, 500, "{path}: {text}");
        assert!(started.elapsed() < Duration::from_secs(4), "{path} took {:?}", started.elapsed());
    }
    let started = Instant::now();
    assert_eq!(node.status("/readyz").await, 503);
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(node.status("/healthz").await, 200);
    // A token already checked stays valid: nothing can be revoked while the
    // database is away. (One never seen before fails closed: 401.)
    assert_eq!(node.verify(&jwt).await, 200);

    assert!(cluster.pg_ctl("start"), "could not restart PostgreSQL");
    let deadline = Instant::now() + Duration::from_secs(20);
    while node.post("/v1/login_check", "application/json", A_LOGIN).await.0 != 200 {
        assert!(Instant::now() < deadline, "the node did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(node.status("/readyz").await, 200);
    assert_eq!(node.post("/api/login", "application/json", B_LOGIN).await.0, 200);
}
