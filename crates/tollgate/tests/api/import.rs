//! The bulk import (DESIGN.md §10) end to end: records imported through the
//! admin API (`POST /admin/v1/import`) and the real `tollgate import`
//! binary, then used the way clients use them — passwords through contract
//! A with each framework's published vector, API keys through contract B,
//! access keys through contract C and OAuth 2.0.

use std::process::Output;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::Method;
use serde_json::{Value, json};

use crate::admin::{AdminApi, problem};
use crate::helpers::{Reply, TestApp};

const NDJSON: &str = "application/x-ndjson";

/// PHP's `password_hash("abc", PASSWORD_BCRYPT, ["cost" => 4])` (Symfony's
/// own test vector).
const BCRYPT_ABC: &str = "$2y$04$M8GDODMoGQLQRpkYCdoJh.lbiZPee3SZI32RcYK49XYTolDGwoRMm";

/// JSON Lines from records.
fn lines(records: &[Value]) -> String {
    records.iter().map(|record| format!("{record}\n")).collect()
}

impl AdminApi {
    async fn import(&self, body: String, dry_run: bool) -> Reply {
        let path = if dry_run { "/admin/v1/import?dryRun=true" } else { "/admin/v1/import" };
        self.send(Method::POST, path, Some((NDJSON, body))).await
    }

    /// Imports and returns the report, which must say every line went in.
    async fn import_all(&self, records: &[Value]) -> Value {
        let reply = self.import(lines(records), false).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let report = reply.json();
        assert_eq!(report["errors"], json!([]), "{report}");
        report
    }
}

fn counts(created: u64, updated: u64, unchanged: u64) -> Value {
    json!({ "created": created, "updated": updated, "unchanged": unchanged })
}

async fn password_format(admin: &AdminApi, name: &str) -> Value {
    let reply = admin.get(&format!("/admin/v1/principals/{name}")).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()["passwordFormat"].clone()
}

/// One imported password and the password that matches it.
struct Vector {
    name: &'static str,
    password: Value,
    matches: String,
}

fn vector(name: &'static str, password: Value, matches: &str) -> Vector {
    Vector { name, password, matches: matches.to_owned() }
}

fn hashed(format: &str, hash: &str) -> Value {
    json!({ "format": format, "hash": hash })
}

