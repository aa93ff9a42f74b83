//! Abuse protection (DESIGN.md §9): the lockout ladder of names guessed at,
//! and the per-address limit with each contract's 429. Rules that depend on
//! time run on a clock the test moves; work spared and metrics are read
//! from a server process of the test's own.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, error_list, fresh_database, serve_binary};

const A_WRONG: &str = r#"{"username":"user","password":"wrong"}"#;
const A_RIGHT: &str = r#"{"username":"user","password":"1234"}"#;
const JOHN: &str = r#"{"UserLogin":"John.Doo","ApiKey":"hDn/LFXIPESM036W+s7VKg=="}"#;
const JOHN_XML: &str =
    "<Request><UserLogin>John.Doo</UserLogin><ApiKey>hDn/LFXIPESM036W+s7VKg==</ApiKey></Request>";
const PARTNER: &str = r#"{"accessKey":"986d8167a9b9a15e37db4ab4ad50877b01347a94","secret":"79bPqahzbeYuIgyod1GBjsBy38wN7KuBBNNmN/emwjFCuAfq"}"#;
const CLIENT: &str = "grant_type=client_credentials&client_id=986d8167a9b9a15e37db4ab4ad50877b01347a94&client_secret=79bPqahzbeYuIgyod1GBjsBy38wN7KuBBNNmN%2FemwjFCuAfq";
const BAD_CREDENTIALS: (u16, u16, &str) = (401, 1006, "Bad credentials.");

fn bad_credentials() -> String {
    error_list(BAD_CREDENTIALS.1, BAD_CREDENTIALS.2)
}

async fn post(
    app_base: &str,
    path: &str,
    content_type: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(format!("{app_base}{path}"))
        .header("content-type", content_type)
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("request")
}

