//! Contract C (seed 002): 201 with the bare HS384 JWT, AJV-style 400s, one
//! 401 for every refusal, the key lifecycle, and verification of the JWT
//! (also by an independent library).

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tollgate_core::admin::{self, AccessKeySpec};
use tollgate_core::model::AccessKeyState;

use crate::helpers::{Reply, TestApp};

const PATH: &str = "/login";
const DOC_KEY: &str = "986d8167a9b9a15e37db4ab4ad50877b01347a94";
const DOC_SECRET: &str = "79bPqahzbeYuIgyod1GBjsBy38wN7KuBBNNmN/emwjFCuAfq";
const SECRET: &str = "an-hs384-test-secret-of-at-least-forty-eight-bytes!!";

const UNAUTHORIZED: &str = r#"{"statusCode":"Error","error":{"message":"Service was unable to complete your request.","name":"AuthenticationError","code":"AuthenticationError","details":{"reason":"AccessKeyUnauthorized"}}}"#;

/// The exact 400 body, key order included (written out, not built from a
/// sorted map).
fn invalid(details: &[String]) -> String {
    format!(
        r#"{{"statusCode":"Error","error":{{"name":"InvalidRequestFormatError","message":"The request body is invalid. See error object `details` property for more info","details":[{}]}}}}"#,
        details.join(",")
    )
}

fn required(property: &str) -> String {
    format!(
        r#"{{"path":"","code":"required","message":"must have required property '{property}'","info":{{"missingProperty":"{property}"}}}}"#
    )
}

fn must_be_string(property: &str) -> String {
    format!(r#"{{"path":"/{property}","code":"type","message":"must be string","info":{{"type":"string"}}}}"#)
}

async fn demo() -> TestApp {
    TestApp::spawn_demo_with(|c| c.jwt.secret = Some(SECRET.into())).await
}

impl TestApp {
    async fn c(&self, content_type: Option<&str>, body: &str) -> Reply {
        let headers: Vec<_> = content_type.map(|c| ("content-type", c)).into_iter().collect();
        self.post_to(&self.url(PATH), &headers, body.to_owned()).await
    }

    async fn c_login(&self, access_key: &str, secret: &str) -> Reply {
        self.c(Some("application/json"), &json!({ "accessKey": access_key, "secret": secret }).to_string())
            .await
    }

    async fn jwt(&self, access_key: &str, secret: &str) -> String {
        let reply = self.c_login(access_key, secret).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.text
    }

    async fn create_key(
        &self,
        principal: &str,
        state: AccessKeyState,
        expires: Option<time::OffsetDateTime>,
    ) -> (String, String) {
        let spec = AccessKeySpec {
            principal: principal.into(),
            state: Some(state),
            expires_at: expires,
            ..Default::default()
        };
        let created = self
            .admin
            .create_access_key(&tollgate_core::AdminContext::cli(), spec)
            .await
            .expect("create")
            .expect("new");
        (created.access_key, created.secret.expose().to_owned())
    }
}

fn part(token: &str, index: usize) -> Value {
    let segment = token.split('.').nth(index).expect("segment");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).expect("base64url")).expect("json")
}

/// Signs `claims` under `header` with HMAC (for forged-token tests).
fn forge(header: &Value, claims: &Value, secret: &[u8], algorithm: jsonwebtoken::Algorithm) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let key = jsonwebtoken::EncodingKey::from_secret(secret);
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, algorithm).expect("sign");
    format!("{message}.{signature}")
}

