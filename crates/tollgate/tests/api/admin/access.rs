//! Access keys (contract C, OAuth 2.0 clients) through the admin API.

use serde_json::{Value, json};

use super::{AdminApi, invalid_at, problem};
use crate::helpers::TestApp;

async fn contract_c(app: &TestApp, key: &Value) -> u16 {
    app.post_raw(
        "/login",
        Some("application/json"),
        json!({ "accessKey": key["accessKey"], "secret": key["secret"] }).to_string(),
    )
    .await
    .status
}

#[tokio::test]
async fn create_shows_the_secret_once_and_it_logs_in_at_once() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    let reply = admin.post("/admin/v1/principals/partner/access-keys", json!({})).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.header("cache-control"), Some("no-store"), "a secret shown once is never cached");
    let key = reply.json();
    let fields: Vec<&str> = key.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(fields, ["id", "principal", "accessKey", "secret", "state", "expiresAt", "createdAt"]);
    assert_eq!(key["state"], "active");
    assert_eq!(
        reply.header("location"),
        Some(format!("/admin/v1/access-keys/{}", key["id"].as_str().expect("id")).as_str())
    );
    assert_eq!(contract_c(&app, &key).await, 201);

    let by_id = admin.get(&format!("/admin/v1/access-keys/{}", key["id"].as_str().expect("id"))).await.json();
    let by_key =
        admin.get(&format!("/admin/v1/access-keys/{}", key["accessKey"].as_str().expect("key"))).await.json();
    assert_eq!(by_id, by_key);
    assert!(by_id.get("secret").is_none());
    // Use is recorded off the request path, within a second or so.
    let path = format!("/admin/v1/access-keys/{}", key["id"].as_str().expect("id"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while admin.get(&path).await.json()["lastUsedAt"].is_null() {
        assert!(std::time::Instant::now() < deadline, "lastUsedAt never set");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let pending =
        admin.post("/admin/v1/principals/partner/access-keys", json!({ "state": "pending" })).await.json();
    assert_eq!(pending["state"], "pending");
    assert_eq!(contract_c(&app, &pending).await, 401, "a pending key does not log in");
}

#[tokio::test]
async fn create_refuses_bad_states_and_expiries() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    for (body, pointer) in [
        (json!({ "state": "revoked" }), "/state"),
        (json!({ "state": "sleepy" }), "/state"),
        (json!({ "expiresAt": "2000-01-01T00:00:00Z" }), "/expiresAt"),
        (json!({ "secret": "mine" }), "/secret"),
    ] {
        invalid_at(&admin.post("/admin/v1/principals/partner/access-keys", body).await, pointer);
    }
    problem(&admin.post("/admin/v1/principals/nobody/access-keys", json!({})).await, 404);
}

#[tokio::test]
async fn list_filters_by_principal_and_pages() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    for _ in 0..3 {
        admin.post("/admin/v1/principals/user/access-keys", json!({})).await;
    }
    assert_eq!(admin.all("/admin/v1/access-keys", 2).await.len(), 4);
    let users = admin.all("/admin/v1/access-keys?principal=user", 2).await;
    assert_eq!(users.len(), 3);
    assert!(users.iter().all(|k| k["principal"] == "user"));
    let partner_id = "65d0f5c9-7fb0-455c-9036-9e72f0a8d0f6";
    assert_eq!(admin.all(&format!("/admin/v1/access-keys?principal={partner_id}"), 5).await.len(), 1);
    problem(&admin.get("/admin/v1/access-keys?principal=nobody").await, 404);
    problem(&admin.get("/admin/v1/access-keys/0000").await, 404);
}

