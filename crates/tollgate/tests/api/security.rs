//! DESIGN.md §7, rule by rule, tried as an attacker or a careless
//! operator would: files and keys at rest, names, forged tokens and keys,
//! ambiguous requests, disabled principals, the issuer. The table in
//! `hostile_requests_get_the_contracts_answer` is the hostile-input
//! catalogue: each row one request and the answer it must get.

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_list, fresh_database, serve_binary};

const JOHN: &str = r#"{"UserLogin":"John.Doo","ApiKey":"hDn/LFXIPESM036W+s7VKg=="}"#;
const PARTNER: &str = r#"{"accessKey":"986d8167a9b9a15e37db4ab4ad50877b01347a94","secret":"79bPqahzbeYuIgyod1GBjsBy38wN7KuBBNNmN/emwjFCuAfq"}"#;
const USER: &str = r#"{"username":"user","password":"1234"}"#;
const SECRET: &str = "a-test-secret-that-is-long-enough-for-hs384-0123456789";

fn on_postgres() -> bool {
    std::env::var("TOLLGATE_TEST_BACKEND").as_deref() == Ok("postgres")
}

/// Runs the CLI against `url`; (success, stdout, stderr).
fn cli(url: &str, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["--database", url])
        .args(args)
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run tollgate");
    if let Some(input) = stdin {
        child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("stdin");
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("output");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn post(base: &str, path: &str, content_type: &str, body: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

async fn verify(base: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{base}/auth/verify"))
        .bearer_auth(token)
        .send()
        .await
        .expect("verify")
        .status()
        .as_u16()
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

fn private_file(dir: &Path, name: &str, content: &str, mode_bits: u32) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode_bits)).expect("chmod");
    path
}

#[tokio::test]
async fn files_tollgate_creates_are_private_whatever_the_umask() {
    if on_postgres() {
        eprintln!("skipped on PostgreSQL: SQLite's files are checked here");
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("open.db");
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    // The widest umask there is: nothing masked.
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 000; exec '{}' serve --demo --listen 127.0.0.1:{port} --database sqlite://{}",
            env!("CARGO_BIN_EXE_tollgate"),
            db.display()
        ))
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start");
    let base = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..200 {
        if reqwest::get(format!("{base}/healthz")).await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "server did not start");
    assert_eq!(post(&base, "/api/login", "application/json", JOHN).await.0, 200);
    for file in ["open.db", "open.db-wal", "open.db-shm"] {
        assert_eq!(mode(&dir.path().join(file)), 0o600, "{file} is not private");
    }
    child.start_kill().expect("stop");
}

#[tokio::test]
async fn a_key_file_group_or_others_can_read_stops_start_up_naming_it() {
    let dir = tempfile::tempdir().expect("dir");
    let url = fresh_database(&dir).await;
    let jwt = private_file(dir.path(), "jwt.key", SECRET, 0o644);
    let master = private_file(dir.path(), "master.key", &"ab".repeat(32), 0o640);
    for (variable, file) in
        [("TOLLGATE_JWT__SECRET_FILE", &jwt), ("TOLLGATE_SECRETS__MASTER_KEY_FILE", &master)]
    {
        let env = [(variable, file.to_str().expect("path"))];
        let log = serve_binary(&url, &env, &[]).await.err().expect("start-up must stop");
        assert!(log.contains(&file.display().to_string()) && log.contains("chmod 600"), "{variable}: {log}");
    }
}

/// Raw rows of `server_secrets`, read straight from the database.
async fn stored_secrets(url: &str) -> Vec<(String, Vec<u8>)> {
    use sqlx::Connection as _;
    let sql = "SELECT name, value FROM server_secrets";
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect");
        sqlx::query_as(sql).fetch_all(&mut conn).await.expect("secrets")
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
        sqlx::query_as(sql).fetch_all(&mut conn).await.expect("secrets")
    }
}

