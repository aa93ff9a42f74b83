//! The server as a whole: health, readiness, metrics, unknown URLs, restart
//! durability, database failure, graceful shutdown.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncBufReadExt as _, BufReader};

use crate::helpers::{TestApp, error_list, free_port, serve_binary};

#[tokio::test]
async fn healthz_readyz_and_metrics_answer() {
    let app = TestApp::spawn().await;
    app.get("/healthz", None).await.assert(200, r#"{"status":"ok"}"#);
    app.get("/readyz", None).await.assert(200, r#"{"status":"ready"}"#);
    app.add_user("user", "1234").await;
    // Metrics are the process's: a server process of its own counts only
    // this test's logins.
    let served = serve_binary(&app.config.database_url, &[], &[]).await.expect("starts");
    let client = reqwest::Client::new();
    let base = served.base.clone();
    for (password, status) in [("1234", 200), ("nope", 401)] {
        let reply = client
            .post(format!("{base}/v1/login_check"))
            .json(&json!({ "username": "user", "password": password }))
            .send()
            .await
            .expect("login");
        assert_eq!(reply.status(), status);
    }
    // What is sampled rather than counted shows after the next upkeep (1 s).
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    let metrics = served.metrics().await;
    for needle in [
        "# HELP tollgate_logins_total ",
        "# HELP tollgate_tokens_issued_total ",
        &format!("tollgate_build_info{{version=\"{}\"}} 1\n", env!("CARGO_PKG_VERSION")),
        "process_resident_memory_bytes ",
        "process_open_fds ",
        "process_cpu_seconds_total ",
        "tollgate_cache_lookups_total{",
        "tollgate_db_connections{state=\"open\"} ",
        "tollgate_store_commits_total{result=\"ok\"} ",
        "tollgate_store_batch_ops_bucket",
        // Counted once each, under the right labels.
        "tollgate_logins_total{contract=\"login_check\",outcome=\"success\"} 1\n",
        "tollgate_logins_total{contract=\"login_check\",outcome=\"bad_credentials\"} 1\n",
        "tollgate_tokens_issued_total{contract=\"login_check\"} 1\n",
        "tollgate_login_duration_seconds_bucket",
    ] {
        assert!(metrics.contains(needle), "{needle} missing from /metrics:\n{metrics}");
    }
    assert!(!metrics.contains("1234"), "no secret in metrics");
}

#[tokio::test]
async fn the_public_listener_serves_no_metrics_and_no_admin_plane() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    for path in ["/metrics", "/admin/v1/principals", "/admin/v1/openapi.json", "/"] {
        app.get(path, None).await.assert(404, &error_list(404, "Invalid request URL."));
    }
    assert!(app.metrics().await.contains("tollgate_"), "the admin listener serves them");
}

#[tokio::test]
async fn unknown_urls_get_404_and_wrong_methods_405_as_json_error_lists() {
    let app = TestApp::spawn().await;
    app.get("/nope", None).await.assert(404, &error_list(404, "Invalid request URL."));
    app.post_raw("/v1/login_check/extra", Some("application/json"), "{}")
        .await
        .assert(404, &error_list(404, "Invalid request URL."));
    let reply = app.get("/v1/login_check", None).await;
    reply.assert(405, &error_list(405, "Method not allowed."));
    assert_eq!(reply.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn a_locked_database_gives_a_json_500_quickly_and_the_service_recovers() {
    if std::env::var("TOLLGATE_TEST_BACKEND").as_deref() == Ok("postgres") {
        return; // PostgreSQL outages are tested by the multi-node suite.
    }
    let app = TestApp::spawn_with(|c| c.database_timeout.0 = Duration::from_millis(500)).await;
    app.add_user("user", "1234").await;
    // Another process holds SQLite's write lock: token writes cannot commit.
    let mut locker = sqlite_locker(&app.config.database_url).await;
    let started = Instant::now();
    let reply = app.post_login_check(&json!({ "username": "user", "password": "1234" })).await;
    reply.assert(500, &error_list(500, "Internal Server Error. Please try again later or contact support."));
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    locker.release().await;
    assert_eq!(app.post_login_check(&json!({ "username": "user", "password": "1234" })).await.status, 200);
}

struct Locker(sqlx::SqliteConnection);

impl Locker {
    async fn release(&mut self) {
        sqlx::query("ROLLBACK").execute(&mut self.0).await.expect("rollback");
    }
}

async fn sqlite_locker(url: &str) -> Locker {
    use sqlx::Connection as _;
    let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect");
    sqlx::query("BEGIN IMMEDIATE").execute(&mut conn).await.expect("lock");
    Locker(conn)
}

/// Starts the real binary and waits for its "listening" line.
async fn spawn_binary(app: &TestApp, port: u16) -> tokio::process::Child {
    let mut child = tokio::process::Command::new(app.bin_path())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database", &app.config.database_url])
        .env("RUST_LOG", "info")
        .env("TOLLGATE_ADMIN__LISTEN", "127.0.0.1:0")
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start tollgate");
    wait_until_listening(&mut child).await;
    child
}

#[tokio::test]
async fn tokens_survive_kill_minus_9_and_a_restart() {
    let mut app = TestApp::spawn().await;
    app.stop().await;
    app.add_user("user", "1234").await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut child = spawn_binary(&app, port).await;
    let login: serde_json::Value = client
        .post(format!("{base}/v1/login_check"))
        .header("content-type", "application/json")
        .body(r#"{"username":"user","password":"1234"}"#)
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    // SIGKILL: no shutdown hook runs; only what was committed survives.
    child.start_kill().expect("kill -9");
    let _ = child.wait().await;

    let _child = spawn_binary(&app, port).await;
    let token = login["token"].as_str().expect("token");
    let verify = client.get(format!("{base}/auth/verify")).bearer_auth(token).send().await.expect("verify");
    assert_eq!(verify.status(), 200);
    let refresh = client
        .post(format!("{base}/v1/token/refresh"))
        .header("content-type", "application/json")
        .body(json!({ "refresh_token": login["refresh_token"] }).to_string())
        .send()
        .await
        .expect("refresh");
    assert_eq!(refresh.status(), 200);
}

#[tokio::test]
async fn sigterm_lets_an_in_flight_login_finish_before_exiting() {
    let mut app = TestApp::spawn().await;
    app.stop().await;
    app.add_user("user", "1234").await;
    let port = free_port();
    let mut child = spawn_binary(&app, port).await;
    let client = reqwest::Client::new();
    let login = tokio::spawn(
        client
            .post(format!("http://127.0.0.1:{port}/v1/login_check"))
            .header("content-type", "application/json")
            .body(r#"{"username":"user","password":"1234"}"#)
            .send(),
    );
    // argon2 takes tens of milliseconds: the login is in flight now.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let pid = child.id().expect("pid");
    let _ = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
    let response = login.await.expect("join").expect("the in-flight request got an answer");
    assert_eq!(response.status(), 200);
    let status =
        tokio::time::timeout(Duration::from_secs(10), child.wait()).await.expect("exits").expect("status");
    assert!(status.success(), "exit status {status:?}");
}

#[tokio::test]
async fn sighup_without_an_https_listener_leaves_the_server_serving() {
    let mut app = TestApp::spawn().await;
    app.stop().await;
    let port = free_port();
    let mut child = spawn_binary(&app, port).await;
    let pid = child.id().expect("pid");
    let _ = std::process::Command::new("kill").args(["-HUP", &pid.to_string()]).status();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(child.try_wait().expect("status").is_none(), "SIGHUP ended the server");
    let health = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await.expect("still answers");
    assert_eq!(health.status(), 200);
    let _ = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
    let status =
        tokio::time::timeout(Duration::from_secs(10), child.wait()).await.expect("exits").expect("status");
    assert!(status.success(), "exit status {status:?}");
}

#[tokio::test]
async fn string_values_from_the_environment_are_taken_verbatim() {
    let mut app = TestApp::spawn().await;
    app.stop().await;
    // Looks like a quoted TOML string; the secret is all of it, quotes included.
    let secret = "\"an-hs384-secret-that-looks-like-toml-0123456789abcdef\"";
    let port = free_port();
    let mut child = tokio::process::Command::new(app.bin_path())
        .args([
            "serve",
            "--demo",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database",
            &app.config.database_url,
        ])
        .env("TOLLGATE_JWT__SECRET", secret)
        .env("RUST_LOG", "info")
        .env("TOLLGATE_ADMIN__LISTEN", "127.0.0.1:0")
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.contains("listening on") {
            break;
        }
    }
    let token = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/login"))
        .header("content-type", "application/json")
        .body(r#"{"accessKey":"986d8167a9b9a15e37db4ab4ad50877b01347a94","secret":"79bPqahzbeYuIgyod1GBjsBy38wN7KuBBNNmN/emwjFCuAfq"}"#)
        .send()
        .await
        .expect("login")
        .text()
        .await
        .expect("token");
    let (message, signature) = token.rsplit_once('.').expect("jwt");
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    let expected =
        jsonwebtoken::crypto::sign(message.as_bytes(), &key, jsonwebtoken::Algorithm::HS384).expect("sign");
    assert_eq!(signature, expected);
}

#[tokio::test]
async fn under_concurrent_load_every_token_answered_before_kill_minus_9_survives() {
    let mut app = TestApp::spawn_demo_with(|_| {}).await;
    app.stop().await;
    let port = free_port();
    let start = |port: u16| {
        let mut command = tokio::process::Command::new(app.bin_path());
        command
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database", &app.config.database_url])
            .env("TOLLGATE_APIKEY__TOKEN_TTL", "10m")
            .env("RUST_LOG", "info")
            .env("TOLLGATE_ADMIN__LISTEN", "127.0.0.1:0")
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    };
    let mut child = start(port).spawn().expect("start");
    wait_until_listening(&mut child).await;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let (client, url) = (client.clone(), format!("{base}/api/login"));
        clients.spawn(async move {
            let mut answered = Vec::new();
            loop {
                let sent = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(r#"{"UserLogin":"John.Doo","ApiKey":"hDn/LFXIPESM036W+s7VKg=="}"#)
                    .send()
                    .await;
                let Ok(response) = sent else { break };
                if response.status() != 200 {
                    break;
                }
                let Ok(body) = response.json::<serde_json::Value>().await else { break };
                answered.push(body["Token"].as_str().unwrap_or_default().to_owned());
            }
            answered
        });
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    child.start_kill().expect("kill -9"); // SIGKILL while writes are in flight
    let _ = child.wait().await;
    let answered: Vec<String> = clients.join_all().await.into_iter().flatten().collect();
    assert!(answered.len() > 100, "only {} logins were answered before the kill", answered.len());

    let mut restarted = start(port).spawn().expect("restart");
    wait_until_listening(&mut restarted).await;
    let mut lost = 0;
    for token in &answered {
        let status = client
            .get(format!("{base}/auth/verify"))
            .bearer_auth(token)
            .send()
            .await
            .expect("verify")
            .status();
        if status != 200 {
            lost += 1;
        }
    }
    assert_eq!(lost, 0, "{lost} of {} answered tokens were lost", answered.len());
    eprintln!("{} tokens answered before kill -9, all valid after restart", answered.len());
}

async fn wait_until_listening(child: &mut tokio::process::Child) {
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await {
            Ok(Ok(Some(line))) if line.contains("listening on") => break,
            Ok(Ok(Some(_))) => continue,
            _ => panic!("tollgate did not start"),
        }
    }
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let app = TestApp::spawn().await;
    let mut stream = tokio::net::TcpStream::connect(app.addrs[0]).await.expect("connect");
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.expect("write");
    let started = Instant::now();
    let mut buffer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut buffer)).await;
    assert!(read.is_ok(), "the connection was still open after 20 s");
    assert!(started.elapsed() >= Duration::from_secs(9), "cut off too early: {:?}", started.elapsed());
    // Meanwhile the server kept serving everyone else.
    assert_eq!(app.get("/healthz", None).await.status, 200);
}

/// Writes `sent` on a fresh connection and reads until the server closes it;
/// returns what it answered and how long that took (at most 30 s).
async fn answer_to(app: &TestApp, sent: &[u8]) -> (String, Duration) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(app.addrs[0]).await.expect("connect");
    stream.write_all(sent).await.expect("write");
    let started = Instant::now();
    let mut buffer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut buffer)).await;
    assert!(read.is_ok(), "the connection was still open after 30 s, having sent {sent:?}");
    (String::from_utf8_lossy(&buffer).into_owned(), started.elapsed())
}