async fn a_login(app: &TestApp, body: &str) -> (u16, String) {
    let response = post(&app.base, "/v1/login_check", "application/json", body, &[]).await;
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

#[tokio::test]
async fn the_ladder_locks_after_the_threshold_and_doubles_on_a_clock_moved_by_hand() {
    let clock = tollgate_core::clock::ManualClock::starting_now();
    let app = TestApp::spawn_demo_on_clock(
        |c| {
            c.protection.lockout_threshold = 3;
            c.protection.lockout_base.0 = Duration::from_secs(60);
            c.protection.lockout_max.0 = Duration::from_secs(180);
            c.protection.ip_failures = 1000;
        },
        clock.clone(),
    )
    .await;
    for (round, lock) in [(1, 60), (2, 120), (3, 180), (4, 180)] {
        for _ in 0..3 {
            assert_eq!(a_login(&app, A_WRONG).await, (401, bad_credentials()), "round {round}");
        }
        // Locked: the right password gets the ordinary 401, not a hint.
        assert_eq!(
            a_login(&app, A_RIGHT).await,
            (401, bad_credentials()),
            "round {round}: right password while locked"
        );
        clock.advance(Duration::from_secs(lock - 1));
        assert_eq!(
            a_login(&app, A_RIGHT).await.0,
            401,
            "round {round}: still locked a second before the end"
        );
        clock.advance(Duration::from_secs(1));
    }
    // The lock is over; a success starts the count over.
    assert_eq!(a_login(&app, A_RIGHT).await.0, 200);
    for _ in 0..2 {
        a_login(&app, A_WRONG).await;
    }
    assert_eq!(a_login(&app, A_RIGHT).await.0, 200, "two failures since the success: not locked");
    // A whole window without failures forgets the ladder.
    clock.advance(Duration::from_secs(24 * 3600));
    for _ in 0..3 {
        a_login(&app, A_WRONG).await;
    }
    clock.advance(Duration::from_secs(60));
    assert_eq!(a_login(&app, A_RIGHT).await.0, 200, "the ladder started over at the base");
}

#[tokio::test]
async fn an_unknown_name_locks_exactly_like_a_known_one() {
    let clock = tollgate_core::clock::ManualClock::starting_now();
    let app = TestApp::spawn_demo_on_clock(|c| c.protection.lockout_threshold = 3, clock.clone()).await;
    for name in ["user", "nobody"] {
        let wrong = json!({ "username": name, "password": "wrong" }).to_string();
        let answers = logins_in_turn(&app, &wrong, 5).await;
        assert!(answers.iter().all(|answer| *answer == (401, bad_credentials())), "{name}: {answers:?}");
    }
    // Both locked now; the known one also with its right password.
    assert_eq!(a_login(&app, A_RIGHT).await.0, 401);
    clock.advance(Duration::from_secs(61));
    assert_eq!(a_login(&app, A_RIGHT).await.0, 200);
}

/// `count` logins in turn; their answers.
async fn logins_in_turn(app: &TestApp, body: &str, count: usize) -> Vec<(u16, String)> {
    let mut answers = Vec::new();
    for _ in 0..count {
        answers.push(a_login(app, body).await);
    }
    answers
}

/// The value of a counter in Prometheus text (summed over its labels).
fn metric(text: &str, name: &str) -> u64 {
    crate::helpers::metric(text, name).unwrap_or(0.0) as u64
}

#[tokio::test]
async fn a_locked_name_costs_no_argon2_work_and_the_cli_lists_and_clears_it() {
    let dir = tempfile::tempdir().expect("dir");
    let url = fresh_database(&dir).await;
    let env = [("TOLLGATE_PROTECTION__LOCKOUT_THRESHOLD", "3"), ("TOLLGATE_PROTECTION__LOCKOUT_BASE", "1h")];
    let served = serve_binary(&url, &env, &["--demo"]).await.expect("starts");
    let base = &served.base;
    let metrics = || served.metrics();
    for _ in 0..3 {
        assert_eq!(post(base, "/v1/login_check", "application/json", A_WRONG, &[]).await.status(), 401);
    }
    let before = metrics().await;
    assert_eq!(metric(&before, "tollgate_lockouts_total"), 1);
    for body in [A_RIGHT, A_WRONG, A_RIGHT] {
        assert_eq!(post(base, "/v1/login_check", "application/json", body, &[]).await.status(), 401);
    }
    let after = metrics().await;
    assert_eq!(
        metric(&after, "tollgate_password_verifications_total"),
        metric(&before, "tollgate_password_verifications_total"),
        "a locked name spent argon2 work"
    );

    // Operators see the lock (written to the database in the background) and clear it.
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .args(["--database", &url, "--json"])
            .args(args)
            .output()
            .expect("run");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).expect("json")
    };
    let mut listed = Value::Null;
    for _ in 0..20 {
        listed = cli(&["lockout", "list"]);
        if listed[0]["lockedUntil"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let lock = &listed[0];
    assert_eq!((lock["name"].as_str(), lock["failures"].as_u64()), (Some("user"), Some(0)), "{listed}");
    assert!(lock["lockedUntil"].is_string(), "{listed}");
    assert_eq!(cli(&["lockout", "clear", "user"])["cleared"], true);
    let mut cleared = false;
    for _ in 0..30 {
        if post(base, "/v1/login_check", "application/json", A_RIGHT, &[]).await.status() == 200 {
            cleared = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(cleared, "the server still refused the name after the CLI cleared it");
    let actions: Vec<Value> =
        cli(&["audit", "list"]).as_array().expect("events").iter().map(|e| e["action"].clone()).collect();
    assert!(
        actions.contains(&json!("lockout.start")) && actions.contains(&json!("lockout.clear")),
        "{actions:?}"
    );
}

#[tokio::test]
async fn too_many_failures_from_one_address_get_each_contracts_429_until_the_window_ends() {
    let clock = tollgate_core::clock::ManualClock::starting_now();
    let app = TestApp::spawn_demo_on_clock(
        |c| {
            c.protection.ip_failures = 5;
            c.protection.ip_window.0 = Duration::from_secs(60);
        },
        clock.clone(),
    )
    .await;
    // Successful logins are never counted.
    for _ in 0..20 {
        assert_eq!(post(&app.base, "/api/login", "application/json", JOHN, &[]).await.status(), 200);
    }
    // Failures of any contract count: 6 > 5.
    let wrong_b = r#"{"UserLogin":"John.Doo","ApiKey":"AAAAAAAAAAAAAAAAAAAAAA=="}"#;
    for _ in 0..3 {
        assert_eq!(post(&app.base, "/v1/login_check", "application/json", A_WRONG, &[]).await.status(), 401);
        assert_eq!(post(&app.base, "/api/login", "application/json", wrong_b, &[]).await.status(), 401);
    }
    clock.advance(Duration::from_secs(20));
    let message = "Too many requests. Please try again later.";
    let expectations = [
        (post(&app.base, "/v1/login_check", "application/json", A_RIGHT, &[]).await, json!({ "errors": [ { "error": 429, "message": message } ] }).to_string()),
        (post(&app.base, "/api/login", "application/json", JOHN, &[]).await, json!({ "Result": { "ErrorNumber": 429, "Description": message } }).to_string()),
        (
            post(&app.base, "/api/login", "application/xml", JOHN_XML, &[]).await,
            format!("<Response><Result><ErrorNumber>429</ErrorNumber><Description>{message}</Description></Result></Response>"),
        ),
        (
            post(&app.base, "/login", "application/json", PARTNER, &[]).await,
            json!({ "statusCode": "Error", "error": { "message": message, "name": "TooManyRequestsError", "code": "TooManyRequestsError" } }).to_string(),
        ),
        (
            post(&app.base, "/oauth2/token", "application/x-www-form-urlencoded", CLIENT, &[]).await,
            json!({ "error": "too_many_requests", "error_description": message }).to_string(),
        ),
    ];
    for (response, body) in expectations {
        let url = response.url().clone();
        assert_eq!(response.status().as_u16(), 429, "{url}");
        assert_eq!(response.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("40"), "{url}");
        assert_eq!(response.text().await.expect("body"), body, "{url}");
    }
    // The window ends: logins are answered as usual again.
    clock.advance(Duration::from_secs(40));
    assert_eq!(post(&app.base, "/v1/login_check", "application/json", A_RIGHT, &[]).await.status(), 200);
}

#[tokio::test]
async fn x_forwarded_for_counts_only_from_trusted_proxies() {
    let forged = [("x-forwarded-for", "10.9.9.9")];
    // Without trusted proxies a client's header is ignored: the peer is limited.
    let app = TestApp::spawn_demo_with(|c| c.protection.ip_failures = 3).await;
    for n in 0..4 {
        let header = [("x-forwarded-for", format!("10.0.0.{n}"))];
        let header: Vec<(&str, &str)> = header.iter().map(|(k, v)| (*k, v.as_str())).collect();
        post(&app.base, "/v1/login_check", "application/json", A_WRONG, &header).await;
    }
    assert_eq!(post(&app.base, "/api/login", "application/json", JOHN, &forged).await.status(), 429);

    // Behind a trusted proxy, the hop it names is the client.
    let app = TestApp::spawn_demo_with(|c| {
        c.protection.ip_failures = 3;
        c.protection.trusted_proxies = vec!["127.0.0.1/32".into()];
    })
    .await;
    let guesser = [("x-forwarded-for", "203.0.113.7, 127.0.0.1")];
    for _ in 0..4 {
        post(&app.base, "/v1/login_check", "application/json", A_WRONG, &guesser).await;
    }
    assert_eq!(post(&app.base, "/api/login", "application/json", JOHN, &guesser).await.status(), 429);
    let neighbour = [("x-forwarded-for", "203.0.113.8")];
    assert_eq!(post(&app.base, "/api/login", "application/json", JOHN, &neighbour).await.status(), 200);
    assert_eq!(
        post(&app.base, "/api/login", "application/json", JOHN, &[]).await.status(),
        200,
        "the proxy itself"
    );
}

#[tokio::test]
async fn protection_turned_off_locks_and_limits_nothing() {
    let app = TestApp::spawn_demo_with(|c| {
        c.protection.enabled = false;
        c.protection.lockout_threshold = 2;
        c.protection.ip_failures = 2;
    })
    .await;
    for _ in 0..5 {
        assert_eq!(post(&app.base, "/v1/login_check", "application/json", A_WRONG, &[]).await.status(), 401);
    }
    assert_eq!(post(&app.base, "/v1/login_check", "application/json", A_RIGHT, &[]).await.status(), 200);
}