#[tokio::test]
async fn with_a_master_key_the_database_alone_holds_no_key_material_and_the_key_rotates() {
    let dir = tempfile::tempdir().expect("dir");
    let url = fresh_database(&dir).await;
    let old = private_file(dir.path(), "old.key", &"a1".repeat(32), 0o600);
    let new = private_file(dir.path(), "new.key", &format!("{}\n", "b2".repeat(32)), 0o400);
    let variable = "TOLLGATE_SECRETS__MASTER_KEY_FILE";
    let old_env = [(variable, old.to_str().expect("path"))];
    let new_env = [(variable, new.to_str().expect("path"))];

    let served = serve_binary(&url, &old_env, &["--demo"]).await.expect("starts with the key");
    let (status, jwt) = post(&served.base, "/login", "application/json", PARTNER).await;
    assert_eq!(status, 201);
    let (status, session) = post(&served.base, "/v1/login_check", "application/json", USER).await;
    assert_eq!(status, 200);
    let token =
        serde_json::from_str::<Value>(&session).expect("json")["token"].as_str().expect("token").to_owned();
    drop(served);

    let secrets = stored_secrets(&url).await;
    assert!(secrets.len() >= 2, "{secrets:?}");
    for (name, value) in &secrets {
        assert!(value.starts_with(&[0xA7, 0x54, 0x47, 0x01]), "{name} is stored in the clear");
    }

    // The database alone does not start.
    let log = serve_binary(&url, &[], &[]).await.err().expect("refused without the key");
    assert!(log.contains("secrets.master_key_file"), "{log}");

    // Rotation: sealed again under the new key, the old file no longer opens it.
    let (ok, stdout, stderr) = cli(
        &url,
        &["secrets", "reseal", "--old-master-key-file", old.to_str().expect("path"), "--json"],
        &new_env,
        None,
    );
    assert!(ok, "{stderr}");
    assert!(serde_json::from_str::<Value>(&stdout).expect("json")["resealed"].as_u64().expect("count") >= 2);
    let log = serve_binary(&url, &old_env, &[]).await.err().expect("the old key no longer opens it");
    assert!(log.contains("sealed under master key"), "{log}");
    let served = serve_binary(&url, &new_env, &[]).await.expect("starts with the new key");
    // Nothing issued before the rotation stopped working.
    assert_eq!(verify(&served.base, jwt.trim()).await, 200);
    assert_eq!(verify(&served.base, &token).await, 200);
    assert_eq!(post(&served.base, "/api/login", "application/json", JOHN).await.0, 200);
    assert_eq!(post(&served.base, "/login", "application/json", PARTNER).await.0, 201);
}

#[tokio::test]
async fn names_are_normalized_and_confusable_or_invisible_ones_refused() {
    let app = TestApp::spawn().await;
    let url = &app.config.database_url;
    let add = |name: &str| {
        cli(url, &["principal", "add", name, "--password-stdin", "--json"], &[], Some("a-long-password\n"))
    };
    assert!(add("admin").0);
    for (name, why) in [
        ("\u{430}dmin", "mixes scripts"),
        ("ADMIN", "already exists"),
        ("us\u{200b}er", "U+200B"),
        ("user\u{202e}", "U+202E"),
    ] {
        let (ok, _, stderr) = add(name);
        assert!(!ok, "{name:?} was accepted");
        assert!(stderr.contains(why), "{name:?}: {stderr}");
    }
    // NFD is stored as NFC; both spellings log in, and the APIs behind see NFC.
    let (ok, stdout, stderr) = add("cafe\u{301}");
    assert!(ok, "{stderr}");
    assert_eq!(serde_json::from_str::<Value>(&stdout).expect("json")["name"], "caf\u{e9}");
    assert!(!add("caf\u{e9}").0, "the NFC spelling of a taken name");
    for spelling in ["cafe\u{301}", "caf\u{e9}"] {
        let login = app.login(spelling, "a-long-password").await;
        let reply = app.verify(login["token"].as_str().expect("token")).await;
        // Non-ASCII names travel as their UTF-8 bytes.
        let name = reply.headers.get("x-auth-name").map(|value| value.as_bytes().to_vec());
        assert_eq!(name.as_deref(), Some("caf\u{e9}".as_bytes()));
    }
}