/// Every format of §10 with a vector its framework publishes (sources in
/// crates/legacy/tests/vectors.rs).
fn vectors() -> Vec<Vector> {
    vec![
        // phc-winner-argon2's reference test, and php-src's argon2i.
        vector(
            "argon2id-user",
            hashed(
                "argon2",
                "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
            ),
            "password",
        ),
        vector(
            "argon2i-user",
            hashed(
                "argon2",
                "$argon2i$v=19$m=256,t=2,p=2$c29tZXNhbHQ$T/XOJ2mh1/TIpJHfCdQan76Q5esCFVoT5MAeIM1Oq2E",
            ),
            "password",
        ),
        // php-src password_verify.phpt ($2a$), pyca bcrypt via Django ($2b$),
        // Symfony ($2y$).
        vector(
            "bcrypt-2a",
            hashed("bcrypt", "$2a$07$usesomesillystringfore2uDLvp1Ii2e./U9C8sBjqp8I90dH6hi"),
            "rasmuslerdorf",
        ),
        vector(
            "bcrypt-2b",
            hashed("bcrypt", "$2b$04$6l1Jx/oP3Wsl6y.vEDqNYerEqn7i2TFl7ItIbw9ahtpGZ21mNdCsu"),
            "lètmein",
        ),
        vector("bcrypt-2y", hashed("bcrypt", BCRYPT_ABC), "abc"),
        // Symfony's native hashers: bcrypt, its pre-hash of a password over
        // 72 bytes, sha-crypt, sodium's argon2id.
        vector("native-bcrypt", hashed("symfony-native", BCRYPT_ABC), "abc"),
        vector(
            "native-long",
            hashed("symfony-native", "$2y$04$794xksn4pge67SBoZB2P4uHnII4uejITWJLfrLXVRXuCDt5Ps6m/S"),
            &"a".repeat(100),
        ),
        vector(
            "native-sha-crypt",
            hashed("symfony-native", "$5$abcdefgh$ZLdkj8mkc2XVSrPVjskDAgZPGjtj1VGVaa1aUkrMTU/"),
            "password",
        ),
        vector(
            "native-argon2",
            hashed(
                "symfony-native",
                "$argon2id$v=19$m=1024,t=3,p=1$X03ZkvPVO7eUfKGKIdVMAw$6Gr2FbVRgK6sTg5Alrn6p37FqqTILFHYSC+qvzVaLbk",
            ),
            "password",
        ),
        // Drepper's SHA-crypt reference vectors ($5$, $6$).
        vector(
            "sha-crypt-5",
            hashed(
                "sha-crypt",
                "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA",
            ),
            "Hello world!",
        ),
        vector(
            "sha-crypt-6",
            hashed(
                "sha-crypt",
                "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
            ),
            "Hello world!",
        ),
        // Symfony MessageDigestPasswordHasherTest (sha256, hex), and the
        // defaults (sha512, 5000 iterations, base64) with a salt.
        vector(
            "digest-sha256",
            json!({ "format": "symfony-message-digest", "hash": "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
                    "salt": "", "algorithm": "sha256", "iterations": 1, "encoding": "hex" }),
            "password",
        ),
        vector(
            "digest-default",
            json!({ "format": "symfony-message-digest", "salt": "f00dfacecafe",
                    "hash": "2SBIm2FxQs6+NjK+N5KBjMUaL1EjpjRHsrh53l1gSrN8KYh/81vT1jqd95+B9MOUnO3fhVBsB3FPgLmUB/W29g==" }),
            "correct horse",
        ),
        // Symfony Pbkdf2PasswordHasherTest (sha256, base64), and the defaults.
        vector(
            "pbkdf2-sha256",
            json!({ "format": "symfony-pbkdf2", "hash": "wSMvEPYnFf2gaufAogN8oZszzxA7cnulbYcMEfKQoqsQaXTHVgfIow==",
                    "salt": "", "algorithm": "sha256", "iterations": 1, "length": 40 }),
            "password",
        ),
        vector(
            "pbkdf2-default",
            json!({ "format": "symfony-pbkdf2", "salt": "f00dfacecafe",
                    "hash": "9ljGtlGUY2UqB6XNVV6Q/4AzcpCjoD+8XJbtaM0NLKHJ5EFWAk523Q==" }),
            "correct horse",
        ),
        // ASP.NET Core's PasswordHasherTest: V2 and V3.
        vector(
            "aspnet-v2",
            hashed("aspnet-identity", "AAABAgMEBQYHCAkKCwwNDg+ukCEMDf0yyQ29NYubggHIVY0sdEUfdyeM+E1LtH1uJg=="),
            "my password",
        ),
        vector(
            "aspnet-v3",
            hashed(
                "aspnet-identity",
                "AQAAAAEAACcQAAAAEAABAgMEBQYHCAkKCwwNDg+yWU7rLgUwPZb1Itsmra7cbxw2EFpwpVFIEtP+JIuUEw==",
            ),
            "my password",
        ),
        // Django's test_hashers.py (pbkdf2, argon2) and bcrypt_sha256.
        vector(
            "django-pbkdf2-sha256",
            hashed("django", "pbkdf2_sha256$390000$seasalt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c="),
            "lètmein",
        ),
        vector(
            "django-pbkdf2-sha1",
            hashed("django", "pbkdf2_sha1$390000$seasalt2$aDapRanzW8aHTz97v2TcfHzWD+I="),
            "lètmein",
        ),
        vector(
            "django-argon2",
            hashed("django", "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q"),
            "secret",
        ),
        vector(
            "django-bcrypt-sha256",
            hashed("django", "bcrypt_sha256$$2b$04$aIQ.pK7J5pzUYuxzioz.7OR1ufJZ2DqmttW7D02umjYYrXTWqq93u"),
            "lètmein",
        ),
    ]
}

