//! Asymmetric signing (ES256, EdDSA, RS256): the JWK Set, verification by an
//! independent library through it, and staged key rotation.

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::helpers::TestApp;

const DOC_LOGIN: &str = r#"{"accessKey":"986d8167a9b9a15e37db4ab4ad50877b01347a94","secret":"79bPqahzbeYuIgyod1GBjsBy38wN7KuBBNNmN/emwjFCuAfq"}"#;

impl TestApp {
    async fn c_token(&self) -> String {
        let reply = self.post_raw("/login", Some("application/json"), DOC_LOGIN).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.text
    }

    async fn jwks(&self) -> Value {
        let reply = self.get("/.well-known/jwks.json", None).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.json()
    }
}

fn header(token: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().expect("header")).expect("b64"))
        .expect("json")
}

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|k| k["kid"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn each_asymmetric_algorithm_publishes_its_key_and_an_independent_library_verifies_through_it() {
    let python = std::env::var("TOLLGATE_TEST_PYTHON").ok();
    if python.is_none() {
        assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "CI must provide TOLLGATE_TEST_PYTHON");
        eprintln!("TOLLGATE_TEST_PYTHON not set: PyJWT/JWKS cross-check skipped");
    }
    for (algorithm, kty) in [("ES256", "EC"), ("EdDSA", "OKP"), ("RS256", "RSA")] {
        let app = TestApp::spawn_demo_with(|c| c.jwt.algorithm = algorithm.into()).await;
        let token = app.c_token().await;
        let head = header(&token);
        assert_eq!(head["alg"], algorithm);
        assert_eq!(head["typ"], "JWT");
        let kid = head["kid"].as_str().expect("kid").to_owned();
        let jwks = app.jwks().await;
        let key = &jwks["keys"][0];
        assert_eq!(
            (key["kid"].as_str(), key["kty"].as_str(), key["alg"].as_str()),
            (Some(kid.as_str()), Some(kty), Some(algorithm))
        );
        assert_eq!(key["use"], "sig");
        assert!(key.get("d").is_none() && key.get("p").is_none(), "no private part is ever published");
        assert_eq!(app.verify(&token).await.status, 200);
        let metadata = app.get("/.well-known/oauth-authorization-server", None).await.json();
        assert_eq!(metadata["jwks_uri"], format!("{}/.well-known/jwks.json", app.base));

        if let Some(python) = &python {
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/verify_jwks.py");
            let url = app.url("/.well-known/jwks.json");
            let (python, token2) = (python.clone(), token.clone());
            let out = tokio::task::spawn_blocking(move || {
                std::process::Command::new(python).args([script, &token2, &url, algorithm]).output()
            })
            .await
            .expect("join")
            .expect("python");
            assert!(
                out.status.success(),
                "{algorithm}: PyJWT refused: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let verified: Value = serde_json::from_slice(&out.stdout).expect("json");
            assert_eq!(verified["kid"], kid);
            assert_eq!(verified["claims"]["uid"], "65d0f5c9-7fb0-455c-9036-9e72f0a8d0f6");
        }
    }
}

#[tokio::test]
async fn hs384_publishes_no_jwks_and_signing_keys_survive_a_restart() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/.well-known/jwks.json", None).await.status, 404);
    assert!(app.get("/.well-known/oauth-authorization-server", None).await.json().get("jwks_uri").is_none());

    let mut es = TestApp::spawn_demo_with(|c| c.jwt.algorithm = "ES256".into()).await;
    let token = es.c_token().await;
    es.stop().await;
    let restarted = TestApp::start(es.config.clone(), tempfile::tempdir().expect("dir")).await;
    assert_eq!(restarted.verify(&token).await.status, 200, "the stored key pair is reused, not regenerated");
    assert_eq!(kids(&restarted.jwks().await).len(), 1);
}

#[tokio::test]
async fn keys_rotate_publishes_first_signs_after_the_delay_and_retires_after_the_last_token() {
    let app = TestApp::spawn_demo_with(|c| {
        c.jwt.algorithm = "ES256".into();
        c.accesskey.token_ttl.0 = Duration::from_secs(3);
        c.jwt.leeway.0 = Duration::ZERO;
    })
    .await;
    let old_token = app.c_token().await;
    let old_kid = header(&old_token)["kid"].as_str().expect("kid").to_owned();

    let out = std::process::Command::new(app.bin_path())
        .args(["--database", &app.config.database_url, "keys", "rotate", "--delay", "2s", "--json"])
        .env("TOLLGATE_JWT__ALGORITHM", "ES256")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rotated: Value = serde_json::from_slice(&out.stdout).expect("json");
    let new_kid = rotated["kid"].as_str().expect("kid").to_owned();
    assert_eq!(rotated["state"], "pending");
    assert_eq!(rotated["algorithm"], "ES256");
    let started = Instant::now();

    // Published at once (within the 0.5 s change poll), not yet signing.
    let deadline = Instant::now() + Duration::from_secs(1);
    while !kids(&app.jwks().await).contains(&new_kid) {
        assert!(Instant::now() < deadline, "the new key was not published");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(kids(&app.jwks().await).contains(&old_kid));
    assert_eq!(header(&app.c_token().await)["kid"], old_kid.as_str(), "signs only after the delay");

    tokio::time::sleep(Duration::from_secs(2).saturating_sub(started.elapsed()) + Duration::from_millis(200))
        .await;
    let new_token = app.c_token().await;
    assert_eq!(header(&new_token)["kid"], new_kid.as_str());
    assert_eq!(app.verify(&new_token).await.status, 200);
    assert_eq!(app.verify(&old_token).await.status, 200, "tokens of the old key stay valid");
    assert!(kids(&app.jwks().await).contains(&old_kid), "kept while its tokens may live");

    // The old key retires once its last token (signed before the switch) has expired.
    tokio::time::sleep(Duration::from_millis(3300)).await;
    let now_kids = kids(&app.jwks().await);
    assert_eq!(now_kids, vec![new_kid.clone()], "old key retired");

    let list = std::process::Command::new(app.bin_path())
        .args(["--database", &app.config.database_url, "keys", "list", "--json"])
        .env("TOLLGATE_JWT__ALGORITHM", "ES256")
        // The server's configuration, which decides when a key retires.
        .env("TOLLGATE_ACCESSKEY__TOKEN_TTL", "3s")
        .env("TOLLGATE_JWT__LEEWAY", "0s")
        .output()
        .expect("run");
    let listed: Value = serde_json::from_slice(&list.stdout).expect("json");
    let states: Vec<(&str, &str)> = listed
        .as_array()
        .expect("array")
        .iter()
        .map(|k| (k["kid"].as_str().expect("kid"), k["state"].as_str().expect("state")))
        .collect();
    assert_eq!(states, [(old_kid.as_str(), "retired"), (new_kid.as_str(), "signing")], "as the JWKS says");
}

#[tokio::test]
async fn rotating_hs384_is_refused_with_a_reason() {
    let app = TestApp::spawn().await;
    let out = std::process::Command::new(app.bin_path())
        .args(["--database", &app.config.database_url, "keys", "rotate"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("HS384"));
}