#[tokio::test]
async fn passwords_set_from_the_cli_have_at_least_eight_characters() {
    let app = TestApp::spawn().await;
    let url = &app.config.database_url;
    let (ok, _, stderr) =
        cli(url, &["principal", "add", "short", "--password-stdin"], &[], Some("1234567\n"));
    assert!(!ok && stderr.contains("at least 8 characters"), "{stderr}");
    assert!(cli(url, &["principal", "add", "long", "--password-stdin"], &[], Some("12345678\n")).0);
    let (ok, _, stderr) = cli(url, &["password", "set", "long", "--password-stdin"], &[], Some("ééé\n"));
    assert!(!ok && stderr.contains("at least 8 characters"), "{stderr}");
    // Code points, not bytes.
    assert!(cli(url, &["password", "set", "long", "--password-stdin"], &[], Some("éééééééé\n")).0);
}

#[tokio::test]
async fn correctly_signed_jwts_from_the_future_not_yet_valid_or_living_too_long_are_refused() {
    let app = TestApp::spawn_demo_with(|c| c.jwt.secret = Some(SECRET.into())).await;
    let (status, genuine) = post(&app.base, "/login", "application/json", PARTNER).await;
    assert_eq!(status, 201);
    let payload = genuine.split('.').nth(1).expect("payload");
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("b64"),
    )
    .expect("claims");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let sign = |change: &dyn Fn(&mut Value)| {
        let mut claims = claims.clone();
        claims.as_object_mut().expect("object").remove("jti");
        change(&mut claims);
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS384),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .expect("sign")
    };
    // A control: re-signed as Tollgate would sign it, it passes.
    assert_eq!(app.verify(&sign(&|_| {})).await.status, 200);
    let refused = [
        (
            "iat in the future",
            sign(&|c| {
                c["iat"] = json!(now + 3600);
                c["exp"] = json!(now + 7200);
            }),
        ),
        ("nbf not come yet", sign(&|c| c["nbf"] = json!(now + 600))),
        (
            "a ten-year lifetime",
            sign(&|c| {
                c["iat"] = json!(now);
                c["exp"] = json!(now + 10 * 365 * 86_400);
            }),
        ),
    ];
    for (why, token) in refused {
        assert_eq!(app.verify(&token).await.status, 401, "{why}");
    }
}

#[tokio::test]
async fn forged_tokens_and_keys_cost_no_database_lookup() {
    let dir = tempfile::tempdir().expect("dir");
    let url = fresh_database(&dir).await;
    // A process of its own: its metrics count only these requests. (The
    // per-address limit would answer 429 long before 1 000 forgeries.)
    let env = [("TOLLGATE_PROTECTION__IP_FAILURES", "100000")];
    let served = serve_binary(&url, &env, &["--demo"]).await.expect("starts");
    let base = served.base.clone();
    let lookups = || async {
        crate::helpers::metric(&served.metrics().await, "tollgate_credential_lookups_total").unwrap_or(0.0)
            as u64
    };
    let before = lookups().await;
    let random = |bytes: usize| {
        let mut raw = vec![0u8; bytes];
        for byte in &mut raw {
            *byte = rand::random();
        }
        raw
    };
    for _ in 0..200 {
        let a_shaped: String = random(32)
            .iter()
            .map(|b| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[usize::from(*b) % 36]))
            .collect();
        let refresh_shaped = hex::encode(random(32));
        let b_shaped = uuid::Uuid::new_v4().to_string();
        for token in [&a_shaped, &refresh_shaped, &b_shaped] {
            assert_eq!(verify(&base, token).await, 401);
        }
        let refresh = json!({ "refresh_token": refresh_shaped }).to_string();
        assert_eq!(post(&base, "/v1/token/refresh", "application/json", &refresh).await.0, 401);
        let api_key = base64::engine::general_purpose::STANDARD.encode(random(16));
        let b = json!({ "UserLogin": "John.Doo", "ApiKey": api_key }).to_string();
        assert_eq!(post(&base, "/api/login", "application/json", &b).await.0, 401);
        let c = json!({ "accessKey": hex::encode(random(20)), "secret": "x" }).to_string();
        assert_eq!(post(&base, "/login", "application/json", &c).await.0, 401);
    }
    let looked_up = lookups().await - before;
    // 1 000 forgeries; the key filters let about 1 % of unknown keys through.
    assert!(looked_up <= 20, "{looked_up} of 1 000 forgeries reached the database");
    // Genuine ones still work, of course.
    assert_eq!(post(&base, "/api/login", "application/json", JOHN).await.0, 200);
    assert_eq!(post(&base, "/login", "application/json", PARTNER).await.0, 201);
}

