//! `GET /auth/verify`: 200 with identity headers, 401 with the RFC 6750
//! challenge, 403 for a missing role; never another status.

use std::time::Duration;

use tollgate_core::admin::PrincipalSpec;

use crate::helpers::TestApp;

async fn app_with_token() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    app.add_principal(PrincipalSpec {
        name: "alice".into(),
        password: Some("alice-password".into()),
        roles: vec!["reader".into(), "writer".into()],
        realm: Some("Partner".into()),
        ..Default::default()
    })
    .await;
    let token = app.login("alice", "alice-password").await["token"].as_str().expect("token").to_owned();
    (app, token)
}

#[tokio::test]
async fn a_valid_token_gets_200_with_the_identity_headers() {
    let (app, token) = app_with_token().await;
    let reply = app.verify(&token).await;
    assert_eq!(reply.status, 200);
    let alice = app.store.principal_by_name("alice").await.expect("db").expect("alice");
    assert_eq!(reply.header("x-auth-subject"), Some(alice.id.to_string().as_str()));
    assert_eq!(reply.header("x-auth-name"), Some("alice"));
    assert_eq!(reply.header("x-auth-roles"), Some("reader,writer"));
    assert_eq!(reply.header("x-auth-realm"), Some("Partner"));
    assert!(reply.header("x-auth-expires").is_some());
    assert!(reply.text.is_empty());
}

#[tokio::test]
async fn a_missing_token_gets_401_with_a_bare_bearer_challenge() {
    let app = TestApp::spawn().await;
    for authorization in [None, Some("Basic dXNlcjoxMjM0")] {
        let reply = app.get("/auth/verify", authorization).await;
        assert_eq!(reply.status, 401);
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    }
}

#[tokio::test]
async fn unknown_or_malformed_tokens_get_401_invalid_token() {
    let app = TestApp::spawn().await;
    let long = format!("Bearer {}", "a".repeat(10_000));
    for authorization in ["Bearer nope", "Bearer ", "Bearer a b", "bearer !!!", "Bearer \"x\"", long.as_str()]
    {
        let reply = app.get("/auth/verify", Some(authorization)).await;
        assert_eq!(reply.status, 401, "{authorization}");
        assert_eq!(reply.header("www-authenticate"), Some(r#"Bearer error="invalid_token""#));
    }
}

#[tokio::test]
async fn the_scheme_is_case_insensitive() {
    let (app, token) = app_with_token().await;
    assert_eq!(app.get("/auth/verify", Some(&format!("bearer {token}"))).await.status, 200);
    assert_eq!(app.get("/auth/verify", Some(&format!("BEARER {token}"))).await.status, 200);
}

#[tokio::test]
async fn a_token_in_the_url_query_is_never_accepted() {
    let (app, token) = app_with_token().await;
    let reply = app.get(&format!("/auth/verify?access_token={token}"), None).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn a_missing_role_gets_403_and_held_roles_pass() {
    let (app, token) = app_with_token().await;
    assert_eq!(app.verify_with_query(&token, "?role=reader").await, 200);
    assert_eq!(app.verify_with_query(&token, "?role=reader&role=writer").await, 200);
    assert_eq!(app.verify_with_query(&token, "?role=admin").await, 403);
    let reply = app.get("/auth/verify?role=admin", Some(&format!("Bearer {token}"))).await;
    assert_eq!(reply.header("www-authenticate"), Some(r#"Bearer error="insufficient_scope""#));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(app.verify_with_query(&token, "?role=reader&role=admin").await, 403);
    // A broken query string is still only 200/401/403.
    assert_eq!(app.verify_with_query(&token, "?role=%zz&%%%").await, 403);
    assert_eq!(app.verify_with_query("nope", "?role=admin").await, 401);
}

#[tokio::test]
async fn a_revoked_token_gets_401_at_once_through_the_cli_path_within_two_seconds() {
    let (app, token) = app_with_token().await;
    assert_eq!(app.verify(&token).await.status, 200);
    // Revoked by another process (same database, not the server's service).
    assert!(
        app.store
            .revoke_token(&tollgate_core::secret::TokenHash::of(&token), tollgate_core::time_util::now())
            .await
            .expect("revoke")
    );
    assert!(app.refused_within_two_seconds(&token).await);
}

#[tokio::test]
async fn disabling_a_principal_stops_its_tokens_within_two_seconds() {
    let (app, token) = app_with_token().await;
    assert_eq!(app.verify(&token).await.status, 200);
    app.admin.set_enabled(&tollgate_core::AdminContext::cli(), "alice", false).await.expect("disable");
    assert!(app.refused_within_two_seconds(&token).await);
}

#[tokio::test]
async fn revoking_every_token_of_a_principal_stops_old_tokens_but_not_new_logins() {
    let (app, token) = app_with_token().await;
    app.admin.revoke_principal_tokens(&tollgate_core::AdminContext::cli(), "alice").await.expect("revoke");
    assert!(app.refused_within_two_seconds(&token).await);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let fresh = app.login("alice", "alice-password").await["token"].as_str().expect("token").to_owned();
    assert_eq!(app.verify(&fresh).await.status, 200);
}

impl TestApp {
    async fn verify_with_query(&self, token: &str, query: &str) -> u16 {
        self.get(&format!("/auth/verify{query}"), Some(&format!("Bearer {token}"))).await.status
    }
}

#[tokio::test]
async fn envoy_style_requests_with_the_original_method_and_path_are_answered_alike() {
    let (app, token) = app_with_token().await;
    let reply = app
        .post_to(&app.url("/auth/verify/orders/42?x=1"), &[("authorization", &format!("Bearer {token}"))], "")
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("x-auth-name"), Some("alice"));
    let reply = app.post_to(&app.url("/auth/verify/orders"), &[], "").await;
    assert_eq!((reply.status, reply.header("www-authenticate")), (401, Some("Bearer")));
}

#[tokio::test]
async fn the_root_path_below_the_prefix_is_answered_too() {
    // Envoy sends `/auth/verify/` for a request to `/`.
    let (app, token) = app_with_token().await;
    let reply = app.get("/auth/verify/", Some(&format!("Bearer {token}"))).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("x-auth-name"), Some("alice"));
    let reply = app.get("/auth/verify/?x=1", None).await;
    assert_eq!((reply.status, reply.header("www-authenticate")), (401, Some("Bearer")));
}

#[tokio::test]
async fn a_principal_without_a_realm_gets_an_empty_realm_header() {
    let app = TestApp::spawn().await;
    app.add_principal(PrincipalSpec {
        name: "bob".into(),
        password: Some("alice-password".into()),
        ..Default::default()
    })
    .await;
    let token = app.login("bob", "alice-password").await["token"].as_str().expect("token").to_owned();
    let reply = app.verify(&token).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("x-auth-realm"), Some(""));
    assert_eq!(reply.header("x-auth-roles"), Some(""));
}
