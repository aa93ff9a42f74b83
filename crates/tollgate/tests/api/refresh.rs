//! `POST /v1/token/refresh`: rotation, reuse detection that revokes the whole
//! family, and the optional grace period.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{TestApp, error_list};

fn e1006() -> String {
    error_list(1006, "Bad credentials.")
}

fn s(v: &serde_json::Value, key: &str) -> String {
    v[key].as_str().expect("string field").to_owned()
}

#[tokio::test]
async fn a_refresh_returns_a_new_token_and_refresh_token_that_work() {
    let app = TestApp::spawn().await;
    app.add_user("user", "1234").await;
    let login = app.login("user", "1234").await;
    let reply = app.refresh(&s(&login, "refresh_token")).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let next = reply.json();
    assert_ne!(next["token"], login["token"]);
    assert_ne!(next["refresh_token"], login["refresh_token"]);
    assert_eq!(s(&next, "token").len(), 32);
    assert_eq!(app.verify(&s(&next, "token")).await.status, 200);
    // The earlier access token is not revoked by a normal rotation.
    assert_eq!(app.verify(&s(&login, "token")).await.status, 200);
    assert_eq!(app.refresh(&s(&next, "refresh_token")).await.status, 200);
}

#[tokio::test]
async fn reusing_a_spent_refresh_token_is_refused_and_revokes_the_whole_family() {
    let app = TestApp::spawn().await;
    app.add_user("user", "1234").await;
    let login = app.login("user", "1234").await;
    let other_session = app.login("user", "1234").await;
    let second = app.refresh(&s(&login, "refresh_token")).await.json();
    let third = app.refresh(&s(&second, "refresh_token")).await.json();

    app.refresh(&s(&login, "refresh_token")).await.assert(401, &e1006());

    for token in [s(&login, "token"), s(&second, "token"), s(&third, "token")] {
        assert_eq!(app.verify(&token).await.status, 401, "descendant token still valid");
    }
    app.refresh(&s(&third, "refresh_token")).await.assert(401, &e1006());
    // Another login of the same user is another family and keeps working.
    assert_eq!(app.verify(&s(&other_session, "token")).await.status, 200);
    assert_eq!(app.refresh(&s(&other_session, "refresh_token")).await.status, 200);
}

#[tokio::test]
async fn two_concurrent_refreshes_with_one_token_do_not_both_succeed() {
    let app = TestApp::spawn().await;
    app.add_user("user", "1234").await;
    let refresh = s(&app.login("user", "1234").await, "refresh_token");
    let (a, b) = tokio::join!(app.refresh(&refresh), app.refresh(&refresh));
    let statuses = [a.status, b.status];
    assert!(statuses.contains(&401), "one of two concurrent uses must be refused: {statuses:?}");
}

#[tokio::test]
async fn within_the_grace_period_a_retry_gets_the_same_new_pair() {
    let app = TestApp::spawn_with(|c| c.login_check.refresh_grace.0 = Duration::from_secs(30)).await;
    app.add_user("user", "1234").await;
    let login = app.login("user", "1234").await;
    let first = app.refresh(&s(&login, "refresh_token")).await;
    let retry = app.refresh(&s(&login, "refresh_token")).await;
    assert_eq!(first.status, 200);
    assert_eq!(retry.status, 200);
    assert_eq!(first.json(), retry.json());
    assert_eq!(app.verify(&s(&retry.json(), "token")).await.status, 200);
}

#[tokio::test]
async fn after_the_grace_period_reuse_revokes_the_family() {
    let app = TestApp::spawn_with(|c| c.login_check.refresh_grace.0 = Duration::from_secs(1)).await;
    app.add_user("user", "1234").await;
    let login = app.login("user", "1234").await;
    let next = app.refresh(&s(&login, "refresh_token")).await.json();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    app.refresh(&s(&login, "refresh_token")).await.assert(401, &e1006());
    assert_eq!(app.verify(&s(&next, "token")).await.status, 401);
}

#[tokio::test]
async fn unknown_expired_and_malformed_refresh_requests_get_the_contracts_errors() {
    let app = TestApp::spawn_with(|c| c.login_check.refresh_ttl.0 = Duration::from_secs(1)).await;
    app.add_user("user", "1234").await;
    app.refresh("no-such-refresh-token").await.assert(401, &e1006());
    app.refresh("").await.assert(400, &error_list(1005, "Invalid authorization data."));
    app.post_raw("/v1/token/refresh", Some("text/plain"), "{}")
        .await
        .assert(400, &error_list(111, "Invalid data format (Content-type)."));
    app.post_raw("/v1/token/refresh", Some("application/json"), "[")
        .await
        .assert(400, &error_list(110, "JSON is not valid."));
    app.post_raw("/v1/token/refresh", Some("application/json"), json!({"refresh_token": 5}).to_string())
        .await
        .assert(400, &error_list(1005, "Invalid authorization data."));

    let login = app.login("user", "1234").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    app.refresh(&s(&login, "refresh_token")).await.assert(401, &e1006());
}

#[tokio::test]
async fn a_disabled_principal_cannot_refresh() {
    let app = TestApp::spawn().await;
    app.add_user("user", "1234").await;
    let login = app.login("user", "1234").await;
    app.admin.set_enabled(&tollgate_core::AdminContext::cli(), "user", false).await.expect("disable");
    app.refresh(&s(&login, "refresh_token")).await.assert(401, &e1006());
}