#[tokio::test]
async fn a_key_created_elsewhere_logs_in_at_once() {
    let dir = tempfile::tempdir().expect("dir");
    let url = fresh_database(&dir).await;
    let served = serve_binary(&url, &[], &["--demo"]).await.expect("starts");
    let base = &served.base;
    for _ in 0..3 {
        let (ok, stdout, stderr) = cli(&url, &["accesskey", "create", "partner", "--json"], &[], None);
        assert!(ok, "{stderr}");
        let created: Value = serde_json::from_str(&stdout).expect("json");
        let body = json!({ "accessKey": created["accessKey"], "secret": created["secret"] }).to_string();
        assert_eq!(post(base, "/login", "application/json", &body).await.0, 201);
        let (ok, stdout, stderr) = cli(&url, &["apikey", "issue", "John.Doo", "--json"], &[], None);
        assert!(ok, "{stderr}");
        let issued: Value = serde_json::from_str(&stdout).expect("json");
        let body = json!({ "UserLogin": "John.Doo", "ApiKey": issued["apiKey"] }).to_string();
        assert_eq!(post(base, "/api/login", "application/json", &body).await.0, 200);
    }
}

#[tokio::test]
async fn disabling_a_principal_ends_its_tokens_for_good() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let url = &app.config.database_url;
    let a = post(&app.base, "/v1/login_check", "application/json", USER).await.1;
    let a = serde_json::from_str::<Value>(&a).expect("json")["token"].as_str().expect("token").to_owned();
    let b = post(&app.base, "/api/login", "application/json", JOHN).await.1;
    let b = serde_json::from_str::<Value>(&b).expect("json")["Token"].as_str().expect("token").to_owned();
    let (_, c) = post(&app.base, "/login", "application/json", PARTNER).await;
    for name in ["user", "John.Doo", "partner"] {
        assert!(cli(url, &["principal", "disable", name], &[], None).0);
        assert!(cli(url, &["principal", "enable", name], &[], None).0);
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    for token in [&a, &b, &c] {
        assert_eq!(app.verify(token).await.status, 401, "a token came back with its re-enabled principal");
    }
    // The principals themselves work again.
    assert_eq!(post(&app.base, "/api/login", "application/json", JOHN).await.0, 200);
    assert_eq!(post(&app.base, "/login", "application/json", PARTNER).await.0, 201);
}

#[tokio::test]
async fn the_issuer_never_comes_from_the_host_header() {
    let app = TestApp::spawn().await;
    let reply = app
        .client
        .get(app.url("/.well-known/oauth-authorization-server"))
        .header("host", "evil.example")
        .header("x-forwarded-host", "evil.example")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .expect("metadata");
    let body: Value = reply.json().await.expect("json");
    assert_eq!(body["issuer"], app.base);
    assert!(!body.to_string().contains("evil.example"), "{body}");
}

/// Sends `request` as raw bytes (so that header lines may repeat) and
/// returns the status line's code and the body.
async fn raw(app: &TestApp, request: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(app.addrs[0]).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("answered")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    (status, body)
}

