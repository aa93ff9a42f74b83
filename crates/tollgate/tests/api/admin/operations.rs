//! Token revocation, signing keys and lockouts through the admin API, and
//! changes reaching another node.

use serde_json::json;

use super::{AdminApi, invalid_at, problem};
use crate::helpers::TestApp;

async fn user_token(app: &TestApp) -> String {
    app.login("user", "1234").await["token"].as_str().expect("token").to_owned()
}

#[tokio::test]
async fn revoke_one_token_every_token_of_a_principal_or_of_a_key() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;

    let (one, other) = (user_token(&app).await, user_token(&app).await);
    assert_eq!(admin.post("/admin/v1/tokens/revoke", json!({ "token": one })).await.status, 204);
    assert_eq!(app.verify(&one).await.status, 401);
    assert_eq!(app.verify(&other).await.status, 200, "only that token");

    let user = admin.get("/admin/v1/principals/user").await.json();
    assert_eq!(admin.post("/admin/v1/tokens/revoke", json!({ "principal": user["id"] })).await.status, 204);
    assert_eq!(app.verify(&other).await.status, 401);
    assert_eq!(app.verify(&user_token(&app).await).await.status, 200, "new logins work again");

    let partner_jwt = app
        .post_raw(
            "/login",
            Some("application/json"),
            json!({ "accessKey": tollgate::demo::ACCESS_KEY.0, "secret": tollgate::demo::ACCESS_KEY.1 })
                .to_string(),
        )
        .await
        .text;
    assert_eq!(app.verify(&partner_jwt).await.status, 200);
    let reply =
        admin.post("/admin/v1/tokens/revoke", json!({ "accessKey": tollgate::demo::ACCESS_KEY.0 })).await;
    assert_eq!(reply.status, 204);
    assert_eq!(app.verify(&partner_jwt).await.status, 401);

    // A token that matches nothing is not told apart (no oracle).
    assert_eq!(admin.post("/admin/v1/tokens/revoke", json!({ "token": "no-such-token" })).await.status, 204);
    for body in [json!({}), json!({ "token": "a", "principal": "user" })] {
        invalid_at(&admin.post("/admin/v1/tokens/revoke", body).await, "");
    }
    invalid_at(&admin.post("/admin/v1/tokens/revoke", json!({ "jti": "x" })).await, "/jti");
    problem(&admin.post("/admin/v1/tokens/revoke", json!({ "principal": "nobody" })).await, 404);
    problem(&admin.post("/admin/v1/tokens/revoke", json!({ "accessKey": "ab".repeat(20) })).await, 404);
}

#[tokio::test]
async fn signing_keys_list_the_hmac_secret_and_its_rotation_is_409() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    let keys = admin.get("/admin/v1/signing-keys").await.json();
    let items = keys["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["algorithm"], "HS384");
    assert_eq!(items[0]["state"], "signing");
    assert!(items[0]["kid"].as_str().is_some_and(|kid| kid.starts_with("hs-")));
    let fields: Vec<&str> = items[0].as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(fields, ["kid", "algorithm", "state", "createdAt", "signsFrom"], "never the material");
    problem(&admin.post("/admin/v1/signing-keys/rotate", json!({})).await, 409);
}

#[tokio::test]
async fn signing_keys_rotate_with_asymmetric_keys() {
    let app = TestApp::spawn_demo_with(|config| config.jwt.algorithm = "ES256".into()).await;
    let admin = AdminApi::as_admin(&app).await;
    let before = admin.get("/admin/v1/signing-keys").await.json();
    assert_eq!(before["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(before["items"][0]["state"], "signing");
    let reply = admin.post("/admin/v1/signing-keys/rotate", json!({})).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let new = reply.json();
    assert_eq!((new["algorithm"].as_str(), new["state"].as_str()), (Some("ES256"), Some("pending")));
    let kids: Vec<String> = app.get("/.well-known/jwks.json", None).await.json()["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|k| k["kid"].as_str().map(str::to_owned))
        .collect();
    assert!(kids.iter().any(|kid| new["kid"] == json!(kid)), "published at once");
    let after = admin.all("/admin/v1/signing-keys", 1).await;
    assert_eq!(after.len(), 2);
}

#[tokio::test]
async fn lockouts_list_and_clear() {
    let app = TestApp::spawn_demo_with(|config| config.protection.lockout_threshold = 2).await;
    let admin = AdminApi::as_admin(&app).await;
    for _ in 0..2 {
        assert_eq!(
            app.post_login_check(&json!({ "username": "user", "password": "wrong" })).await.status,
            401
        );
    }
    // The lock reaches the database (for every node) off the request path:
    // until then the list may show the count that led to it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    let user = loop {
        let listed = admin.all("/admin/v1/lockouts", 10).await;
        let user = listed.iter().find(|l| l["name"] == "user").expect("user is listed").clone();
        if user["lockedUntil"].is_string() && user["failures"] == json!(0) {
            break user;
        }
        assert!(std::time::Instant::now() < deadline, "never listed as locked: {user}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(user["lockedUntil"].is_string(), "{user}");
    // Written to the database (for every node) off the request path.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while admin.get("/admin/v1/principals/user").await.json()["lockedUntil"].is_null() {
        assert!(std::time::Instant::now() < deadline, "the principal never read as locked");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(app.post_login_check(&json!({ "username": "user", "password": "1234" })).await.status, 401);

    assert_eq!(admin.delete("/admin/v1/lockouts/user").await.status, 204);
    assert_eq!(app.post_login_check(&json!({ "username": "user", "password": "1234" })).await.status, 200);
    problem(&admin.delete("/admin/v1/lockouts/user").await, 404);
    problem(&admin.get("/admin/v1/lockouts?limit=0").await, 400);
}

#[tokio::test]
async fn a_change_made_on_one_node_holds_on_another_within_two_seconds() {
    let first = TestApp::spawn_demo_with(|_| {}).await;
    let url = first.config.database_url.clone();
    let second = TestApp::spawn_with(|config| config.database_url = url).await;
    let admin = AdminApi::as_admin(&first).await;

    // A key made on the first node logs in on the second at once.
    let key = admin.post("/admin/v1/principals/user/access-keys", json!({})).await.json();
    let login = second
        .post_raw(
            "/login",
            Some("application/json"),
            json!({ "accessKey": key["accessKey"], "secret": key["secret"] }).to_string(),
        )
        .await;
    assert_eq!(login.status, 201, "{}", login.text);
    let token = second.login("user", "1234").await["token"].as_str().expect("token").to_owned();
    assert_eq!(second.verify(&token).await.status, 200);
    assert_eq!(admin.patch("/admin/v1/principals/user", json!({ "enabled": false })).await.status, 200);
    assert!(second.refused_within_two_seconds(&token).await, "the other node still accepts the token");
}