#[tokio::test]
async fn every_password_format_imports_and_logs_in_with_its_published_vector() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    let vectors = vectors();
    let records: Vec<Value> = vectors
        .iter()
        .map(|v| json!({ "type": "principal", "name": v.name, "password": v.password }))
        .collect();
    let report = admin.import_all(&records).await;
    assert_eq!(report["principals"], counts(vectors.len() as u64, 0, 0));

    for v in &vectors {
        let format = v.password["format"].as_str().expect("format");
        assert_eq!(password_format(&admin, v.name).await, format, "{}: before its first login", v.name);
        let wrong = format!("{}x", v.matches);
        let refused = app.post_login_check(&json!({ "username": v.name, "password": wrong })).await;
        assert_eq!(refused.status, 401, "{}: a wrong password", v.name);
        let accepted = app.post_login_check(&json!({ "username": v.name, "password": v.matches })).await;
        assert_eq!(accepted.status, 200, "{}: {}", v.name, accepted.text);
        assert_eq!(password_format(&admin, v.name).await, "argon2id", "{}: rehashed on login", v.name);
        app.login(v.name, &v.matches).await;
    }
}

#[tokio::test]
async fn a_2x_bcrypt_hash_is_refused_with_an_error_naming_2x() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    let hash = "$2x$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e";
    let reply = admin
        .import(
            lines(&[
                json!({ "type": "principal", "name": "old-php", "password": hashed("bcrypt", hash) }),
                json!({ "type": "principal", "name": "fine", "password": hashed("bcrypt", BCRYPT_ABC) }),
            ]),
            false,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let report = reply.json();
    assert_eq!(report["principals"], counts(1, 0, 0));
    let errors = report["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{report}");
    assert_eq!(errors[0]["line"], 1);
    let error = errors[0]["error"].as_str().expect("text");
    assert!(error.contains("$2x$"), "{error}");
    assert!(!reply.text.contains(hash), "the hash is not repeated: {}", reply.text);
    assert_eq!(admin.get("/admin/v1/principals/old-php").await.status, 404);
}

#[tokio::test]
async fn an_imported_api_key_logs_in_through_contract_b_under_its_id() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    let (key, id) = ("q1w2e3r4t5y6u7i8o9p0aA==", uuid::Uuid::new_v4());
    let report = admin
        .import_all(&[
            json!({ "type": "principal", "name": "Legacy.Client" }),
            json!({ "type": "apikey", "principal": "Legacy.Client", "apiKey": key, "id": id }),
        ])
        .await;
    assert_eq!((&report["principals"], &report["apiKeys"]), (&counts(1, 0, 0), &counts(1, 0, 0)));

    let body = json!({ "UserLogin": "Legacy.Client", "ApiKey": key }).to_string();
    let login = app.post_raw("/api/login", Some("application/json"), body).await;
    assert_eq!(login.status, 200, "{}", login.text);
    let token = login.json()["Token"].as_str().expect("Token").to_owned();
    assert_eq!(app.verify(&token).await.header("x-auth-name"), Some("Legacy.Client"));
    let keys = admin.get("/admin/v1/principals/Legacy.Client/api-keys").await.json();
    assert_eq!(keys["items"][0]["id"], json!(id.to_string()), "the given id is kept");
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON")
}