#[tokio::test]
async fn connections_that_send_nothing_or_half_an_http2_preface_are_closed() {
    let app = TestApp::spawn().await;
    let (silent, half_preface) = tokio::join!(answer_to(&app, b""), answer_to(&app, b"PRI * HTTP/2.0\r\n"));
    for (answer, took) in [silent, half_preface] {
        assert!(answer.is_empty(), "{answer}");
        assert!(took >= Duration::from_secs(9), "closed too early: {took:?}");
    }
    assert_eq!(app.get("/healthz", None).await.status, 200);
}

#[tokio::test]
async fn a_body_that_stalls_gets_the_contracts_4xx_and_the_connection_is_closed() {
    let app = TestApp::spawn().await;
    let stalled = |path: &str, content_type: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: 100\r\n\r\n{{\"a\":"
        )
    };
    let requests = [
        stalled("/v1/login_check", "application/json"),
        stalled("/api/login", "application/json"),
        stalled("/login", "application/json"),
        stalled("/oauth2/token", "application/x-www-form-urlencoded"),
    ];
    let (a, b, c, oauth) = tokio::join!(
        answer_to(&app, requests[0].as_bytes()),
        answer_to(&app, requests[1].as_bytes()),
        answer_to(&app, requests[2].as_bytes()),
        answer_to(&app, requests[3].as_bytes()),
    );
    for ((answer, took), expected) in [
        (a, "\"error\":110"),
        (b, "\"ErrorNumber\":1002"),
        (c, "The request body is not valid JSON."),
        (oauth, "\"error\":\"invalid_request\""),
    ] {
        assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
        assert!(answer.contains(expected), "{answer}");
        assert!((Duration::from_secs(9)..Duration::from_secs(25)).contains(&took), "{took:?}");
    }
}