fn post_with_two_content_types(path: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn hostile_requests_get_the_contracts_answer() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let login = app.post_login_check(&json!({ "username": "user", "password": "1234" })).await.json();
    let token = login["token"].as_str().expect("token").to_owned();
    let verify_with = |lines: &[&str]| {
        let headers: String = lines.iter().map(|line| format!("{line}\r\n")).collect();
        format!("GET /auth/verify HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n\r\n")
    };
    let valid = format!("Authorization: Bearer {token}");
    // The catalogue: request, status, what the body must hold.
    let catalogue: Vec<(&str, String, u16, String)> = vec![
        ("one valid Authorization header", verify_with(&[&valid]), 200, String::new()),
        (
            "two Authorization headers, valid then junk",
            verify_with(&[&valid, "Authorization: Bearer junk"]),
            401,
            String::new(),
        ),
        (
            "two Authorization headers, junk then valid",
            verify_with(&["Authorization: Bearer junk", &valid]),
            401,
            String::new(),
        ),
        ("the same Authorization header twice", verify_with(&[&valid, &valid]), 401, String::new()),
        (
            "contract A with two Content-Type headers",
            post_with_two_content_types("/v1/login_check", USER),
            400,
            error_list(111, "Invalid data format (Content-type)."),
        ),
        (
            "contract B with two Content-Type headers",
            post_with_two_content_types("/api/login", JOHN),
            415,
            "\"ErrorNumber\":415".into(),
        ),
        (
            "contract C with two Content-Type headers",
            post_with_two_content_types("/login", PARTNER),
            415,
            "UnsupportedMediaTypeError".into(),
        ),
        (
            "contract B at /API/Login",
            format!(
                "POST /API/Login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{JOHN}",
                JOHN.len()
            ),
            200,
            "\"ExpireInSec\":20".into(),
        ),
        (
            "contract B at /api/LOGIN in XML",
            {
                let xml = "<Request><UserLogin>John.Doo</UserLogin><ApiKey>hDn/LFXIPESM036W+s7VKg==</ApiKey></Request>";
                format!(
                    "POST /api/LOGIN HTTP/1.1\r\nHost: x\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{xml}",
                    xml.len()
                )
            },
            200,
            "<ExpireInSec>20</ExpireInSec>".into(),
        ),
        (
            "GET of contract B's path in another case",
            "GET /Api/Login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".into(),
            405,
            error_list(405, "Method not allowed."),
        ),
        (
            "another path that only looks like B's",
            "POST /API/Login2 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into(),
            404,
            error_list(404, "Invalid request URL."),
        ),
    ];
    for (what, request, status, body) in catalogue {
        let (got, answer) = raw(&app, &request).await;
        assert_eq!(got, status, "{what}: {answer}");
        assert!(answer.contains(&body), "{what}: {answer}");
    }
}

#[tokio::test]
async fn every_response_says_nosniff() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let requests = [
        app.client.get(app.url("/healthz")),
        app.client.get(app.url("/readyz")),
        app.client.get(app.admin_url("/metrics")),
        app.client.get(app.admin_url("/admin/v1/principals")),
        app.client.get(app.url("/nope")),
        app.client.get(app.url("/v1/login_check")),
        app.client.post(app.url("/v1/login_check")).header("content-type", "application/json").body(USER),
        app.client.post(app.url("/v1/login_check")).body("x"),
        app.client.post(app.url("/api/login")).header("content-type", "application/json").body(JOHN),
        app.client.post(app.url("/login")).header("content-type", "application/json").body("{}"),
        app.client.get(app.url("/auth/verify")),
        app.client.get(app.url("/.well-known/oauth-authorization-server")),
        app.client.post(app.url("/oauth2/token")).body(""),
    ];
    for request in requests {
        let response = request.send().await.expect("request");
        let url = response.url().clone();
        assert_eq!(
            response.headers().get("x-content-type-options").and_then(|v| v.to_str().ok()),
            Some("nosniff"),
            "{url}"
        );
    }
}

#[tokio::test]
async fn logs_carry_no_colour_codes_off_a_terminal() {
    let dir = tempfile::tempdir().expect("dir");
    let url = fresh_database(&dir).await;
    let mut served = serve_binary(&url, &[], &["--demo"]).await.expect("starts");
    // A failed login and a 404 make a few more lines.
    let _ = post(&served.base, "/v1/login_check", "application/json", "{").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(served.child.start_kill());
    let mut lines = served.startup_log.clone();
    while let Ok(Some(line)) = tokio::time::timeout(Duration::from_secs(2), served.log.recv()).await {
        lines.push(line);
    }
    // Logged once every listener is bound, so after "listening on".
    assert!(lines.iter().any(|line| line.contains("DEMO MODE")), "the demo banner is logged: {lines:?}");
    assert!(lines.iter().all(|line| !line.contains('\u{1b}')), "{lines:?}");
}
