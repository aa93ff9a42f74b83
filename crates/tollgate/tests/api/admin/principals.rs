//! Who may call the admin API, and `/admin/v1/principals`.

use reqwest::Method;
use serde_json::json;

use super::{AdminApi, invalid_at, problem};
use crate::helpers::TestApp;

#[tokio::test]
async fn no_token_401_bad_token_401_and_a_non_admin_403() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let anonymous = AdminApi::with_token(&app, None);
    let reply = anonymous.get("/admin/v1/principals").await;
    problem(&reply, 401);
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));

    let forged = AdminApi::with_token(&app, Some("not-a-token-of-ours".into()));
    let reply = forged.get("/admin/v1/principals").await;
    problem(&reply, 401);
    assert_eq!(reply.header("www-authenticate"), Some(r#"Bearer error="invalid_token""#));

    let user = AdminApi::as_user(&app, "user", "1234").await;
    let reply = user.delete("/admin/v1/principals/partner").await;
    problem(&reply, 403);
    assert!(app.admin.find_principal("partner").await.is_ok(), "a non-admin changed nothing");

    // The body is not read before the caller is known.
    let reply = anonymous.send(Method::POST, "/admin/v1/principals", Some(("text/plain", "x".into()))).await;
    problem(&reply, 401);
}

#[tokio::test]
async fn any_tollgate_token_of_an_admin_will_do_and_a_disabled_admin_is_refused() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    assert_eq!(admin.get("/admin/v1/principals").await.status, 200, "contract A token");

    // An OAuth 2.0 client_credentials token of an admin's access key.
    let key = admin.post("/admin/v1/principals/admin/access-keys", json!({})).await.json();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", key["accessKey"].as_str().expect("key")),
        ("client_secret", key["secret"].as_str().expect("secret")),
    ];
    let token: serde_json::Value = app
        .client
        .post(app.url("/oauth2/token"))
        .form(&form)
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let oauth = AdminApi::with_token(&app, token["access_token"].as_str().map(str::to_owned));
    assert_eq!(oauth.get("/admin/v1/signing-keys").await.status, 200, "OAuth 2.0 JWT");

    // A contract B token of an admin's API key.
    let api_key = admin.post("/admin/v1/principals/admin/api-keys", json!({})).await.json();
    let login = app
        .post_raw(
            "/api/login",
            Some("application/json"),
            json!({ "UserLogin": "admin", "ApiKey": api_key["apiKey"] }).to_string(),
        )
        .await
        .json();
    let contract_b = AdminApi::with_token(&app, login["Token"].as_str().map(str::to_owned));
    assert_eq!(contract_b.get("/admin/v1/lockouts").await.status, 200, "contract B token");

    // Disabled, the admin's tokens stop opening the API.
    let second = admin
        .create(json!({ "name": "second", "password": "long enough", "roles": ["tollgate-admin"] }))
        .await;
    let second_api = AdminApi::as_user(&app, "second", "long enough").await;
    assert_eq!(second_api.get("/admin/v1/principals").await.status, 200);
    let reply = admin
        .patch(
            &format!("/admin/v1/principals/{}", second["id"].as_str().expect("id")),
            json!({ "enabled": false }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    problem(&second_api.get("/admin/v1/principals").await, 401);
}

#[tokio::test]
async fn create_answers_201_with_location_and_the_principal() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    let reply = admin
        .post(
            "/admin/v1/principals",
            json!({
                "name": "alice", "password": "correct horse", "roles": ["ops"], "realm": "Staff",
                "attributes": { "team": "blue" }
            }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let alice = reply.json();
    let id = alice["id"].as_str().expect("id");
    assert_eq!(reply.header("location"), Some(format!("/admin/v1/principals/{id}").as_str()));
    assert_eq!(alice["name"], "alice");
    assert_eq!(alice["roles"], json!(["ops"]));
    assert_eq!(alice["realm"], "Staff");
    assert_eq!(alice["attributes"], json!({ "team": "blue" }));
    assert_eq!(alice["enabled"], true);
    assert_eq!(alice["passwordFormat"], "argon2id");
    assert_eq!(alice["lockedUntil"], json!(null));
    assert!(alice["createdAt"].as_str().is_some_and(|t| t.ends_with('Z')), "{alice}");
    assert_eq!(
        app.login("alice", "correct horse").await["token"].as_str().map(|t| !t.is_empty()),
        Some(true)
    );

    // With an id of its own, disabled, without a password.
    let given = "5d7c1b9e-8d8e-4c43-9d8e-6a1f2b3c4d5e";
    let bob = admin.create(json!({ "name": "bob", "id": given, "enabled": false })).await;
    assert_eq!(bob["id"], given);
    assert_eq!(bob["enabled"], false);
    assert_eq!(bob["passwordFormat"], json!(null));
}

#[tokio::test]
async fn create_refuses_taken_names_and_ids_with_409() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    problem(&admin.post("/admin/v1/principals", json!({ "name": "user" })).await, 409);
    problem(&admin.post("/admin/v1/principals", json!({ "name": "USER" })).await, 409);
    let partner = "65d0f5c9-7fb0-455c-9036-9e72f0a8d0f6";
    problem(&admin.post("/admin/v1/principals", json!({ "name": "other", "id": partner })).await, 409);
}

#[tokio::test]
async fn create_names_the_member_at_fault_with_400() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    let cases = [
        (json!({}), "/name"),
        (json!({ "name": 7 }), "/name"),
        (json!({ "name": "a", "shoe": 1 }), "/shoe"),
        (json!({ "name": "a", "roles": ["ok", 2] }), "/roles/1"),
        (json!({ "name": "a", "roles": ["a,b"] }), "/roles"),
        (json!({ "name": "a", "attributes": { "exp": "1" } }), "/attributes"),
        (json!({ "name": "a", "attributes": { "x": 1 } }), "/attributes/x"),
        (json!({ "name": "a", "password": "short" }), "/password"),
        (json!({ "name": "a", "enabled": "yes" }), "/enabled"),
        (json!({ "name": "a", "id": "not-a-uuid" }), "/id"),
        (json!({ "name": "\u{430}dmin" }), "/name"),
        (json!([]), ""),
    ];
    for (body, pointer) in cases {
        invalid_at(&admin.post("/admin/v1/principals", body).await, pointer);
    }
    let malformed = admin
        .send(Method::POST, "/admin/v1/principals", Some(("application/json", "{\"name\":".into())))
        .await;
    invalid_at(&malformed, "");
}

