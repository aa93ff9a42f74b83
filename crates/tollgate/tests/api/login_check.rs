//! Contract A (seed 000): every status and error code, exact bodies, and the
//! hostile inputs each must survive with its documented 4xx.

use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::helpers::{TestApp, error_list};

const PATH: &str = "/v1/login_check";

fn e111() -> String {
    error_list(111, "Invalid data format (Content-type).")
}
fn e110() -> String {
    error_list(110, "JSON is not valid.")
}
fn e1005() -> String {
    error_list(1005, "Invalid authorization data.")
}
fn e1006() -> String {
    error_list(1006, "Bad credentials.")
}

#[tokio::test]
async fn the_documents_example_request_returns_200_with_date_token_and_refresh_token() {
    let app = TestApp::spawn().await;
    app.add_user("user", "1234").await;
    let before = OffsetDateTime::now_utc().replace_nanosecond(0).expect("ns");
    let reply = app.post_login_check(&json!({ "username": "user", "password": "1234" })).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let body = reply.json();
    let keys: Vec<_> = body.as_object().expect("object").keys().cloned().collect();
    assert_eq!(keys, ["date", "token", "refresh_token"]);
    assert!(reply.text.starts_with(r#"{"date":""#), "field order: {}", reply.text);
    let token = body["token"].as_str().expect("token");
    assert_eq!(token.len(), 32);
    assert!(token.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    let date = OffsetDateTime::parse(body["date"].as_str().expect("date"), &Rfc3339).expect("RFC 3339");
    assert_eq!(date.offset(), time::UtcOffset::UTC);
    assert!(date >= before && date <= OffsetDateTime::now_utc());
    assert!(!body["refresh_token"].as_str().expect("refresh").is_empty());
}

#[tokio::test]
async fn a_missing_content_type_returns_400_111() {
    let app = TestApp::spawn().await;
    app.post_raw(PATH, None, r#"{"username":"u","password":"p"}"#).await.assert(400, &e111());
}

#[tokio::test]
async fn a_wrong_content_type_returns_400_111_even_with_a_broken_body() {
    let app = TestApp::spawn().await;
    for content_type in
        ["text/plain", "application/xml", "application/x-www-form-urlencoded", "application/jsonx", "json"]
    {
        app.post_raw(PATH, Some(content_type), "{not json").await.assert(400, &e111());
    }
}

#[tokio::test]
async fn a_charset_parameter_and_any_letter_case_of_the_media_type_are_accepted() {
    let app = TestApp::spawn().await;
    app.add_user("user", "1234").await;
    for content_type in
        ["application/json; charset=utf-8", "Application/JSON", "application/json;charset=UTF-8"]
    {
        let reply = app.post_raw(PATH, Some(content_type), r#"{"username":"user","password":"1234"}"#).await;
        assert_eq!(reply.status, 200, "{content_type}: {}", reply.text);
    }
}

#[tokio::test]
async fn malformed_or_truncated_json_returns_400_110() {
    let app = TestApp::spawn().await;
    for body in
        [r#"{"username":"user","password":"1234""#, "{", "", "nul", r#"{"username":"user",}"#, "\u{0}"]
    {
        app.post_raw(PATH, Some("application/json"), body).await.assert(400, &e110());
    }
}

#[tokio::test]
async fn json_that_is_not_an_object_returns_400_110() {
    let app = TestApp::spawn().await;
    for body in ["[]", r#"[{"username":"user","password":"1234"}]"#, "42", r#""user""#, "null", "true"] {
        app.post_raw(PATH, Some("application/json"), body).await.assert(400, &e110());
    }
}

#[tokio::test]
async fn deeply_nested_json_returns_400_110() {
    let app = TestApp::spawn().await;
    let body = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    app.post_raw(PATH, Some("application/json"), body).await.assert(400, &e110());
}

#[tokio::test]
async fn a_huge_body_returns_400_110_without_being_read_whole() {
    let app = TestApp::spawn().await;
    let body = format!(r#"{{"username":"user","password":"{}"}}"#, "x".repeat(2 * 1024 * 1024));
    app.post_raw(PATH, Some("application/json"), body).await.assert(400, &e110());
}

#[tokio::test]
async fn missing_empty_or_non_string_credentials_return_400_1005() {
    let app = TestApp::spawn().await;
    let bodies = [
        json!({}),
        json!({ "username": "user" }),
        json!({ "password": "1234" }),
        json!({ "username": "", "password": "1234" }),
        json!({ "username": "user", "password": "" }),
        json!({ "username": 1, "password": "1234" }),
        json!({ "username": "user", "password": 1234 }),
        json!({ "username": null, "password": "1234" }),
        json!({ "username": ["user"], "password": "1234" }),
        json!({ "username": { "a": 1 }, "password": "1234" }),
        json!({ "Username": "user", "Password": "1234" }),
    ];
    for body in bodies {
        app.post_login_check(&body).await.assert(400, &e1005());
    }
}

#[tokio::test]
async fn unknown_user_wrong_password_and_disabled_user_all_return_401_1006() {
    let app = TestApp::spawn().await;
    app.add_user("user", "1234").await;
    app.add_user("gone", "1234").await;
    app.admin.set_enabled(&tollgate_core::AdminContext::cli(), "gone", false).await.expect("disable");
    for (name, password) in
        [("nobody", "1234"), ("user", "12345"), ("user", "1234 "), ("USER", "1234"), ("gone", "1234")]
    {
        app.post_login_check(&json!({ "username": name, "password": password })).await.assert(401, &e1006());
    }
}

#[tokio::test]
async fn very_long_fields_return_401_1006_not_a_server_error() {
    let app = TestApp::spawn().await;
    // 2 x 20 KB: long, yet inside the 64 KiB body limit.
    let long = "é".repeat(10_000);
    app.post_login_check(&json!({ "username": long, "password": long })).await.assert(401, &e1006());
}

#[tokio::test]
async fn extra_properties_are_ignored() {
    let app = TestApp::spawn().await;
    app.add_user("user", "1234").await;
    let reply =
        app.post_login_check(&json!({ "username": "user", "password": "1234", "remember": true })).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

#[tokio::test]
async fn an_earlier_token_stays_valid_after_a_second_login() {
    let app = TestApp::spawn().await;
    app.add_user("user", "1234").await;
    let first = app.login("user", "1234").await;
    let second = app.login("user", "1234").await;
    assert_ne!(first["token"], second["token"]);
    for body in [&first, &second] {
        assert_eq!(app.verify(body["token"].as_str().expect("token")).await.status, 200);
    }
}

#[tokio::test]
async fn a_token_expires_after_the_configured_lifetime() {
    let app = TestApp::spawn_with(|c| c.login_check.token_ttl.0 = std::time::Duration::from_secs(1)).await;
    app.add_user("user", "1234").await;
    let token = app.login("user", "1234").await["token"].as_str().expect("token").to_owned();
    let reply = app.verify(&token).await;
    assert_eq!(reply.status, 200);
    let expires =
        OffsetDateTime::parse(reply.header("x-auth-expires").expect("expires"), &Rfc3339).expect("date");
    assert!(expires - OffsetDateTime::now_utc() <= time::Duration::seconds(1));
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let reply = app.verify(&token).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.header("www-authenticate"), Some(r#"Bearer error="invalid_token""#));
}

#[tokio::test]
async fn the_contract_can_be_mounted_at_another_path_or_disabled() {
    let app = TestApp::spawn_with(|c| c.login_check.path = "/auth/legacy/login".into()).await;
    app.add_user("user", "1234").await;
    let body = r#"{"username":"user","password":"1234"}"#;
    assert_eq!(app.post_raw("/auth/legacy/login", Some("application/json"), body).await.status, 200);
    app.post_raw(PATH, Some("application/json"), body)
        .await
        .assert(404, &error_list(404, "Invalid request URL."));

    let off = TestApp::spawn_with(|c| c.login_check.enabled = false).await;
    off.post_raw(PATH, Some("application/json"), body)
        .await
        .assert(404, &error_list(404, "Invalid request URL."));
}

#[tokio::test]
async fn a_password_login_under_excess_load_is_shed_with_503_and_retry_after() {
    let app = TestApp::spawn().await;
    app.add_user("user", "1234").await;
    // One verifying thread per core and 32 waiting per thread: go beyond it.
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let simultaneous = cores * 33 + 64;
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..simultaneous {
        let (client, url) = (app.client.clone(), app.url(PATH));
        calls.spawn(async move {
            client
                .post(url)
                .header("content-type", "application/json")
                .body(r#"{"username":"user","password":"1234"}"#)
                .send()
                .await
                .map(|r| (r.status().as_u16(), r.headers().get("retry-after").cloned()))
        });
    }
    let results: Vec<_> = calls.join_all().await.into_iter().map(|r| r.expect("request")).collect();
    assert!(results.iter().any(|(status, _)| *status == 200));
    let shed: Vec<_> = results.iter().filter(|(status, _)| *status == 503).collect();
    assert!(!shed.is_empty(), "{simultaneous} simultaneous argon2 logins should overflow the queue");
    assert!(shed.iter().all(|(_, retry)| retry.as_ref().is_some_and(|v| v == "1")));
    assert!(results.iter().all(|(status, _)| *status == 200 || *status == 503));
}

#[tokio::test]
async fn valid_json_with_numbers_beyond_f64_is_still_json() {
    let app = TestApp::spawn().await;
    app.add_user("user", "1234").await;
    let body = r#"{"username":"user","password":"1234","x":1e400,"y":-123456789012345678901234567890}"#;
    assert_eq!(app.post_raw(PATH, Some("application/json"), body).await.status, 200);
    app.post_raw(PATH, Some("application/json"), r#"{"username":1e400,"password":"1234"}"#)
        .await
        .assert(400, &e1005());
}
