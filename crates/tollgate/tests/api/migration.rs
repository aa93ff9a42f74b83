//! Lazy migration (DESIGN.md §10) against a stand-in legacy service started
//! here: unknown logins are forwarded as they came, and the credential the
//! legacy service accepts moves in; known names and keys never leave.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tollgate::config::Config;

use crate::admin::AdminApi;
use crate::helpers::TestApp;

const LEGACY_JWT_SECRET: &str = "the legacy service's own HS384 secret, 48 bytes+";
const LEGACY_UID: &str = "3f6c3a4e-7d1b-4f0e-9a55-2b8f1c0d9e71";
const LEGACY_AK: &str = "8a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const LEGACY_ACCESS_KEY: &str = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";
const FORGED_ACCESS_KEY: &str = "badbadbadbadbadbadbadbadbadbadbadbadbad0";
const LEGACY_SECRET: &str = "legacy-secret-of-the-old-access-key-0123456789ab";
/// Base64 of 16 bytes, as contract B's keys are.
const LEGACY_API_KEY: &str = "AAECAwQFBgcICQoLDA0ODw==";

/// The stand-in: counts what reaches it, and answers as the legacy
/// services would.
#[derive(Clone, Default)]
struct Legacy {
    calls: Arc<AtomicUsize>,
}

async fn legacy_login_check(
    State(legacy): State<Legacy>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    legacy.calls.fetch_add(1, Ordering::SeqCst);
    assert_eq!(headers.get("content-type").and_then(|v| v.to_str().ok()), Some("application/json"));
    match (body["username"].as_str(), body["password"].as_str()) {
        (Some("boom"), _) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        (Some("slow"), _) => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            Json(json!({ "token": "late" })).into_response()
        }
        (Some(name), Some("old password")) if name.starts_with("old-") => {
            Json(json!({ "token": "legacytoken", "refresh_token": "legacyrefresh" })).into_response()
        }
        _ => (StatusCode::UNAUTHORIZED, Json(json!({ "errors": [{ "error": 1006 }] }))).into_response(),
    }
}

async fn legacy_api_login(State(legacy): State<Legacy>, Json(body): Json<Value>) -> Response {
    legacy.calls.fetch_add(1, Ordering::SeqCst);
    match (body["UserLogin"].as_str(), body["ApiKey"].as_str()) {
        (Some(_), Some(LEGACY_API_KEY)) => {
            Json(json!({ "Token": "legacy", "ExpireInSec": 20 })).into_response()
        }
        _ => (StatusCode::UNAUTHORIZED, Json(json!({ "ErrorCode": 1003 }))).into_response(),
    }
}

async fn legacy_access_login(State(legacy): State<Legacy>, Json(body): Json<Value>) -> Response {
    legacy.calls.fetch_add(1, Ordering::SeqCst);
    let secret = match (body["accessKey"].as_str(), body["secret"].as_str()) {
        (Some(LEGACY_ACCESS_KEY), Some(LEGACY_SECRET)) => LEGACY_JWT_SECRET,
        // Answered with a JWT signed by someone else: not to be believed.
        (Some(FORGED_ACCESS_KEY), Some(LEGACY_SECRET)) => "not the legacy service's secret, 48 bytes long.",
        _ => return StatusCode::UNAUTHORIZED.into_response(),
    };
    let now = tollgate_core::time_util::now().unix_timestamp();
    let claims = json!({
        "uid": LEGACY_UID, "ar": ["Partner"], "ak": LEGACY_AK, "realm": "Partner",
        "ca": "0ea70001-0f58-44a2-80ad-953633ff2cc7", "domain": "/legacy", "iat": now, "exp": now + 3600,
    });
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS384);
    let token =
        jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()))
            .expect("sign");
    (StatusCode::CREATED, token).into_response()
}