#[tokio::test]
async fn a_declared_body_over_the_limit_is_refused_at_once() {
    let app = TestApp::spawn().await;
    let request = "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                   Content-Length: 100000000\r\nConnection: close\r\n\r\n{\"a\":1}";
    let (answer, took) = answer_to(&app, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    assert!(answer.contains("The request body is too large."), "{answer}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test]
async fn several_processes_set_up_one_new_sqlite_file_at_once() {
    for round in 0..3 {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join(format!("new{round}.db")).display());
        let mut runs = tokio::task::JoinSet::new();
        for _ in 0..4 {
            runs.spawn(
                tokio::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
                    .args(["--database", &url, "migrate", "--json"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .output(),
            );
        }
        while let Some(output) = runs.join_next().await {
            let output = output.expect("task").expect("run tollgate migrate");
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        }
    }
}

#[tokio::test]
async fn start_up_logs_the_version_and_a_taken_port_shows_no_demo_banner() {
    let dir = tempfile::tempdir().expect("dir");
    let url = crate::helpers::fresh_database(&dir).await;
    let served = serve_binary(&url, &[], &["--demo"]).await.expect("starts");
    let version = format!("version=\"{}\"", env!("CARGO_PKG_VERSION"));
    assert!(served.startup_log.iter().any(|line| line.contains(&version)), "{:?}", served.startup_log);

    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}"), "--database", &url])
        .env("TOLLGATE_ADMIN__LISTEN", "127.0.0.1:0")
        .output()
        .await
        .expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains(&format!("cannot listen on 127.0.0.1:{port}")), "{stderr}");
    assert!(!stderr.contains("DEMO MODE"), "a server that never listened announced the demo: {stderr}");
}