#[tokio::test]
async fn bodies_that_are_not_json_get_415_and_huge_ones_413() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "application/xml"] {
        let reply =
            admin.send(Method::POST, "/admin/v1/principals", Some((content_type, "name=a".into()))).await;
        problem(&reply, 415);
    }
    let merge_on_post = admin
        .send(
            Method::POST,
            "/admin/v1/principals",
            Some(("application/merge-patch+json", r#"{"name":"a"}"#.into())),
        )
        .await;
    problem(&merge_on_post, 415);
    let huge = json!({ "name": "a", "attributes": { "x": "y".repeat(2 * 1024 * 1024) } });
    problem(&admin.post("/admin/v1/principals", huge).await, 413);
}

#[tokio::test]
async fn get_by_id_or_name_and_404_for_anything_else() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    let by_id = admin.get("/admin/v1/principals/65d0f5c9-7fb0-455c-9036-9e72f0a8d0f6").await;
    assert_eq!(by_id.status, 200);
    assert_eq!(by_id.json()["name"], "partner");
    let by_name = admin.get("/admin/v1/principals/partner").await;
    assert_eq!(by_name.json()["attributes"]["domain"], "/partners-int");
    for missing in ["00000000-0000-0000-0000-000000000000", "nobody", "%00", "a%2Fb"] {
        problem(&admin.get(&format!("/admin/v1/principals/{missing}")).await, 404);
    }
}

#[tokio::test]
async fn search_by_prefix_pages_with_limit_and_cursor() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    for i in 0..7 {
        admin.create(json!({ "name": format!("svc-{i}") })).await;
    }
    let names: Vec<String> = admin
        .all("/admin/v1/principals?name=svc-", 3)
        .await
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_owned())
        .collect();
    assert_eq!(names, (0..7).map(|i| format!("svc-{i}")).collect::<Vec<_>>());
    let everyone = admin.all("/admin/v1/principals", 2).await;
    assert_eq!(everyone.len(), 7 + 4, "the demo's four and ours");

    let first = admin.get("/admin/v1/principals?limit=50000").await;
    assert_eq!(first.status, 200, "above 1000 counts as 1000");
    assert_eq!(first.json()["nextCursor"], json!(null));
    for bad in ["limit=0", "limit=-3", "limit=many", "cursor=%%%", "cursor=!", "limit=1&limit=2"] {
        problem(&admin.get(&format!("/admin/v1/principals?{bad}")).await, 400);
    }
}

