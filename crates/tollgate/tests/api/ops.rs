//! Operating it (DESIGN.md §11): backups of a running SQLite database,
//! `config show`, the access log, JSON logs, and options that do nothing
//! refused.

use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::serve_binary;

const DEMO_B: &str = r#"{"UserLogin":"John.Doo","ApiKey":"hDn/LFXIPESM036W+s7VKg=="}"#;
const DEMO_C: &str = r#"{"accessKey":"986d8167a9b9a15e37db4ab4ad50877b01347a94","secret":"79bPqahzbeYuIgyod1GBjsBy38wN7KuBBNNmN/emwjFCuAfq"}"#;

fn tollgate(args: &[&str], env: &[(&str, &str)], dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .expect("run")
}

async fn post(client: &reqwest::Client, url: String, body: &'static str) -> reqwest::Response {
    client.post(url).header("content-type", "application/json").body(body).send().await.expect("post")
}

#[tokio::test]
async fn a_backup_taken_under_write_load_restores_tokens_and_keys() {
    let dir = tempfile::tempdir().expect("dir");
    // Backups are of SQLite databases, whatever the suite's backend.
    let url = format!("sqlite://{}", dir.path().join("live.db").display());
    let served = serve_binary(&url, &[], &["--demo"]).await.expect("starts");
    let client = reqwest::Client::new();
    let login: Value =
        post(&client, format!("{}/v1/login_check", served.base), r#"{"username":"user","password":"1234"}"#)
            .await
            .json()
            .await
            .expect("json");
    let token = login["token"].as_str().expect("token").to_owned();
    let jwt = post(&client, format!("{}/login", served.base), DEMO_C).await.text().await.expect("jwt");

    // Contract B logins write a token each, all through the backup.
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let load: Vec<_> = (0..4)
        .map(|_| {
            let (client, url, stop, written) = (
                client.clone(),
                format!("{}/api/login", served.base),
                Arc::clone(&stop),
                Arc::clone(&written),
            );
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    if post(&client, url.clone(), DEMO_B).await.status() == 200 {
                        written.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let copy = dir.path().join("copy.db");
    let copy_arg = copy.to_string_lossy().into_owned();
    let out = tokio::task::spawn_blocking({
        let (url, dir) = (url.clone(), dir.path().to_owned());
        move || tollgate(&["--database", &url, "--json", "backup", &copy_arg], &[], &dir)
    })
    .await
    .expect("backup");
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.expect("load");
    }
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(report["bytes"].as_u64().expect("bytes") > 0);
    assert!(written.load(Ordering::Relaxed) > 10, "the backup ran under load");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&copy).expect("copy").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the copy holds secrets: private");
    }
    drop(served);

    // Restored: the copy served where database_url points.
    let restored =
        serve_binary(&format!("sqlite://{}", copy.display()), &[], &[]).await.expect("restored starts");
    let verify = |token: String| {
        let (client, url) = (client.clone(), format!("{}/auth/verify", restored.base));
        async move { client.get(url).bearer_auth(token).send().await.expect("verify").status().as_u16() }
    };
    assert_eq!(verify(token).await, 200, "an access token issued before the backup");
    assert_eq!(verify(jwt).await, 200, "a JWT of the original's key");
    assert_eq!(post(&client, format!("{}/api/login", restored.base), DEMO_B).await.status(), 200);
    assert_eq!(post(&client, format!("{}/login", restored.base), DEMO_C).await.status(), 201);

    // A backup never overwrites, and PostgreSQL has pg_dump.
    let again = tollgate(&["--database", &url, "backup", &copy.to_string_lossy()], &[], dir.path());
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    let postgres =
        tollgate(&["--database", "postgres://nobody@127.0.0.1:1/none", "backup", "x.db"], &[], dir.path());
    assert!(String::from_utf8_lossy(&postgres.stderr).contains("pg_dump"));
}

#[test]
fn config_show_says_where_each_value_came_from_and_redacts_secrets() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("tollgate.toml"), "[apikey]\ntoken_ttl = \"30s\"\n").expect("config");
    let secret = "a-jwt-secret-of-at-least-forty-eight-bytes-0123456789";
    let env = [("TOLLGATE_JWT__SECRET", secret), ("TOLLGATE_ADMIN__ROLE", "ops")];
    let url = "postgres://tollgate:hunter2@db.example/tollgate";
    let out = tollgate(&["--database", url, "config", "show"], &env, dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let line = |key: &str| {
        text.lines()
            .find(|line| line.starts_with(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("{key}: {text}"))
            .to_owned()
    };
    let squeeze = |line: String| line.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(squeeze(line("apikey.token_ttl")), r#"apikey.token_ttl = "30s" # file"#);
    assert_eq!(squeeze(line("jwt.secret")), r#"jwt.secret = "[redacted]" # TOLLGATE_JWT__SECRET"#);
    assert_eq!(squeeze(line("admin.role")), r#"admin.role = "ops" # TOLLGATE_ADMIN__ROLE"#);
    assert_eq!(squeeze(line("listen")), r#"listen = "127.0.0.1:8080" # default"#);
    assert!(line("database_url").ends_with("# --database"));
    assert!(!text.contains("hunter2") && !text.contains(secret), "{text}");
    assert_eq!(text.lines().count(), tollgate::config::keys().len(), "one line per key");

    let out = tollgate(&["--database", url, "--json", "config", "show"], &env, dir.path());
    let shown: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(shown["apikey.token_ttl"], json!({ "value": "30s", "source": "file" }));
    assert_eq!(shown["jwt.secret"], json!({ "value": "[redacted]", "source": "TOLLGATE_JWT__SECRET" }));
    assert_eq!(shown.as_object().map(|o| o.len()), Some(tollgate::config::keys().len()));
}

#[test]
fn options_that_do_nothing_are_usage_errors_exiting_2() {
    let dir = tempfile::tempdir().expect("dir");
    let out = tollgate(&["serve", "--json"], &[], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("serve has no --json output"));
    assert_eq!(tollgate(&["principal", "frobnicate"], &[], dir.path()).status.code(), Some(2));
    assert!(!dir.path().join("tollgate.db").exists(), "nothing was created");
}

#[tokio::test]
async fn every_request_gets_an_access_line_without_its_query_and_json_logs_are_json() {
    let dir = tempfile::tempdir().expect("dir");
    let url = crate::helpers::fresh_database(&dir).await;
    let mut served =
        serve_binary(&url, &[("TOLLGATE_LOG__FORMAT", "json")], &["--demo"]).await.expect("starts");
    let client = reqwest::Client::new();
    let reply = client
        .get(format!("{}/auth/verify?role=admin&token=sekrit", served.base))
        .send()
        .await
        .expect("verify");
    assert_eq!(reply.status(), 401);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut lines = served.startup_log.clone();
    while let Ok(line) = served.log.try_recv() {
        lines.push(line);
    }
    for line in &lines {
        serde_json::from_str::<Value>(line).unwrap_or_else(|err| panic!("not JSON ({err}): {line}"));
    }
    let access = lines
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|line| line["target"] == "tollgate::access" && line["path"] == "/auth/verify")
        .expect("an access line");
    assert_eq!((access["method"].as_str(), access["status"].as_u64()), (Some("GET"), Some(401)));
    assert!(!lines.iter().any(|line| line.contains("sekrit")), "never the query");

    // Turned off, there is none.
    let mut quiet = serve_binary(&url, &[("TOLLGATE_LOG__ACCESS", "false")], &[]).await.expect("starts");
    client.get(format!("{}/healthz", quiet.base)).send().await.expect("healthz");
    tokio::time::sleep(Duration::from_millis(300)).await;
    while let Ok(line) = quiet.log.try_recv() {
        assert!(!line.contains("tollgate::access"), "{line}");
    }
}