/// Starts the stand-in; its base URL and its call counter.
async fn start_legacy() -> (String, Legacy) {
    let legacy = Legacy::default();
    let router = axum::Router::new()
        .route("/v1/login_check", post(legacy_login_check))
        .route("/api/login", post(legacy_api_login))
        .route("/login", post(legacy_access_login))
        .with_state(legacy.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{addr}"), legacy)
}

fn forwarding_to(base: &str) -> impl FnOnce(&mut Config) + use<> {
    let base = base.to_owned();
    move |config: &mut Config| {
        config.migration.login_check.upstream = Some(format!("{base}/v1/login_check"));
        config.migration.apikey.upstream = Some(format!("{base}/api/login"));
        config.migration.accesskey.upstream = Some(format!("{base}/login"));
        config.migration.accesskey.jwt_secret = Some(LEGACY_JWT_SECRET.into());
        config.migration.timeout = tollgate::config::Seconds(Duration::from_secs(1));
    }
}

fn calls(legacy: &Legacy) -> usize {
    legacy.calls.load(Ordering::SeqCst)
}

#[tokio::test]
async fn contract_a_moves_an_unknown_user_in_and_never_forwards_a_known_one() {
    let (base, legacy) = start_legacy().await;
    let app = TestApp::spawn_demo_with(forwarding_to(&base)).await;
    let login = |password: &'static str| {
        let body = json!({ "username": "old-alice", "password": password }).to_string();
        app.post_raw("/v1/login_check", Some("application/json"), body)
    };

    let reply = login("old password").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let token = reply.json()["token"].as_str().expect("token").to_owned();
    assert_ne!(token, "legacytoken", "Tollgate answers with its own token");
    assert_eq!(app.verify(&token).await.header("x-auth-name"), Some("old-alice"));
    assert_eq!(calls(&legacy), 1);

    let admin = AdminApi::as_admin(&app).await;
    assert_eq!(admin.get("/admin/v1/principals/old-alice").await.json()["passwordFormat"], "argon2id");
    let audited = admin.get("/admin/v1/audit-events?action=migration.lazy").await.json();
    assert_eq!(audited["items"][0]["target"], "old-alice");
    assert_eq!(audited["items"][0]["details"], json!({ "contract": "login_check" }));

    // Known now: the password is checked here, and a wrong one never leaves.
    assert_eq!(login("old password").await.status, 200);
    assert_eq!(login("a wrong password").await.status, 401);
    assert_eq!(app.post_login_check(&json!({ "username": "user", "password": "nope" })).await.status, 401);
    assert_eq!(calls(&legacy), 1, "known names are never forwarded");
}

