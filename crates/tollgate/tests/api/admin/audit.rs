//! The audit trail: every mutation of the API leaves its row, newest first,
//! and no secret reaches a row or a log line.

use std::time::Duration;

use serde_json::{Value, json};

use super::{AdminApi, problem};
use crate::helpers::{TestApp, fresh_database, serve_binary};

/// Every kind of change the API makes, in order; the secrets it showed.
async fn change_everything(admin: &AdminApi) -> Vec<String> {
    let mut secrets = vec!["a long password".to_owned(), "another password".to_owned()];
    let created = admin
        .create(json!({ "name": "audited", "password": "a long password", "attributes": { "team": "x" } }))
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let base = format!("/admin/v1/principals/{id}");
    assert_eq!(
        admin.patch(&base, json!({ "roles": ["r"], "password": "another password" })).await.status,
        200
    );
    let api_key = admin.post(&format!("{base}/api-keys"), json!({})).await.json();
    secrets.push(api_key["apiKey"].as_str().expect("apiKey").to_owned());
    assert_eq!(
        admin.delete(&format!("/admin/v1/api-keys/{}", api_key["id"].as_str().expect("id"))).await.status,
        204
    );
    let access = admin.post(&format!("{base}/access-keys"), json!({})).await.json();
    secrets.push(access["secret"].as_str().expect("secret").to_owned());
    let key_path = format!("/admin/v1/access-keys/{}", access["id"].as_str().expect("id"));
    assert_eq!(admin.patch(&key_path, json!({ "state": "pending" })).await.status, 200);
    let rolled = admin.post(&format!("{key_path}/roll"), json!({ "graceSeconds": 60 })).await.json();
    secrets.push(rolled["secret"].as_str().expect("secret").to_owned());
    assert_eq!(admin.post("/admin/v1/tokens/revoke", json!({ "principal": "audited" })).await.status, 204);
    assert_eq!(admin.delete(&base).await.status, 204);
    secrets
}

const ACTIONS: [&str; 10] = [
    "principal.delete",
    "token.revoke",
    "accesskey.roll",
    "accesskey.state",
    "accesskey.create",
    "apikey.revoke",
    "apikey.issue",
    "password.set",
    "principal.update",
    "principal.create",
];

#[tokio::test]
async fn every_mutation_writes_its_row_newest_first_and_no_secret() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    let secrets = change_everything(&admin).await;

    let rows = admin.all("/admin/v1/audit-events?actor=admin", 3).await;
    let actions: Vec<&str> = rows.iter().map(|row| row["action"].as_str().expect("action")).collect();
    assert_eq!(actions, ACTIONS, "newest first, one row per change");
    for row in &rows {
        let fields: Vec<&str> = row.as_object().expect("object").keys().map(String::as_str).collect();
        assert_eq!(fields, ["id", "at", "actor", "action", "target", "sourceIp", "details"]);
        assert_eq!(row["sourceIp"], "127.0.0.1");
        assert!(row["details"].is_null() || row["details"].is_object(), "{row}");
    }
    let ids: Vec<i64> = rows.iter().map(|row| row["id"].as_i64().expect("id")).collect();
    assert!(ids.windows(2).all(|pair| pair[0] > pair[1]), "by write order: {ids:?}");
    assert_eq!(rows.last().expect("rows")["target"], "audited");

    let everything = admin.all("/admin/v1/audit-events", 1000).await;
    let text = Value::Array(everything.clone()).to_string();
    for secret in &secrets {
        assert!(!text.contains(secret.as_str()), "a secret reached the audit trail: {secret}");
    }
    assert!(everything.iter().any(|row| row["actor"] == "system"), "the demo's seeding is there too");

    let filtered = admin.get("/admin/v1/audit-events?action=accesskey.roll").await.json();
    assert_eq!(filtered["items"].as_array().map(Vec::len), Some(1));
    let by_target = admin.get("/admin/v1/audit-events?target=audited").await.json();
    assert!(by_target["items"].as_array().expect("items").iter().all(|row| row["target"] == "audited"));
    problem(&admin.get("/admin/v1/audit-events?cursor=bm90LWEtbnVtYmVy").await, 400);
}

#[tokio::test]
async fn no_secret_reaches_the_log_either() {
    let dir = tempfile::tempdir().expect("dir");
    let url = fresh_database(&dir).await;
    let mut served = serve_binary(&url, &[], &["--demo"]).await.expect("starts");
    let client = reqwest::Client::new();
    let login: Value = client
        .post(format!("{}/v1/login_check", served.base))
        .json(&json!({ "username": "admin", "password": "admin" }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = login["token"].as_str().expect("token").to_owned();
    let admin = AdminApi { base: served.admin_base.clone(), client, token: Some(token.clone()) };
    let mut secrets = change_everything(&admin).await;
    secrets.push(token);

    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut lines = Vec::new();
    while let Ok(line) = served.log.try_recv() {
        lines.push(line);
    }
    assert!(lines.iter().any(|line| line.contains("accesskey.roll")), "the changes are logged");
    for line in &lines {
        for secret in &secrets {
            assert!(!line.contains(secret.as_str()), "a secret reached the log: {line}");
        }
    }
}

#[tokio::test]
async fn the_cli_audit_list_shows_the_api_rows() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    admin.create(json!({ "name": "listed" })).await;
    let out = std::process::Command::new(app.bin_path())
        .args(["--database", &app.config.database_url, "audit", "list", "--json"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Value = serde_json::from_slice(&out.stdout).expect("json");
    let newest = &rows.as_array().expect("array")[0];
    assert_eq!(
        (newest["actor"].as_str(), newest["action"].as_str()),
        (Some("admin"), Some("principal.create"))
    );
    assert_eq!(newest["target"], "listed");
}