#[tokio::test]
async fn the_documents_request_returns_201_and_a_bare_hs384_jwt_with_the_contracts_claims() {
    let app = demo().await;
    let body = format!("{{\n\"accessKey\" : \"{DOC_KEY}\",\n\"secret\" : \"{DOC_SECRET}\"\n}}");
    let reply = app.c(Some("application/json"), &body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let token = reply.text;
    assert_eq!(token.split('.').count(), 3);
    assert!(token.starts_with("eyJhbGciOiJIUzM4NCIsInR5cCI6IkpXVCJ9."), "header bytes as the seed's");
    assert_eq!(part(&token, 0), json!({"alg":"HS384","typ":"JWT"}));
    let claims = part(&token, 1);
    assert_eq!(claims["uid"], "65d0f5c9-7fb0-455c-9036-9e72f0a8d0f6");
    assert_eq!(claims["ar"], json!(["Partner", "PartnerAdmin"]));
    assert_eq!(claims["ak"], "45771ea1-b012-4b80-8ba4-49891c5d8d47");
    assert_eq!(claims["realm"], "Partner");
    assert_eq!(claims["ca"], "0ea70001-0f58-44a2-80ad-953633ff2cc7");
    assert_eq!(claims["cid"], "29263739-2cf8-483d-af15-6151dc8448b4");
    assert_eq!(claims["domain"], "/partners-int");
    let iat = claims["iat"].as_i64().expect("iat");
    assert_eq!(claims["exp"].as_i64().expect("exp") - iat, 3600);
    assert!((iat - time::OffsetDateTime::now_utc().unix_timestamp()).abs() <= 2);
}

#[tokio::test]
async fn the_lifetime_is_configurable_and_claims_are_present_only_when_set() {
    let app = TestApp::spawn_with(|c| c.accesskey.token_ttl.0 = Duration::from_secs(90)).await;
    app.add_principal(admin::PrincipalSpec { name: "bare".into(), ..Default::default() }).await;
    let (key, secret) = app.create_key("bare", AccessKeyState::Active, None).await;
    let claims = part(&app.jwt(&key, &secret).await, 1);
    assert_eq!(claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat"), 90);
    assert_eq!(claims["ar"], json!([]));
    for absent in ["realm", "ca", "cid", "domain"] {
        assert!(claims.get(absent).is_none(), "{absent} should be absent: {claims}");
    }
}

#[tokio::test]
async fn an_independent_jwt_library_verifies_the_token() {
    let Ok(python) = std::env::var("TOLLGATE_TEST_PYTHON") else {
        assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "CI must provide TOLLGATE_TEST_PYTHON");
        eprintln!("TOLLGATE_TEST_PYTHON not set: PyJWT cross-check skipped (scripts/test.sh sets it)");
        return;
    };
    let app = demo().await;
    let token = app.jwt(DOC_KEY, DOC_SECRET).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/verify_jwt.py");
    let out =
        std::process::Command::new(&python).args([script, &token, SECRET, "HS384"]).output().expect("python");
    assert!(out.status.success(), "PyJWT refused the token: {}", String::from_utf8_lossy(&out.stderr));
    let verified: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(verified["header"], json!({"alg":"HS384","typ":"JWT"}));
    assert_eq!(verified["claims"]["uid"], "65d0f5c9-7fb0-455c-9036-9e72f0a8d0f6");
    let wrong = std::process::Command::new(&python)
        .args([script, &token, "another-secret-another-secret-another-secret-xx", "HS384"])
        .output()
        .expect("python");
    assert!(!wrong.status.success(), "PyJWT must refuse a wrong key");
}

#[tokio::test]
async fn a_missing_secret_gives_the_documents_400_body() {
    let app = demo().await;
    app.c(Some("application/json"), r#"{"accessKey" : "986d8167a9b9a15e37db4ab4ad50877b01347a94"}"#)
        .await
        .assert(400, &invalid(&[required("secret")]));
}

#[tokio::test]
async fn several_violations_give_several_details_in_ajv_order() {
    let app = demo().await;
    let cases = [
        (json!({}), vec![required("accessKey"), required("secret")]),
        (json!({ "secret": "s" }), vec![required("accessKey")]),
        (json!({ "accessKey": 5, "secret": "s" }), vec![must_be_string("accessKey")]),
        (
            json!({ "accessKey": null, "secret": ["s"] }),
            vec![must_be_string("accessKey"), must_be_string("secret")],
        ),
        (json!({ "secret": true }), vec![required("accessKey"), must_be_string("secret")]),
        (json!({ "accessKey": {}, "extra": 1 }), vec![required("secret"), must_be_string("accessKey")]),
    ];
    for (body, details) in cases {
        app.c(Some("application/json"), &body.to_string()).await.assert(400, &invalid(&details));
    }
    let not_object =
        r#"{"path":"","code":"type","message":"must be object","info":{"type":"object"}}"#.to_owned();
    for body in ["[]", "\"x\"", "42", "null", "true", r#"[{"accessKey":"a","secret":"b"}]"#] {
        app.c(Some("application/json"), body).await.assert(400, &invalid(std::slice::from_ref(&not_object)));
    }
}

#[tokio::test]
async fn malformed_or_huge_json_is_a_400_invalid_request_format_error() {
    let app = demo().await;
    let huge = format!(r#"{{"accessKey":"{}","secret":"s"}}"#, "a".repeat(1 << 20));
    for body in [r#"{"accessKey":"a","secret":"#, "{", "", "nul", huge.as_str()] {
        let reply = app.c(Some("application/json"), body).await;
        assert_eq!(reply.status, 400, "{body:.40}");
        assert_eq!(reply.json()["statusCode"], "Error");
        assert_eq!(reply.json()["error"]["name"], "InvalidRequestFormatError");
    }
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let app = demo().await;
    let body = format!(r#"{{"accessKey":"{DOC_KEY}","secret":"{DOC_SECRET}"}}"#);
    for content_type in
        [Some("text/plain"), Some("application/xml"), Some("application/x-www-form-urlencoded"), None]
    {
        let reply = app.c(content_type, &body).await;
        assert_eq!(reply.status, 415, "{content_type:?}");
        assert_eq!(reply.json()["error"]["name"], "UnsupportedMediaTypeError");
    }
    assert_eq!(app.c(Some("application/json; charset=utf-8"), &body).await.status, 201);
}

#[tokio::test]
async fn every_refusal_is_the_same_401() {
    let app = demo().await;
    let past = time::OffsetDateTime::now_utc() - time::Duration::minutes(1);
    let (pending, pending_secret) = app.create_key("partner", AccessKeyState::Pending, None).await;
    let (expired, expired_secret) = app.create_key("partner", AccessKeyState::Active, None).await;
    app.admin
        .set_access_key_state(&tollgate_core::AdminContext::cli(), &expired, AccessKeyState::Expired)
        .await
        .expect("expire");
    let (revoked, revoked_secret) = app.create_key("partner", AccessKeyState::Active, None).await;
    app.admin
        .set_access_key_state(&tollgate_core::AdminContext::cli(), &revoked, AccessKeyState::Revoked)
        .await
        .expect("revoke");
    let (past_expiry, past_secret) = app.create_key("partner", AccessKeyState::Active, Some(past)).await;
    let unknown = "0".repeat(40);
    let cases = [
        (unknown.as_str(), DOC_SECRET),
        (DOC_KEY, "wrong-secret"),
        (DOC_KEY, ""),
        ("", ""),
        ("986D8167A9B9A15E37DB4AB4AD50877B01347A94", DOC_SECRET),
        (pending.as_str(), pending_secret.as_str()),
        (expired.as_str(), expired_secret.as_str()),
        (revoked.as_str(), revoked_secret.as_str()),
        (past_expiry.as_str(), past_secret.as_str()),
        (DOC_KEY, &DOC_SECRET[..47]),
    ];
    for (key, secret) in cases {
        app.c_login(key, secret).await.assert(401, UNAUTHORIZED);
    }
    app.admin.set_enabled(&tollgate_core::AdminContext::cli(), "partner", false).await.expect("disable");
    // The holder's state reaches the server's caches within 2 s.
    let deadline = Instant::now() + Duration::from_secs(2);
    while app.c_login(DOC_KEY, DOC_SECRET).await.status != 401 {
        assert!(Instant::now() < deadline, "a disabled principal still logs in");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.c_login(DOC_KEY, DOC_SECRET).await.assert(401, UNAUTHORIZED);
}

#[tokio::test]
async fn the_jwt_passes_auth_verify_with_the_identity_headers() {
    let app = demo().await;
    let token = app.jwt(DOC_KEY, DOC_SECRET).await;
    let reply = app.verify(&token).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("x-auth-subject"), Some("65d0f5c9-7fb0-455c-9036-9e72f0a8d0f6"));
    assert_eq!(reply.header("x-auth-name"), Some("partner"));
    assert_eq!(reply.header("x-auth-roles"), Some("Partner,PartnerAdmin"));
    assert_eq!(reply.header("x-auth-realm"), Some("Partner"));
}

#[tokio::test]
async fn tampered_truncated_resigned_none_confused_wrong_kid_and_expired_tokens_are_refused() {
    let app = TestApp::spawn_demo_with(|c| {
        c.jwt.secret = Some(SECRET.into());
        c.jwt.leeway.0 = Duration::ZERO;
    })
    .await;
    let token = app.jwt(DOC_KEY, DOC_SECRET).await;
    let header = part(&token, 0);
    let claims = part(&token, 1);
    let mut elevated = claims.clone();
    elevated["ar"] = json!(["Admin"]);
    let (h, rest) = token.split_once('.').expect("dot");
    let (_, signature) = rest.split_once('.').expect("dot");
    let tampered = format!("{h}.{}.{signature}", URL_SAFE_NO_PAD.encode(elevated.to_string()));
    let mut with_kid = header.clone();
    with_kid["kid"] = json!("k1");
    let mut expired = claims.clone();
    expired["iat"] = json!(claims["iat"].as_i64().expect("iat") - 7200);
    expired["exp"] = json!(claims["iat"].as_i64().expect("iat") - 3600);
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let forged = [
        tampered,
        token[..token.len() - 4].to_owned(),
        token.rsplit_once('.').expect("dot").0.to_owned(),
        forge(
            &header,
            &claims,
            b"some-other-secret-some-other-secret-some-other-secret",
            jsonwebtoken::Algorithm::HS384,
        ),
        forge(
            &json!({"alg":"HS256","typ":"JWT"}),
            &claims,
            SECRET.as_bytes(),
            jsonwebtoken::Algorithm::HS256,
        ),
        forge(
            &json!({"alg":"HS512","typ":"JWT"}),
            &claims,
            SECRET.as_bytes(),
            jsonwebtoken::Algorithm::HS512,
        ),
        forge(&with_kid, &claims, SECRET.as_bytes(), jsonwebtoken::Algorithm::HS384),
        forge(&header, &expired, SECRET.as_bytes(), jsonwebtoken::Algorithm::HS384),
        none,
        "a.b.c".to_owned(),
    ];
    for bad in &forged {
        let reply = app.verify(bad).await;
        assert_eq!(reply.status, 401, "{bad}");
        assert_eq!(reply.header("www-authenticate"), Some(r#"Bearer error="invalid_token""#));
    }
    // A correctly re-signed copy is accepted: the forgeries fail for their flaw alone.
    let resigned = forge(&header, &claims, SECRET.as_bytes(), jsonwebtoken::Algorithm::HS384);
    assert_eq!(app.verify(&resigned).await.status, 200);
}

#[tokio::test]
async fn a_token_expires_at_exp_plus_the_configured_leeway() {
    let app = TestApp::spawn_demo_with(|c| {
        c.accesskey.token_ttl.0 = Duration::from_secs(1);
        c.jwt.leeway.0 = Duration::from_secs(1);
    })
    .await;
    let token = app.jwt(DOC_KEY, DOC_SECRET).await;
    assert_eq!(app.verify(&token).await.status, 200);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(app.verify(&token).await.status, 200, "within the leeway");
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(app.verify(&token).await.status, 401);
}

#[tokio::test]
async fn key_state_changes_reach_its_tokens_within_two_seconds_and_revoked_is_final() {
    let app = demo().await;
    let token = app.jwt(DOC_KEY, DOC_SECRET).await;
    app.admin
        .set_access_key_state(&tollgate_core::AdminContext::cli(), DOC_KEY, AccessKeyState::Expired)
        .await
        .expect("expire");
    assert!(app.refused_within_two_seconds(&token).await);
    app.admin
        .set_access_key_state(&tollgate_core::AdminContext::cli(), DOC_KEY, AccessKeyState::Active)
        .await
        .expect("re-activate");
    let deadline = Instant::now() + Duration::from_secs(2);
    while app.verify(&token).await.status != 200 {
        assert!(Instant::now() < deadline, "re-activated key's token still refused");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.admin
        .set_access_key_state(&tollgate_core::AdminContext::cli(), DOC_KEY, AccessKeyState::Revoked)
        .await
        .expect("revoke");
    assert!(app.refused_within_two_seconds(&token).await);
    assert!(
        app.admin
            .set_access_key_state(&tollgate_core::AdminContext::cli(), DOC_KEY, AccessKeyState::Active)
            .await
            .is_err()
    );
    app.c_login(DOC_KEY, DOC_SECRET).await.assert(401, UNAUTHORIZED);
}

#[tokio::test]
async fn the_generated_signing_key_survives_a_restart() {
    let mut app = TestApp::spawn_demo_with(|_| {}).await;
    let token = app.jwt(DOC_KEY, DOC_SECRET).await;
    let secret: Vec<u8> =
        app.store.server_secret("jwt_hs384_secret", vec![0; 64]).await.expect("stored secret");
    assert_eq!(secret.len(), 64, "a 512-bit key was generated");
    assert_ne!(secret, vec![0; 64]);
    app.stop().await;
    let config = app.config.clone();
    let restarted = TestApp::start(config, tempfile::tempdir().expect("dir")).await;
    assert_eq!(restarted.verify(&token).await.status, 200);
}

#[tokio::test]
async fn the_signing_key_can_come_from_a_file() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("jwt.key");
    std::fs::write(&file, format!("{SECRET}\n")).expect("write");
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).expect("chmod");
    let app = TestApp::spawn_demo_with(|c| c.jwt.secret_file = Some(file)).await;
    let token = app.jwt(DOC_KEY, DOC_SECRET).await;
    let (message, signature) = token.rsplit_once('.').expect("dot");
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
    let expected =
        jsonwebtoken::crypto::sign(message.as_bytes(), &key, jsonwebtoken::Algorithm::HS384).expect("sign");
    assert_eq!(signature, expected, "signed with the file's key (without its line ending)");
}

#[tokio::test]
async fn unusual_but_valid_json_is_judged_like_json_parse_would() {
    let app = demo().await;
    let big = format!(r#"{{"accessKey":"{DOC_KEY}","secret":"{DOC_SECRET}","x":1e400}}"#);
    assert_eq!(app.c(Some("application/json"), &big).await.status, 201);
    app.c(Some("application/json"), r#"{"accessKey":1e400,"secret":"b"}"#)
        .await
        .assert(400, &invalid(&[must_be_string("accessKey")]));
    app.c(Some("application/json"), r#"{"accessKey":"\ud800","secret":"x"}"#).await.assert(401, UNAUTHORIZED);
    let bom = format!("\u{feff}{{\"accessKey\":\"{DOC_KEY}\",\"secret\":\"{DOC_SECRET}\"}}");
    assert_eq!(app.c(Some("application/json"), &bom).await.status, 201);
}