#[tokio::test]
async fn patch_is_a_json_merge_patch_checked_whole() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    let carol = admin
        .create(json!({
            "name": "carol", "password": "first password", "roles": ["a"], "realm": "R",
            "attributes": { "keep": "1", "drop": "2" }
        }))
        .await;
    let path = format!("/admin/v1/principals/{}", carol["id"].as_str().expect("id"));
    let reply =
        admin.patch(&path, json!({ "attributes": { "drop": null, "new": "3" }, "realm": null })).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let patched = reply.json();
    assert_eq!(patched["attributes"], json!({ "keep": "1", "new": "3" }));
    assert_eq!(patched["realm"], json!(null));
    assert_eq!(patched["roles"], json!(["a"]), "left out, left alone");

    // application/json works too; the new password logs in, the old does not.
    let reply = admin
        .send(
            Method::PATCH,
            &path,
            Some((
                "application/json",
                json!({ "password": "second password", "roles": ["b", "c"] }).to_string(),
            )),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["roles"], json!(["b", "c"]));
    assert_eq!(
        app.post_login_check(&json!({ "username": "carol", "password": "first password" })).await.status,
        401
    );
    let token = app.login("carol", "second password").await["token"].as_str().expect("token").to_owned();
    assert_eq!(app.verify(&token).await.header("x-auth-roles"), Some("b,c"), "roles hold at once");

    // Nothing is written when any member is wrong.
    for (body, pointer) in [
        (json!({ "roles": ["x"], "shoe": 1 }), "/shoe"),
        (json!({ "roles": "x" }), "/roles"),
        (json!({ "enabled": null }), "/enabled"),
        (json!({ "attributes": { "iss": "me" } }), "/attributes"),
        (json!({ "attributes": [1] }), "/attributes"),
        (json!({ "password": "short" }), "/password"),
        (json!({ "realm": 5 }), "/realm"),
    ] {
        invalid_at(&admin.patch(&path, body).await, pointer);
    }
    invalid_at(
        &admin.send(Method::PATCH, &path, Some(("application/merge-patch+json", "[1]".into()))).await,
        "",
    );
    assert_eq!(admin.get(&path).await.json()["roles"], json!(["b", "c"]));

    // Disabling ends the principal's tokens; the attributes go with null.
    let reply = admin.patch(&path, json!({ "enabled": false, "attributes": null })).await;
    assert_eq!(reply.json()["attributes"], json!({}));
    assert_eq!(app.verify(&token).await.status, 401);
    problem(&admin.patch("/admin/v1/principals/nobody", json!({ "enabled": true })).await, 404);
    problem(&admin.send(Method::PATCH, &path, Some(("text/plain", "{}".into()))).await, 415);
}

#[tokio::test]
async fn delete_answers_204_and_its_keys_and_tokens_stop_working() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    let token = app.login("user", "1234").await["token"].as_str().expect("token").to_owned();
    let reply = admin.delete("/admin/v1/principals/user").await;
    assert_eq!(reply.status, 204);
    assert!(reply.text.is_empty());
    assert_eq!(app.verify(&token).await.status, 401);
    problem(&admin.delete("/admin/v1/principals/user").await, 404);
    problem(&admin.get("/admin/v1/principals/user").await, 404);
    // Partner's access key goes with partner.
    assert_eq!(admin.delete("/admin/v1/principals/partner").await.status, 204);
    let login = app
        .post_raw(
            "/login",
            Some("application/json"),
            json!({ "accessKey": tollgate::demo::ACCESS_KEY.0, "secret": tollgate::demo::ACCESS_KEY.1 })
                .to_string(),
        )
        .await;
    assert_eq!(login.status, 401);
}

#[tokio::test]
async fn unknown_paths_404_and_wrong_methods_405_as_problems() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    problem(&admin.get("/admin/v1/nothing").await, 404);
    problem(&admin.get("/admin/v2/principals").await, 404);
    problem(&admin.send(Method::PUT, "/admin/v1/principals/user", None).await, 405);
    problem(&admin.send(Method::DELETE, "/admin/v1/principals", None).await, 405);
}

#[tokio::test]
async fn the_demo_administrator_is_seeded_only_behind_loopback() {
    let app =
        TestApp::spawn_demo_with(|config| config.admin.listen = "0.0.0.0:0".parse().expect("addr")).await;
    assert!(app.admin.find_principal("admin").await.is_err(), "admin/admin must not face a network");
    assert_eq!(app.post_login_check(&json!({ "username": "admin", "password": "admin" })).await.status, 401);
}

#[tokio::test]
async fn without_the_admin_listener_nothing_listens_for_it() {
    let app = TestApp::spawn_demo_with(|config| config.admin.enabled = false).await;
    assert!(app.admin_base.is_none());
    assert!(app.admin.find_principal("admin").await.is_err(), "no admin seeded for no admin plane");
}
