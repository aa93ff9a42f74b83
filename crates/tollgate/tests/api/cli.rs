//! The admin command line, run as a real process against the same database
//! as a running server; and configuration layering and errors.

use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::TestApp;

struct Cli<'a> {
    app: &'a TestApp,
}

impl Cli<'_> {
    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        self.app.run_binary(&[&["--database", &self.app.config.database_url], args].concat(), stdin, &[])
    }

    fn json(&self, args: &[&str], stdin: Option<&str>) -> Value {
        let out = self.run(&[args, &["--json"]].concat(), stdin);
        assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: stdout is not one JSON value ({e}): {:?}", out.stdout))
    }
}

#[tokio::test]
async fn principal_add_takes_password_roles_attributes_and_realm_and_prints_json() {
    let app = TestApp::spawn().await;
    let cli = Cli { app: &app };
    let added = cli.json(
        &[
            "principal",
            "add",
            "alice",
            "--password-stdin",
            "--role",
            "Partner",
            "--role",
            "PartnerAdmin",
            "--attr",
            "domain=/partners-int",
            "--attr",
            "ca=0ea70001",
            "--realm",
            "Partner",
        ],
        Some("s3cret pass\r\n"),
    );
    assert_eq!(added["name"], "alice");
    assert_eq!(added["roles"], json!(["Partner", "PartnerAdmin"]));
    assert_eq!(added["realm"], "Partner");
    assert_eq!(added["attributes"], json!({ "ca": "0ea70001", "domain": "/partners-int" }));
    assert_eq!(added["enabled"], true);
    assert!(uuid::Uuid::parse_str(added["id"].as_str().expect("id")).is_ok());
    assert!(added["createdAt"].is_string());
    // The line ending was not part of the password.
    let login = app.login("alice", "s3cret pass").await;
    assert_eq!(
        app.verify(login["token"].as_str().expect("token")).await.header("x-auth-roles"),
        Some("Partner,PartnerAdmin")
    );
}

#[tokio::test]
async fn principal_list_show_disable_enable_and_remove_work() {
    let app = TestApp::spawn().await;
    let cli = Cli { app: &app };
    cli.json(&["principal", "add", "bob", "--password-stdin"], Some("bobs-password\n"));
    cli.json(&["principal", "add", "carol", "--no-password"], None);
    let list = cli.json(&["principal", "list"], None);
    let names: Vec<_> = list.as_array().expect("array").iter().map(|p| p["name"].clone()).collect();
    assert_eq!(names, [json!("bob"), json!("carol")]);
    assert_eq!(cli.json(&["principal", "show", "bob"], None)["name"], "bob");

    let token = app.login("bob", "bobs-password").await["token"].as_str().expect("token").to_owned();
    assert_eq!(cli.json(&["principal", "disable", "bob"], None)["enabled"], false);
    assert_eq!(app.post_login_check(&json!({"username":"bob","password":"bobs-password"})).await.status, 401);
    assert!(app.refused_within_two_seconds(&token).await);
    assert_eq!(cli.json(&["principal", "enable", "bob"], None)["enabled"], true);
    assert_eq!(app.post_login_check(&json!({"username":"bob","password":"bobs-password"})).await.status, 200);

    cli.json(&["principal", "remove", "bob"], None);
    let out = cli.run(&["principal", "show", "bob"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no principal named \"bob\""));
}