#[tokio::test]
async fn imported_access_keys_log_in_through_contract_c_and_oauth2_keeping_their_ids() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    let principal = uuid::Uuid::new_v4();
    let (plain_id, hashed_id) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let (plain_key, hashed_key) =
        ("0123456789abcdef0123456789abcdef01234567", "fedcba9876543210fedcba9876543210fedcba98");
    let secret = "79bPqahzbeYuIgyod1GBjsBy38wN7KuBBNNmN/emwjFCuAfq";
    admin
        .import_all(&[
            json!({ "type": "principal", "name": "partner-api", "id": principal, "roles": ["Partner"],
                    "realm": "Partner", "attributes": { "cid": "c-1" } }),
            json!({ "type": "accesskey", "principal": principal, "accessKey": plain_key, "id": plain_id, "secret": secret }),
            json!({ "type": "accesskey", "principal": "partner-api", "accessKey": hashed_key, "id": hashed_id,
                    "secretHash": hashed("bcrypt", BCRYPT_ABC), "state": "active" }),
        ])
        .await;

    for (key, secret, id) in [(plain_key, secret, plain_id), (hashed_key, "abc", hashed_id)] {
        let wrong = app
            .post_raw(
                "/login",
                Some("application/json"),
                json!({ "accessKey": key, "secret": "nope" }).to_string(),
            )
            .await;
        assert_eq!(wrong.status, 401);
        // Twice: the legacy hash is replaced by the keyed hash on the first.
        for _ in 0..2 {
            let body = json!({ "accessKey": key, "secret": secret }).to_string();
            let login = app.post_raw("/login", Some("application/json"), body).await;
            assert_eq!(login.status, 201, "{key}: {}", login.text);
            let jwt = claims(&login.text);
            assert_eq!((jwt["uid"].clone(), jwt["ak"].clone()), (json!(principal), json!(id)), "{jwt}");
            assert_eq!((jwt["realm"].clone(), jwt["cid"].clone()), (json!("Partner"), json!("c-1")));
        }
        let basic = format!("Basic {}", STANDARD.encode(format!("{key}:{secret}")));
        let token = app
            .post_to(
                &app.url("/oauth2/token"),
                &[("content-type", "application/x-www-form-urlencoded"), ("authorization", &basic)],
                "grant_type=client_credentials",
            )
            .await;
        assert_eq!(token.status, 200, "{}", token.text);
        let jwt = claims(token.json()["access_token"].as_str().expect("access_token"));
        assert_eq!((jwt["uid"].clone(), jwt["ak"].clone()), (json!(principal), json!(id)));
    }
}

#[tokio::test]
async fn importing_the_same_records_again_changes_nothing() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    let records = [
        json!({ "type": "principal", "name": "carol", "password": hashed("bcrypt", BCRYPT_ABC), "roles": ["a"],
                "realm": "r", "attributes": { "ca": "1" }, "enabled": true }),
        json!({ "type": "apikey", "principal": "carol", "apiKey": "AAAAAAAAAAAAAAAAAAAAAA==",
                "expiresAt": "2099-01-01T00:00:00Z" }),
        json!({ "type": "accesskey", "principal": "carol", "accessKey": "a".repeat(40), "secret": "s3cret",
                "state": "pending" }),
        json!({ "type": "accesskey", "principal": "carol", "accessKey": "b".repeat(40),
                "secretHash": hashed("bcrypt", BCRYPT_ABC) }),
    ];
    let first = admin.import_all(&records).await;
    assert_eq!(
        (&first["principals"], &first["apiKeys"], &first["accessKeys"]),
        (&counts(1, 0, 0), &counts(1, 0, 0), &counts(2, 0, 0))
    );
    // A login in between rehashes the imported hashes: still nothing to do.
    app.login("carol", "abc").await;
    let again = admin.import_all(&records).await;
    assert_eq!(
        (&again["principals"], &again["apiKeys"], &again["accessKeys"]),
        (&counts(0, 0, 1), &counts(0, 0, 1), &counts(0, 0, 2))
    );
    assert_eq!(password_format(&admin, "carol").await, "argon2id", "the rehashed password stays");
}

