//! Credentials imported from the legacy systems (DESIGN.md §10): they log in
//! in their own format, and the first successful login replaces them with
//! argon2id (secrets: the keyed hash), once, however many logins race.

use std::time::{Duration, Instant};

use serde_json::json;
use tollgate_core::model::{AccessKeyRecord, AccessKeyState, CredentialId, NewPrincipal, StoredPassword};

use crate::admin::AdminApi;
use crate::helpers::{TestApp, serve_binary};

/// PHP's `password_hash("abc", PASSWORD_BCRYPT, ["cost" => 4])`.
const BCRYPT_ABC: &str = "$2y$04$M8GDODMoGQLQRpkYCdoJh.lbiZPee3SZI32RcYK49XYTolDGwoRMm";

fn bcrypt_abc() -> StoredPassword {
    StoredPassword {
        format: "bcrypt".into(),
        hash: json!({ "format": "bcrypt", "hash": BCRYPT_ABC }).to_string(),
    }
}

async fn add_legacy_user(app: &TestApp, name: &str) {
    let new = NewPrincipal {
        id: tollgate_core::PrincipalId::new(),
        name: name.into(),
        name_key: tollgate_core::names::collision_key(name),
        roles: Vec::new(),
        realm: None,
        attributes: Default::default(),
        password: Some(bcrypt_abc()),
        enabled: true,
        created_at: tollgate_core::time_util::now(),
    };
    app.store.create_principal(new).await.expect("legacy user");
}

async fn password_format(admin: &AdminApi, name: &str) -> serde_json::Value {
    admin.get(&format!("/admin/v1/principals/{name}")).await.json()["passwordFormat"].clone()
}

#[tokio::test]
async fn a_legacy_password_logs_in_and_is_rehashed_to_argon2id() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    add_legacy_user(&app, "legacy").await;
    let admin = AdminApi::as_admin(&app).await;
    assert_eq!(password_format(&admin, "legacy").await, "bcrypt");

    let wrong = app.post_login_check(&json!({ "username": "legacy", "password": "abd" })).await;
    assert_eq!(wrong.status, 401);
    assert_eq!(password_format(&admin, "legacy").await, "bcrypt", "a failed login changes nothing");

    let token = app.login("legacy", "abc").await["token"].as_str().expect("token").to_owned();
    assert_eq!(app.verify(&token).await.status, 200);
    assert_eq!(password_format(&admin, "legacy").await, "argon2id");
    let (_, stored) = app.store.password_of("legacy").await.expect("read").expect("there");
    assert!(stored.expect("a password").hash.starts_with("$argon2id$"), "rehashed to argon2id");
    // And the same password keeps working.
    app.login("legacy", "abc").await;
}

#[tokio::test]
async fn concurrent_first_logins_rehash_once() {
    let mut app = TestApp::spawn_with(|_| {}).await;
    add_legacy_user(&app, "racer").await;
    let url = app.config.database_url.clone();
    app.stop().await;
    let mut served = serve_binary(&url, &[], &[]).await.expect("starts");
    let client = reqwest::Client::new();
    let logins = (0..32).map(|_| {
        let (client, base) = (client.clone(), served.base.clone());
        async move {
            client
                .post(format!("{base}/v1/login_check"))
                .json(&json!({ "username": "racer", "password": "abc" }))
                .send()
                .await
                .expect("login")
                .status()
                .as_u16()
        }
    });
    let statuses = futures_join_all(logins).await;
    assert!(statuses.iter().all(|status| *status == 200), "{statuses:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut rehashed = 0;
    while let Ok(line) = served.log.try_recv() {
        rehashed += usize::from(line.contains("password rehashed to argon2id"));
    }
    assert_eq!(rehashed, 1, "one rehash for 32 racing logins");
}

#[tokio::test]
async fn a_legacy_access_key_secret_logs_in_and_becomes_the_keyed_hash() {
    let mut app = TestApp::spawn_demo_with(|_| {}).await;
    let partner = app.admin.find_principal("partner").await.expect("partner");
    let access_key = "ab".repeat(20);
    let record = AccessKeyRecord {
        id: CredentialId(uuid::Uuid::new_v4()),
        principal_id: partner.id,
        access_key: access_key.clone(),
        secret_hash: [0; 32],
        state: AccessKeyState::Active,
        created_at: tollgate_core::time_util::now(),
        expires_at: None,
        legacy_secret: Some(bcrypt_abc()),
    };
    assert!(app.store.insert_access_key(record).await.expect("insert"));
    let url = app.config.database_url.clone();
    app.stop().await;
    let served = serve_binary(&url, &[], &[]).await.expect("starts");
    let client = reqwest::Client::new();
    let legacy_left = || async {
        crate::helpers::metric(&served.metrics().await, "tollgate_legacy_credentials{format=\"bcrypt\"}")
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while legacy_left().await != Some(1.0) {
        assert!(Instant::now() < deadline, "the legacy secret was never counted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let login = |secret: &'static str| {
        let (client, base, key) = (client.clone(), served.base.clone(), access_key.clone());
        async move {
            client
                .post(format!("{base}/login"))
                .json(&json!({ "accessKey": key, "secret": secret }))
                .send()
                .await
                .expect("login")
                .status()
                .as_u16()
        }
    };
    assert_eq!(login("abd").await, 401);
    assert_eq!(login("abc").await, 201);
    assert_eq!(login("abc").await, 201, "the keyed hash it was replaced with matches");
    assert_eq!(login("abd").await, 401);
    let deadline = Instant::now() + Duration::from_secs(8);
    while legacy_left().await != Some(0.0) {
        assert!(Instant::now() < deadline, "tollgate_legacy_credentials never reached 0");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Runs futures at once (the test crate has no `futures` dependency).
async fn futures_join_all<F: std::future::Future<Output = u16> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<u16> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.expect("task"));
    }
    out
}