#[tokio::test]
async fn adding_a_duplicate_or_invalid_principal_fails_with_a_message() {
    let app = TestApp::spawn().await;
    let cli = Cli { app: &app };
    cli.json(&["principal", "add", "dave", "--no-password"], None);
    let out = cli.run(&["principal", "add", "dave", "--no-password"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    let out = cli.run(&["principal", "add", "eve", "--no-password", "--attr", "exp=1"], None);
    assert!(!out.status.success());
    let out = cli.run(&["principal", "add", "frank"], None);
    assert!(!out.status.success(), "no terminal and no --password-stdin must not create a principal");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--password-stdin"));
}

#[tokio::test]
async fn password_set_replaces_the_password() {
    let app = TestApp::spawn().await;
    app.add_user("user", "old").await;
    let cli = Cli { app: &app };
    cli.json(&["password", "set", "user", "--password-stdin"], Some("new-password\n"));
    assert_eq!(app.post_login_check(&json!({"username":"user","password":"old"})).await.status, 401);
    assert_eq!(app.post_login_check(&json!({"username":"user","password":"new-password"})).await.status, 200);
}

#[tokio::test]
async fn token_revoke_stops_a_token_on_the_running_server_within_two_seconds() {
    let app = TestApp::spawn().await;
    app.add_user("user", "1234").await;
    let cli = Cli { app: &app };
    let login = app.login("user", "1234").await;
    let token = login["token"].as_str().expect("token");
    assert_eq!(app.verify(token).await.status, 200);
    assert_eq!(cli.json(&["token", "revoke", token], None)["revoked"], true);
    assert!(app.refused_within_two_seconds(token).await);

    let out = cli.run(&["token", "revoke", "not-a-token"], None);
    assert!(!out.status.success());

    // A refresh token revokes its whole session.
    let login = app.login("user", "1234").await;
    cli.json(&["token", "revoke", login["refresh_token"].as_str().expect("refresh")], None);
    assert!(app.refused_within_two_seconds(login["token"].as_str().expect("token")).await);
    assert_eq!(app.refresh(login["refresh_token"].as_str().expect("refresh")).await.status, 401);

    let login = app.login("user", "1234").await;
    cli.json(&["token", "revoke", "--principal", "user"], None);
    assert!(app.refused_within_two_seconds(login["token"].as_str().expect("token")).await);
}

#[tokio::test]
async fn configuration_layers_file_then_environment_then_flags() {
    let app = TestApp::spawn().await;
    let dir = app.dir.path();
    std::fs::write(dir.join("tollgate.toml"), "database_url = \"sqlite://from-file.db\"\n").expect("write");
    let migrate = |args: &[&str], env: &[(&str, &str)]| {
        let out = app.run_binary(&[&["migrate"], args].concat(), None, env);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    migrate(&[], &[]);
    assert!(dir.join("from-file.db").exists(), "tollgate.toml in the working directory is read");
    migrate(&[], &[("TOLLGATE_DATABASE_URL", "sqlite://from-env.db")]);
    assert!(dir.join("from-env.db").exists(), "the environment overrides the file");
    migrate(&["--database", "sqlite://from-flag.db"], &[("TOLLGATE_DATABASE_URL", "sqlite://from-env2.db")]);
    assert!(dir.join("from-flag.db").exists(), "the flag overrides both");
    assert!(!dir.join("from-env2.db").exists());
    // Unrelated TOLLGATE_ variables are ignored.
    migrate(&[], &[("TOLLGATE_SOMETHING_ELSE", "x")]);
}

#[tokio::test]
async fn invalid_configuration_stops_start_up_naming_the_key() {
    let app = TestApp::spawn().await;
    let dir = app.dir.path();
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        ("bogus_key = 1\n", vec![], "bogus_key"),
        ("[login_check]\ntoken_tll = \"1h\"\n", vec![], "token_tll"),
        ("[login_check]\ntoken_ttl = \"soon\"\n", vec![], "login_check.token_ttl"),
        ("", vec![("TOLLGATE_LOGIN_CHECK__TOKEN_TTL", "1w")], "login_check.token_ttl"),
        ("", vec![("TOLLGATE_LISTEN", "nowhere")], "listen"),
        ("[login_check]\npath = \"no-slash\"\n", vec![], "login_check.path"),
        ("[jwt]\nsecret = \"short\"\n", vec![], "jwt.secret"),
        ("database_url = \"mysql://x\"\n", vec![], "database_url"),
        ("[apikey]\npath = \"/login\"\n", vec![], "apikey.path and accesskey.path"),
        ("[accesskey]\npath = \"/healthz\"\n", vec![], "accesskey.path"),
        (
            "[jwt]\nsecret = \"0123456789012345678901234567890123456789012345678\"\nsecret_file = \"k\"\n",
            vec![],
            "jwt.secret and jwt.secret_file",
        ),
        ("[jwt]\nsecret_file = \"missing.key\"\n", vec![], "jwt.secret_file"),
        ("[jwt]\nalgorithm = \"none\"\n", vec![], "jwt.algorithm"),
        ("", vec![("TOLLGATE_JWT__ALGORITHM", "HS256")], "jwt.algorithm"),
        (
            "[jwt]\nalgorithm = \"ES256\"\nsecret = \"0123456789012345678901234567890123456789012345678\"\n",
            vec![],
            "jwt.secret",
        ),
        ("", vec![("TOLLGATE_APIKEY__LISTEN", "127.0.0.1:99999")], "apikey.listen"),
        // Every kind of bad value names the variable as well as the key.
        ("", vec![("TOLLGATE_LOGIN_CHECK__TOKEN_TTL", "1w")], "(from TOLLGATE_LOGIN_CHECK__TOKEN_TTL)"),
        (
            "",
            vec![("TOLLGATE_APIKEY__TOKEN_TTL", "0s")],
            "apikey.token_ttl: must be longer than 0s (from TOLLGATE_APIKEY__TOKEN_TTL)",
        ),
        (
            "",
            vec![("TOLLGATE_PROTECTION__TRUSTED_PROXIES", "nope")],
            "(from TOLLGATE_PROTECTION__TRUSTED_PROXIES)",
        ),
        ("", vec![("TOLLGATE_ADMIN__ENABLED", "maybe")], "(from TOLLGATE_ADMIN__ENABLED)"),
        ("", vec![("TOLLGATE_LOG__FORMAT", "xml")], "(from TOLLGATE_LOG__FORMAT)"),
        ("[apikey]\ntoken_ttl = \"0s\"\n", vec![], "apikey.token_ttl: must be longer than 0s (in bad.toml)"),
        (
            "",
            vec![("TOLLGATE_ADMIN__LISTEN", "127.0.0.1:1"), ("TOLLGATE_LISTEN", "127.0.0.1:1")],
            "admin.listen",
        ),
        ("", vec![("TOLLGATE_TLS_CERT", "cert.pem")], "tls_cert and tls_key"),
    ];
    for (file, env, key) in cases {
        std::fs::write(dir.join("bad.toml"), file).expect("write");
        let out = app.run_binary(&["--config", "bad.toml", "serve"], None, &env);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{file:?} {env:?} should not start");
        assert!(stderr.contains(key), "{file:?} {env:?}: message does not name {key}: {stderr}");
    }
    let out = app.run_binary(&["--config", "missing.toml", "migrate"], None, &[]);
    assert!(!out.status.success());
}

#[tokio::test]
async fn migrate_reports_success_as_json() {
    let app = TestApp::spawn().await;
    let cli = Cli { app: &app };
    assert_eq!(cli.json(&["migrate"], None), json!({ "migrated": true }));
}

#[tokio::test]
async fn apikey_issue_list_and_revoke_work_and_never_show_the_key_again() {
    let app = TestApp::spawn().await;
    let cli = Cli { app: &app };
    cli.json(&["principal", "add", "svc", "--no-password", "--role", "batch"], None);
    let issued = cli.json(&["apikey", "issue", "svc"], None);
    let keys: Vec<&str> = issued.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(keys, ["id", "principal", "apiKey", "expiresAt"]);
    assert_eq!(issued["principal"], "svc");
    assert_eq!(issued["expiresAt"], Value::Null);
    let api_key = issued["apiKey"].as_str().expect("apiKey").to_owned();
    assert!(tollgate_core::secret::decode_api_key(&api_key).is_some(), "base64 of 16 bytes");

    let body = json!({ "UserLogin": "svc", "ApiKey": api_key }).to_string();
    let login = app.post_raw("/api/login", Some("application/json"), body.clone()).await;
    assert_eq!(login.status, 200, "{}", login.text);

    let second = cli.json(&["apikey", "issue", "svc", "--expires", "30d"], None);
    assert!(second["expiresAt"].is_string());
    // Last-use times are written in the background, about once a second.
    let deadline = Instant::now() + Duration::from_secs(3);
    let list = loop {
        let list = cli.json(&["apikey", "list", "svc"], None);
        let used = list
            .as_array()
            .expect("array")
            .iter()
            .any(|k| k["id"] == issued["id"] && k["lastUsedAt"].is_string());
        if used || Instant::now() > deadline {
            break list;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let list = list.as_array().expect("array");
    assert_eq!(list.len(), 2);
    let first = list.iter().find(|k| k["id"] == issued["id"]).expect("first key listed");
    assert_eq!(first["state"], "active");
    assert!(first["createdAt"].is_string());
    assert!(first["lastUsedAt"].is_string(), "last use is recorded: {first}");
    assert!(!list.iter().any(|k| k.to_string().contains(&api_key)), "the key is never shown again");

    // token revoke --key voids the key's tokens but keeps the key usable.
    let token = login.json()["Token"].as_str().expect("token").to_owned();
    let id = issued["id"].as_str().expect("id");
    cli.json(&["token", "revoke", "--key", id], None);
    assert!(app.refused_within_two_seconds(&token).await);
    assert_eq!(app.post_raw("/api/login", Some("application/json"), body.clone()).await.status, 200);

    assert_eq!(cli.json(&["apikey", "revoke", id], None)["revoked"], true);
    let deadline = Instant::now() + Duration::from_secs(2);
    let refused = loop {
        let reply = app.post_raw("/api/login", Some("application/json"), body.clone()).await;
        if reply.status == 401 {
            break reply;
        }
        assert!(Instant::now() < deadline, "a revoked key still logs in after 2 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(refused.json()["Result"]["ErrorNumber"], json!(1004));
    let list = cli.json(&["apikey", "list", "svc"], None);
    assert!(
        list.as_array().expect("array").iter().any(|k| k["id"] == issued["id"] && k["state"] == "revoked")
    );
    assert!(!cli.run(&["apikey", "revoke", "not-an-id"], None).status.success());
    assert!(!cli.run(&["apikey", "issue", "nobody"], None).status.success());
}

#[tokio::test]
async fn accesskey_create_list_and_set_state_drive_the_key_lifecycle() {
    let app = TestApp::spawn().await;
    let cli = Cli { app: &app };
    cli.json(
        &["principal", "add", "partner", "--no-password", "--role", "Partner", "--attr", "domain=/p"],
        None,
    );
    let created =
        cli.json(&["accesskey", "create", "partner", "--state", "pending", "--expires", "30d"], None);
    let fields: Vec<&str> = created.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(fields, ["id", "principal", "accessKey", "secret", "state", "expiresAt"]);
    let access_key = created["accessKey"].as_str().expect("accessKey").to_owned();
    let secret = created["secret"].as_str().expect("secret").to_owned();
    assert_eq!(access_key.len(), 40);
    assert!(access_key.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    assert_eq!(secret.len(), 48);
    assert_eq!(created["state"], "pending");
    assert!(created["expiresAt"].is_string());
    assert!(uuid::Uuid::parse_str(created["id"].as_str().expect("id")).is_ok());

    let login = || {
        app.post_raw(
            "/login",
            Some("application/json"),
            json!({ "accessKey": access_key, "secret": secret }).to_string(),
        )
    };
    assert_eq!(login().await.status, 401, "a pending key is refused");
    let moved = cli.json(&["accesskey", "set-state", &access_key, "active"], None);
    assert_eq!(moved["state"], "active");
    let order: Vec<&str> = moved.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(order, ["id", "accessKey", "principal", "state"]);
    let deadline = Instant::now() + Duration::from_secs(2);
    let token = loop {
        let reply = login().await;
        if reply.status == 201 {
            break reply.text;
        }
        assert!(Instant::now() < deadline, "activation not seen within 2 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(app.verify(&token).await.status, 200);

    let list = cli.json(&["accesskey", "list"], None);
    let listed = &list.as_array().expect("array")[0];
    assert_eq!(listed["accessKey"], access_key.as_str());
    assert_eq!(listed["state"], "active");
    assert!(!list.to_string().contains(&secret), "the secret is never shown again");
    assert_eq!(cli.json(&["accesskey", "list", "partner"], None).as_array().expect("array").len(), 1);

    // token revoke --key takes the 40-hex accessKey as well as the id.
    let id = created["id"].as_str().expect("id");
    assert_eq!(cli.json(&["token", "revoke", "--key", &access_key], None)["key"], id);
    assert!(app.refused_within_two_seconds(&token).await);
    let token = login().await.text;
    assert_eq!(app.verify(&token).await.status, 200, "the key stays usable");

    assert_eq!(cli.json(&["accesskey", "set-state", id, "revoked"], None)["state"], "revoked");
    assert!(app.refused_within_two_seconds(&token).await);
    let out = cli.run(&["accesskey", "set-state", &access_key, "active"], None);
    assert!(!out.status.success(), "revoked is final");
    assert!(String::from_utf8_lossy(&out.stderr).contains("final"));
    assert!(!cli.run(&["accesskey", "set-state", &access_key, "bogus"], None).status.success());
    assert!(!cli.run(&["accesskey", "set-state", "nope", "active"], None).status.success());
}