#[tokio::test]
async fn a_dry_run_reports_what_would_happen_and_writes_nothing() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    let records = [
        json!({ "type": "principal", "name": "dora" }),
        json!({ "type": "apikey", "principal": "dora", "apiKey": "AAAAAAAAAAAAAAAAAAAAAA==" }),
        json!({ "type": "principal", "name": "dora", "roles": ["later"] }),
        json!({ "type": "apikey", "principal": "nobody", "apiKey": "AAAAAAAAAAAAAAAAAAAAAQ==" }),
    ];
    let reply = admin.import(lines(&records), true).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let report = reply.json();
    assert_eq!((&report["principals"], &report["apiKeys"]), (&counts(1, 1, 0), &counts(1, 0, 0)));
    assert_eq!(report["errors"][0]["line"], 4, "{report}");
    assert_eq!(admin.get("/admin/v1/principals/dora").await.status, 404);
    let audit = admin.get("/admin/v1/audit-events?action=import.run").await.json();
    assert_eq!(audit["items"], json!([]), "a dry run leaves no audit row");
    // And the same file for real does what the dry run said.
    let real = admin.import(lines(&records), false).await.json();
    assert_eq!(
        (&real["principals"], &real["apiKeys"], &real["errors"]),
        (&report["principals"], &report["apiKeys"], &report["errors"])
    );
}

#[tokio::test]
async fn an_import_never_replaces_a_password_or_secret_tollgate_holds() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    admin.create(json!({ "name": "erin", "password": "erins-own-password" })).await;
    admin.create(json!({ "name": "fred" })).await;
    let access_key = "c".repeat(40);
    admin
        .import_all(&[json!({ "type": "accesskey", "principal": "erin", "accessKey": access_key, "secret": "first-secret" })])
        .await;

    let report = admin
        .import_all(&[
            json!({ "type": "principal", "name": "erin", "password": hashed("bcrypt", BCRYPT_ABC) }),
            json!({ "type": "principal", "name": "fred", "password": hashed("bcrypt", BCRYPT_ABC) }),
            json!({ "type": "accesskey", "principal": "erin", "accessKey": access_key, "secret": "second-secret" }),
        ])
        .await;
    assert_eq!(report["principals"], counts(0, 1, 1), "fred had no password: he gets one");
    assert_eq!(report["accessKeys"], counts(0, 0, 1));
    assert_eq!(app.post_login_check(&json!({ "username": "erin", "password": "abc" })).await.status, 401);
    app.login("erin", "erins-own-password").await;
    app.login("fred", "abc").await;
    let login = |secret: &str| json!({ "accessKey": access_key, "secret": secret }).to_string();
    assert_eq!(app.post_raw("/login", Some("application/json"), login("first-secret")).await.status, 201);
    assert_eq!(app.post_raw("/login", Some("application/json"), login("second-secret")).await.status, 401);
}

#[tokio::test]
async fn changed_roles_realm_attributes_state_or_expiry_count_as_updated() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    let key = "d".repeat(40);
    admin
        .import_all(&[
            json!({ "type": "principal", "name": "gina", "roles": ["a"], "attributes": { "ca": "1" } }),
            json!({ "type": "accesskey", "principal": "gina", "accessKey": key, "secret": "gina-secret" }),
        ])
        .await;
    let token = app
        .post_raw(
            "/login",
            Some("application/json"),
            json!({ "accessKey": key, "secret": "gina-secret" }).to_string(),
        )
        .await;
    assert_eq!(token.status, 201);

    let report = admin
        .import_all(&[
            // Left-out members stay as they are: only the realm changes.
            json!({ "type": "principal", "name": "gina", "realm": "Partner" }),
            json!({ "type": "principal", "name": "gina", "enabled": false }),
            json!({ "type": "accesskey", "principal": "gina", "accessKey": key, "state": "revoked" }),
        ])
        .await;
    assert_eq!((&report["principals"], &report["accessKeys"]), (&counts(0, 2, 0), &counts(0, 1, 0)));
    let gina = admin.get("/admin/v1/principals/gina").await.json();
    assert_eq!(
        (&gina["roles"], &gina["realm"], &gina["attributes"], &gina["enabled"]),
        (&json!(["a"]), &json!("Partner"), &json!({ "ca": "1" }), &json!(false))
    );
    assert_eq!(admin.get(&format!("/admin/v1/access-keys/{key}")).await.json()["state"], "revoked");
    assert_eq!(app.verify(&token.text).await.status, 401, "a disabled principal's tokens stop");

    let revoked = admin
        .import(
            lines(&[
                json!({ "type": "accesskey", "principal": "gina", "accessKey": key, "state": "active" }),
            ]),
            false,
        )
        .await
        .json();
    assert!(
        revoked["errors"][0]["error"].as_str().expect("error").contains("revoked, which is final"),
        "{revoked}"
    );
}