#[tokio::test]
async fn contract_a_upstream_refusal_is_401_and_failure_500() {
    let (base, legacy) = start_legacy().await;
    let app = TestApp::spawn_demo_with(forwarding_to(&base)).await;
    let refused = app.post_login_check(&json!({ "username": "stranger", "password": "whatever" })).await;
    assert_eq!(
        (refused.status, refused.text.as_str()),
        (401, r#"{"errors":[{"error":1006,"message":"Bad credentials."}]}"#)
    );
    assert!(app.admin.find_principal("stranger").await.is_err(), "nothing moved in");
    for name in ["boom", "slow"] {
        let failed = app.post_login_check(&json!({ "username": name, "password": "x" })).await;
        assert_eq!(failed.status, 500, "{name}: {}", failed.text);
    }
    assert_eq!(calls(&legacy), 3);

    // Upstream down: the contract's 500 too.
    let closed = TestApp::spawn_demo_with(forwarding_to("http://127.0.0.1:9")).await;
    assert_eq!(
        closed.post_login_check(&json!({ "username": "old-bob", "password": "old password" })).await.status,
        500
    );
}

#[tokio::test]
async fn concurrent_first_logins_make_one_principal() {
    let (base, _legacy) = start_legacy().await;
    let app = TestApp::spawn_demo_with(forwarding_to(&base)).await;
    let body = json!({ "username": "old-carol", "password": "old password" }).to_string();
    let logins = (0..8).map(|_| {
        let (client, url, body) = (app.client.clone(), app.url("/v1/login_check"), body.clone());
        tokio::spawn(async move {
            client
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .expect("login")
                .status()
        })
    });
    for login in logins.collect::<Vec<_>>() {
        assert_eq!(login.await.expect("task"), 200);
    }
    let admin = AdminApi::as_admin(&app).await;
    assert_eq!(admin.all("/admin/v1/principals?name=old-carol", 10).await.len(), 1);
    assert_eq!(admin.all("/admin/v1/audit-events?action=migration.lazy", 10).await.len(), 1);
}

#[tokio::test]
async fn contract_b_moves_a_key_in_for_a_new_or_known_login() {
    let (base, legacy) = start_legacy().await;
    let app = TestApp::spawn_demo_with(forwarding_to(&base)).await;
    let login = |name: &str, key: &str| {
        app.post_raw(
            "/api/login",
            Some("application/json"),
            json!({ "UserLogin": name, "ApiKey": key }).to_string(),
        )
    };
    let reply = login("old-dave", LEGACY_API_KEY).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_ne!(reply.json()["Token"], "legacy");
    assert_eq!(app.verify(reply.json()["Token"].as_str().expect("token")).await.status, 200);
    assert_eq!(login("old-dave", LEGACY_API_KEY).await.status, 200);
    assert_eq!(calls(&legacy), 1, "the key is held here now");

    // A known login presenting a key Tollgate does not hold is forwarded.
    let refused = login("John.Doo", "AAAAAAAAAAAAAAAAAAAAAA==").await;
    assert_eq!(refused.status, 401);
    assert!(refused.text.contains("1003"), "{}", refused.text);
    assert_eq!(calls(&legacy), 2);
    // And a key held here for someone else is not.
    assert_eq!(login("John.Doo", LEGACY_API_KEY).await.status, 401);
    assert_eq!(calls(&legacy), 2);
}

#[tokio::test]
async fn contract_c_moves_a_key_in_with_the_upstream_claims() {
    let (base, legacy) = start_legacy().await;
    let app = TestApp::spawn_demo_with(forwarding_to(&base)).await;
    let login = |key: &str, secret: &str| {
        app.post_raw(
            "/login",
            Some("application/json"),
            json!({ "accessKey": key, "secret": secret }).to_string(),
        )
    };
    let reply = login(LEGACY_ACCESS_KEY, LEGACY_SECRET).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let payload = reply.text.split('.').nth(1).expect("payload");
    use base64::Engine as _;
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("b64"),
    )
    .expect("json");
    assert_eq!((claims["uid"].as_str(), claims["ak"].as_str()), (Some(LEGACY_UID), Some(LEGACY_AK)));
    assert_eq!(claims["ar"], json!(["Partner"]));
    assert_eq!(claims["realm"], "Partner");
    assert_eq!(claims["domain"], "/legacy");
    assert_eq!(app.verify(&reply.text).await.status, 200);
    let principal = app.admin.find_principal(LEGACY_UID).await.expect("moved in");
    assert_eq!(principal.name, LEGACY_UID, "a principal made from C is named by its uid");

    assert_eq!(login(LEGACY_ACCESS_KEY, LEGACY_SECRET).await.status, 201);
    assert_eq!(login(LEGACY_ACCESS_KEY, "a wrong secret").await.status, 401);
    assert_eq!(calls(&legacy), 1, "a known key never leaves again");

    // A JWT that fails migration.accesskey.jwt_secret is no success.
    assert_eq!(login(FORGED_ACCESS_KEY, LEGACY_SECRET).await.status, 500);
    assert_eq!(login("ab".repeat(20).as_str(), "anything").await.status, 401, "upstream refusal");
}

#[tokio::test]
async fn the_address_limit_applies_before_any_forwarding() {
    let (base, legacy) = start_legacy().await;
    let app = TestApp::spawn_demo_with(|config| {
        forwarding_to(&base)(config);
        config.protection.ip_failures = 2;
    })
    .await;
    // Beyond two failures (each refused upstream), the address is limited.
    for _ in 0..3 {
        assert_eq!(
            app.post_login_check(&json!({ "username": "stranger", "password": "x" })).await.status,
            401
        );
    }
    let limited = app.post_login_check(&json!({ "username": "old-erin", "password": "old password" })).await;
    assert_eq!(limited.status, 429);
    assert_eq!(calls(&legacy), 3, "a limited address reaches no upstream");
}