#[tokio::test]
async fn patch_moves_state_and_expiry_and_revoked_is_final() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    let key =
        admin.post("/admin/v1/principals/partner/access-keys", json!({ "state": "pending" })).await.json();
    let path = format!("/admin/v1/access-keys/{}", key["id"].as_str().expect("id"));
    let reply = admin.patch(&path, json!({ "state": "active", "expiresAt": "2999-12-31T00:00:00Z" })).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["state"], "active");
    assert_eq!(reply.json()["expiresAt"], "2999-12-31T00:00:00Z");
    assert_eq!(contract_c(&app, &key).await, 201);

    // An expiry in the past expires it; null makes it last.
    assert_eq!(
        admin.patch(&path, json!({ "expiresAt": "2001-01-01T00:00:00Z" })).await.json()["state"],
        "expired"
    );
    assert_eq!(contract_c(&app, &key).await, 401);
    let lasting = admin.patch(&path, json!({ "expiresAt": null })).await.json();
    assert_eq!((lasting["state"].as_str(), &lasting["expiresAt"]), (Some("active"), &json!(null)));
    assert_eq!(contract_c(&app, &key).await, 201);

    for (body, pointer) in [
        (json!({ "state": 1 }), "/state"),
        (json!({ "state": "sleepy" }), "/state"),
        (json!({ "expiresAt": "soon" }), "/expiresAt"),
        (json!({ "secret": "x" }), "/secret"),
    ] {
        invalid_at(&admin.patch(&path, body).await, pointer);
    }

    assert_eq!(admin.patch(&path, json!({ "state": "revoked" })).await.json()["state"], "revoked");
    assert_eq!(contract_c(&app, &key).await, 401);
    problem(&admin.patch(&path, json!({ "state": "active" })).await, 409);
    problem(&admin.patch(&path, json!({ "expiresAt": null })).await, 409);
    problem(&admin.patch("/admin/v1/access-keys/00000000-0000-0000-0000-000000000000", json!({})).await, 404);
}

#[tokio::test]
async fn roll_gives_a_new_secret_and_the_old_one_works_through_the_grace() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    let old = json!({ "accessKey": tollgate::demo::ACCESS_KEY.0, "secret": tollgate::demo::ACCESS_KEY.1 });
    let path = format!("/admin/v1/access-keys/{}/roll", tollgate::demo::ACCESS_KEY.0);
    let reply = admin.post(&path, json!({ "graceSeconds": 3600 })).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let new = reply.json();
    assert_eq!(new["principal"], "partner");
    assert_ne!(new["accessKey"], old["accessKey"]);
    assert_eq!(contract_c(&app, &new).await, 201);
    assert_eq!(contract_c(&app, &old).await, 201, "within the grace");
    let rolled = admin.get(&format!("/admin/v1/access-keys/{}", tollgate::demo::ACCESS_KEY.0)).await.json();
    assert!(rolled["expiresAt"].is_string(), "{rolled}");

    // No grace: the old key is done at once.
    let newer = admin
        .post(
            &format!("/admin/v1/access-keys/{}/roll", new["id"].as_str().expect("id")),
            json!({ "graceSeconds": 0 }),
        )
        .await;
    assert_eq!(newer.status, 201);
    assert_eq!(contract_c(&app, &new).await, 401);
    assert_eq!(contract_c(&app, &newer.json()).await, 201);

    invalid_at(&admin.post(&path, json!({})).await, "/graceSeconds");
    invalid_at(&admin.post(&path, json!({ "graceSeconds": -1 })).await, "/graceSeconds");
    invalid_at(&admin.post(&path, json!({ "graceSeconds": 99_999_999_999u64 })).await, "/graceSeconds");
    problem(
        &admin
            .post(
                "/admin/v1/access-keys/00000000-0000-0000-0000-000000000000/roll",
                json!({ "graceSeconds": 1 }),
            )
            .await,
        404,
    );
    admin
        .patch(
            &format!("/admin/v1/access-keys/{}", tollgate::demo::ACCESS_KEY.0),
            json!({ "state": "revoked" }),
        )
        .await;
    problem(&admin.post(&path, json!({ "graceSeconds": 1 })).await, 409);
}