#[tokio::test]
async fn the_import_endpoint_takes_ndjson_from_admins_and_leaves_one_audit_row() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let admin = AdminApi::as_admin(&app).await;
    let body =
        lines(&[json!({ "type": "principal", "name": "hank", "password": hashed("bcrypt", BCRYPT_ABC) })]);

    let anonymous = AdminApi::with_token(&app, None);
    problem(&anonymous.import(body.clone(), false).await, 401);
    let user = AdminApi::as_user(&app, "user", "1234").await;
    problem(&user.import(body.clone(), false).await, 403);
    let json_body =
        admin.send(Method::POST, "/admin/v1/import", Some(("application/json", body.clone()))).await;
    problem(&json_body, 415);
    problem(
        &admin.send(Method::POST, "/admin/v1/import?dryRun=maybe", Some((NDJSON, body.clone()))).await,
        400,
    );
    assert_eq!(admin.get("/admin/v1/principals/hank").await.status, 404, "nothing refused was imported");

    let reply = admin.import(body, false).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["principals"], counts(1, 0, 0));
    let audit = admin.get("/admin/v1/audit-events?action=import.run").await.json();
    let rows = audit["items"].as_array().expect("items");
    assert_eq!(rows.len(), 1, "{audit}");
    assert_eq!(rows[0]["actor"], "admin");
    assert_eq!(rows[0]["details"]["principals"], counts(1, 0, 0));
    assert!(!audit.to_string().contains(BCRYPT_ABC), "no hash in the audit trail");
}

// ------------------------------------------------------------- the binary

fn tollgate(app: &TestApp, args: &[&str], stdin: Option<&str>) -> Output {
    app.run_binary(&[&["--database", &app.config.database_url], args].concat(), stdin, &[])
}

#[tokio::test]
async fn tollgate_import_imports_a_file_and_is_idempotent() {
    let app = TestApp::spawn().await;
    let file = app.dir.path().join("users.jsonl");
    let records = [
        json!({ "type": "principal", "name": "ivy", "password": hashed("bcrypt", BCRYPT_ABC) }),
        json!({ "type": "apikey", "principal": "ivy", "apiKey": "q1w2e3r4t5y6u7i8o9p0aA==" }),
    ];
    std::fs::write(&file, lines(&records)).expect("write file");
    let path = file.to_str().expect("path");

    let first = tollgate(&app, &["import", path], None);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let human = String::from_utf8_lossy(&first.stdout);
    assert!(human.contains("principals:  1 created, 0 updated, 0 unchanged"), "{human}");
    assert!(human.contains("API keys:    1 created"), "{human}");
    // The server sees the new key at once enough for a login.
    let body = json!({ "UserLogin": "ivy", "ApiKey": "q1w2e3r4t5y6u7i8o9p0aA==" }).to_string();
    assert_eq!(app.post_raw("/api/login", Some("application/json"), body).await.status, 200);
    app.login("ivy", "abc").await;

    let again = tollgate(&app, &["import", path, "--json"], None);
    assert_eq!(again.status.code(), Some(0), "{}", String::from_utf8_lossy(&again.stderr));
    let report: Value = serde_json::from_slice(&again.stdout).expect("one JSON report");
    assert_eq!(
        report,
        json!({ "principals": counts(0, 0, 1), "apiKeys": counts(0, 0, 1), "accessKeys": counts(0, 0, 0), "errors": [] })
    );
    let audit = tollgate(&app, &["audit", "list", "--action", "import.run", "--json"], None);
    let rows: Value = serde_json::from_slice(&audit.stdout).expect("audit JSON");
    assert_eq!(rows.as_array().map(Vec::len), Some(2));
    assert_eq!((&rows[0]["actor"], &rows[0]["target"]), (&json!("cli"), &json!(path)));
}

