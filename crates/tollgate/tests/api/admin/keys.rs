//! API keys (contract B) through the admin API.

use reqwest::Method;
use serde_json::json;

use super::{AdminApi, invalid_at, problem};
use crate::helpers::TestApp;

async fn contract_b(app: &TestApp, login: &str, key: &serde_json::Value) -> u16 {
    app.post_raw(
        "/api/login",
        Some("application/json"),
        json!({ "UserLogin": login, "ApiKey": key }).to_string(),
    )
    .await
    .status
}

#[tokio::test]
async fn issue_shows_the_key_once_and_it_logs_in_at_once() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    let reply = admin
        .post("/admin/v1/principals/John.Doo/api-keys", json!({ "expiresAt": "2999-01-01T00:00:00Z" }))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.header("cache-control"), Some("no-store"), "a secret shown once is never cached");
    let issued = reply.json();
    let fields: Vec<&str> = issued.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(fields, ["id", "principal", "apiKey", "expiresAt", "createdAt"]);
    assert_eq!(issued["principal"], "John.Doo");
    assert_eq!(issued["expiresAt"], "2999-01-01T00:00:00Z");
    assert_eq!(contract_b(&app, "John.Doo", &issued["apiKey"]).await, 200);

    // Listed without the key, with when it was last used.
    let listed = admin.all("/admin/v1/principals/John.Doo/api-keys", 1).await;
    assert_eq!(listed.len(), 2, "the demo's and ours");
    let ours = listed.iter().find(|k| k["id"] == issued["id"]).expect("listed");
    assert!(ours.get("apiKey").is_none(), "never shown again");
    assert_eq!(ours["state"], "active");
    assert!(!listed.iter().any(|k| k.to_string().contains(issued["apiKey"].as_str().expect("key"))));

    // By id too, and an empty body is `{}`.
    let john = admin.get("/admin/v1/principals/John.Doo").await.json();
    let reply = admin
        .send(
            Method::POST,
            &format!("/admin/v1/principals/{}/api-keys", john["id"].as_str().expect("id")),
            None,
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.json()["expiresAt"], json!(null));
}

#[tokio::test]
async fn issue_refuses_a_past_or_malformed_expiry_and_unknown_principals() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    for expires in [json!("2001-01-01T00:00:00Z"), json!("tomorrow"), json!(5)] {
        invalid_at(
            &admin.post("/admin/v1/principals/user/api-keys", json!({ "expiresAt": expires })).await,
            "/expiresAt",
        );
    }
    invalid_at(&admin.post("/admin/v1/principals/user/api-keys", json!({ "key": "mine" })).await, "/key");
    problem(&admin.post("/admin/v1/principals/nobody/api-keys", json!({})).await, 404);
    problem(&admin.get("/admin/v1/principals/nobody/api-keys").await, 404);
}

#[tokio::test]
async fn revoke_answers_204_and_the_key_stops_working() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    let issued = admin.post("/admin/v1/principals/user/api-keys", json!({})).await.json();
    let login = app
        .post_raw(
            "/api/login",
            Some("application/json"),
            json!({ "UserLogin": "user", "ApiKey": issued["apiKey"] }).to_string(),
        )
        .await
        .json();
    let token = login["Token"].as_str().expect("token").to_owned();
    let reply = admin.delete(&format!("/admin/v1/api-keys/{}", issued["id"].as_str().expect("id"))).await;
    assert_eq!(reply.status, 204);
    assert_eq!(contract_b(&app, "user", &issued["apiKey"]).await, 401);
    assert_eq!(app.verify(&token).await.status, 401, "its tokens end with it");
    let listed = admin.get("/admin/v1/principals/user/api-keys").await.json();
    assert_eq!(listed["items"][0]["state"], "revoked");
    assert!(listed["items"][0]["revokedAt"].is_string());
    problem(&admin.delete("/admin/v1/api-keys/00000000-0000-0000-0000-000000000000").await, 404);
    problem(&admin.delete("/admin/v1/api-keys/not-an-id").await, 404);
}