#[tokio::test]
async fn tollgate_import_reports_bad_lines_by_number_imports_the_good_ones_and_exits_1() {
    let app = TestApp::spawn().await;
    let api_key = "bm90IGEgMTYgYnl0ZSBrZXk="; // base64, but not of 16 bytes
    let secret = "Tr0ub4dor&3-secret";
    let hash = "$2y$04$M8GDODMoGQLQRpkYCdoJh.lbiZPee3SZI32RcYK49XYTolDGwoRMX";
    let input = [
        json!({ "type": "principal", "name": "jack" }).to_string(),
        "{ not json".to_owned(),
        json!({ "type": "principal", "name": "kate", "password": { "format": "bcrypt", "hash": hash, "cost": 4 } }).to_string(),
        json!({ "type": "apikey", "principal": "jack", "apiKey": api_key }).to_string(),
        String::new(),
        json!({ "type": "accesskey", "principal": "nobody", "accessKey": "e".repeat(40), "secret": secret }).to_string(),
        json!({ "type": "principal", "name": "lena", "passwort": secret }).to_string(),
        json!({ "type": "principal", "name": "mia", "password": secret }).to_string(),
        json!({ "type": "principal", "name": "ned" }).to_string(),
    ]
    .join("\n");

    let out = tollgate(&app, &["import", "-", "--json"], Some(&input));
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_str(&stdout).expect("one JSON report");
    assert_eq!(report["principals"], counts(2, 0, 0), "{report}");
    let failed: Vec<u64> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["line"].as_u64().expect("line"))
        .collect();
    assert_eq!(failed, [2, 3, 4, 6, 7, 8], "{report}");
    for secret_value in [api_key, secret, hash, "Tr0ub4dor"] {
        assert!(!stdout.contains(secret_value), "stdout shows a secret: {stdout}");
        assert!(!stderr.contains(secret_value), "stderr shows a secret: {stderr}");
    }
    assert!(stderr.contains("6 lines were not imported"), "{stderr}");
    let cli = tollgate(&app, &["principal", "list", "--json"], None);
    let names: Value = serde_json::from_slice(&cli.stdout).expect("list");
    let names: Vec<&str> =
        names.as_array().expect("array").iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["jack", "ned"]);

    let human = tollgate(&app, &["import", "-", "--dry-run"], Some(&input));
    assert_eq!(human.status.code(), Some(1));
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("dry run") && text.contains("line 2: not valid JSON"), "{text}");
    assert!(text.contains("principals:  0 created, 0 updated, 2 unchanged"), "{text}");
}

/// Sends `head` (request line and headers) and `body` on a connection of its
/// own, closes its sending half, and returns the whole answer.
async fn raw_exchange(app: &TestApp, head: &str, body: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let address = app.admin_url("").trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("head");
    stream.write_all(body.as_bytes()).await.expect("body");
    stream.shutdown().await.expect("shutdown");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("answer");
    answer
}

#[tokio::test]
async fn an_import_body_over_a_gibibyte_is_refused_and_one_cut_off_still_counts() {
    let app = TestApp::spawn_demo_with(|_| {}).await;
    let token = app.login("admin", "admin").await["token"].as_str().expect("token").to_owned();
    let head = |length: u64| {
        format!(
            "POST /admin/v1/import HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: {NDJSON}\r\nContent-Length: {length}\r\n\r\n"
        )
    };
    let answer = raw_exchange(&app, &head(1024 * 1024 * 1024 + 1), "").await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // The client goes away after one line of a longer body: that line is
    // imported, the answer says the body broke off, the audit row counts it.
    let line = lines(&[json!({ "type": "principal", "name": "olga" })]);
    let answer = raw_exchange(&app, &head(10_000), &line).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("did not arrive whole"), "{answer}");
    let admin = AdminApi::as_admin(&app).await;
    assert_eq!(admin.get("/admin/v1/principals/olga").await.status, 200);
    let audit = admin.get("/admin/v1/audit-events?action=import.run").await.json();
    assert_eq!(audit["items"][0]["details"]["principals"], counts(1, 0, 0), "{audit}");
}
