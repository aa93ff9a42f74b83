//! Faults an unlucky operator meets (DESIGN.md §7): a full disk, a database
//! file deleted, replaced or corrupted, a command run from the wrong
//! directory. Tollgate must never answer success for what was not stored,
//! and must notice and recover by itself.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::helpers::{TestApp, error_list};
use serde_json::json;

fn on_postgres() -> bool {
    std::env::var("TOLLGATE_TEST_BACKEND").as_deref() == Ok("postgres")
}

/// A tmpfs of a few MiB, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// `Err` with the reason where mounting is not permitted (not root, no
    /// tmpfs): the test then says it was skipped.
    fn mount(size: &str) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|err| err.to_string())?;
        let output = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|err| format!("cannot run mount: {err}"))?;
        if !output.status.success() {
            return Err(format!("mount refused: {}", String::from_utf8_lossy(&output.stderr).trim()));
        }
        Ok(Self { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file until the disk is full; the file is the space to free.
    fn fill(&self) -> PathBuf {
        let filler = self.path().join("filler");
        let mut file = std::fs::File::create(&filler).expect("create filler");
        let chunk = vec![0u8; 16 * 1024];
        while file.write_all(&chunk).is_ok() {}
        let _ = file.sync_all();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

/// Logs in with contract A and B until told to stop; every token answered
/// 200, and how many answers were 500.
async fn login_loop(app: &TestApp, stop: Duration) -> (Vec<String>, Vec<String>, usize) {
    let deadline = Instant::now() + stop;
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..12 {
        let (client, base) = (app.client.clone(), app.base.clone());
        workers.spawn(async move {
            let (mut a_tokens, mut b_tokens, mut failed) = (Vec::new(), Vec::new(), 0);
            while Instant::now() < deadline {
                let contract_a = worker % 3 == 0;
                let (path, body) = if contract_a {
                    ("/v1/login_check", json!({ "username": "user", "password": "1234" }))
                } else {
                    ("/api/login", json!({ "UserLogin": "John.Doo", "ApiKey": "hDn/LFXIPESM036W+s7VKg==" }))
                };
                let Ok(response) = client.post(format!("{base}{path}")).json(&body).send().await else {
                    continue;
                };
                match response.status().as_u16() {
                    200 => {
                        let body: serde_json::Value = response.json().await.expect("json");
                        if contract_a {
                            a_tokens.push(body["token"].as_str().expect("token").to_owned());
                        } else {
                            b_tokens.push(body["Token"].as_str().expect("Token").to_owned());
                        }
                    }
                    500 => failed += 1,
                    status => panic!("{path} answered {status}"),
                }
            }
            (a_tokens, b_tokens, failed)
        });
    }
    let mut all = (Vec::new(), Vec::new(), 0);
    for (a, b, failed) in workers.join_all().await {
        all.0.extend(a);
        all.1.extend(b);
        all.2 += failed;
    }
    all
}

#[tokio::test]
async fn a_full_disk_answers_500_never_200_and_logins_recover_by_themselves() {
    if on_postgres() {
        eprintln!("skipped on PostgreSQL: the disk-full round runs against SQLite's file");
        return;
    }
    let disk = match SmallDisk::mount("12m") {
        Ok(disk) => disk,
        Err(reason) => {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "CI must run the disk-full test: {reason}"
            );
            eprintln!("skipped: {reason}");
            return;
        }
    };
    let url = format!("sqlite://{}", disk.path().join("tollgate.db").display());
    let app = TestApp::spawn_demo_with(|c| {
        c.database_url = url;
        c.apikey.token_ttl.0 = Duration::from_secs(600);
    })
    .await;
    let (mut a_tokens, mut b_tokens, failed) = login_loop(&app, Duration::from_millis(400)).await;
    assert_eq!(failed, 0, "logins failed before the disk was full");

    let filler = disk.fill();
    let mut not_ready = false;
    let mut failures = 0;
    for _ in 0..20 {
        let (a, b, failed) = login_loop(&app, Duration::from_millis(300)).await;
        a_tokens.extend(a);
        b_tokens.extend(b);
        failures += failed;
        not_ready |= app.get("/readyz", None).await.status == 503;
        if failures > 0 && not_ready {
            break;
        }
    }
    assert!(failures > 0, "the full disk never failed a login: the test proves nothing");
    assert!(not_ready, "/readyz kept answering 200 while writes failed");

    std::fs::remove_file(&filler).expect("free the space");
    let freed = Instant::now();
    loop {
        let (a, b, failed) = login_loop(&app, Duration::from_millis(200)).await;
        a_tokens.extend(a);
        b_tokens.extend(b);
        if failed == 0 && app.get("/readyz", None).await.status == 200 {
            break;
        }
        assert!(freed.elapsed() < Duration::from_secs(5), "writes did not resume within 5 s");
    }
    let (a, b, failed) = login_loop(&app, Duration::from_millis(300)).await;
    assert_eq!(failed, 0, "logins still fail after the space came back");
    assert!(!a.is_empty() && !b.is_empty());

    // Every token a client ever got with a 200 was stored.
    for token in a_tokens.iter().chain(&b_tokens) {
        let reply = app.verify(token).await;
        assert_eq!(reply.status, 200, "a token answered with 200 does not verify: {token}");
    }
    eprintln!(
        "disk full: {failures} logins answered 500; all {} tokens answered 200 verify",
        a_tokens.len() + b_tokens.len()
    );
}

/// Starts the real binary with the demo on `url`; its address and log lines.
async fn serve(url: &str) -> (tokio::process::Child, String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let served = crate::helpers::serve_binary(url, &[], &["--demo"]).await.expect("tollgate starts");
    (served.child, served.base, served.log)
}

/// Waits up to `within` for `/readyz` to answer 503, and for a log line
/// holding `needle`.
async fn noticed(base: &str, log: &mut tokio::sync::mpsc::UnboundedReceiver<String>, needle: &str) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut logged = false;
    let mut unready = false;
    while Instant::now() < deadline && !(logged && unready) {
        while let Ok(line) = log.try_recv() {
            logged |= line.contains(needle);
        }
        let status = client.get(format!("{base}/readyz")).send().await.expect("readyz").status();
        unready |= status == 503;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(unready, "/readyz still answered 200 5 s after the file was {needle}");
    assert!(logged, "no error logged within 5 s that the file was {needle}");
}

#[tokio::test]
async fn a_deleted_or_replaced_database_file_is_noticed_within_five_seconds() {
    if on_postgres() {
        eprintln!("skipped on PostgreSQL: a SQLite file is deleted here");
        return;
    }
    for replaced in [false, true] {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("tollgate.db");
        let url = format!("sqlite://{}", path.display());
        let (_child, base, mut log) = serve(&url).await;
        let client = reqwest::Client::new();
        let b_login = || {
            client
                .post(format!("{base}/api/login"))
                .json(&json!({ "UserLogin": "John.Doo", "ApiKey": "hDn/LFXIPESM036W+s7VKg==" }))
                .send()
        };
        assert_eq!(b_login().await.expect("login").status(), 200);
        std::fs::remove_file(&path).expect("delete the database");
        if replaced {
            std::fs::write(&path, b"").expect("another file in its place");
        }
        noticed(&base, &mut log, if replaced { "replaced" } else { "deleted" }).await;
        // No token is written where nobody would find it again.
        assert_eq!(b_login().await.expect("login").status(), 500);
    }
}

#[tokio::test]
async fn a_corrupt_database_file_stops_start_up_with_the_reason() {
    if on_postgres() {
        eprintln!("skipped on PostgreSQL: a SQLite file is corrupted here");
        return;
    }
    // One damaged interior page (found only by a check of every page), and
    // a file damaged beyond SQLite opening it.
    for damage in [Damage::OneInteriorPage, Damage::AllButTheFirstPage] {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("tollgate.db");
        let url = format!("sqlite://{}", path.display());
        {
            let (mut child, _, _) = serve(&url).await;
            child.start_kill().expect("stop");
            let _ = child.wait().await;
        }
        // Fold the WAL into the file first: pages in it would mask damage.
        {
            use sqlx::Connection as _;
            let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("connect");
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut conn).await.expect("checkpoint");
            conn.close().await.expect("close");
        }
        let mut bytes = std::fs::read(&path).expect("read");
        let page = 4096;
        assert!(bytes.len() > 4 * page, "database unexpectedly small");
        let range = match damage {
            // The page holding the principals' rows.
            Damage::OneInteriorPage => {
                let start = interior_page_of(&url, "principals").await * page;
                start..start + page
            }
            Damage::AllButTheFirstPage => page..bytes.len(),
        };
        for byte in &mut bytes[range] {
            *byte ^= 0x5a;
        }
        std::fs::write(&path, bytes).expect("corrupt");
        let output = tokio::time::timeout(
            Duration::from_secs(20),
            tokio::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
                .args(["serve", "--listen", "127.0.0.1:0", "--database", &url])
                .env("TOLLGATE_ADMIN__LISTEN", "127.0.0.1:0")
                .kill_on_drop(true)
                .output(),
        )
        .await
        .expect("start-up must stop, not serve")
        .expect("run");
        assert!(!output.status.success(), "{damage:?}: a corrupt database was served");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("corrupt") && stderr.contains("tollgate.db"), "{damage:?}: {stderr}");
    }
}

#[derive(Debug, Clone, Copy)]
enum Damage {
    OneInteriorPage,
    AllButTheFirstPage,
}

/// The number (from 0) of the page holding the root of `table`'s B-tree.
async fn interior_page_of(url: &str, table: &str) -> usize {
    use sqlx::Connection as _;
    let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect");
    let root: i64 = sqlx::query_scalar("SELECT rootpage FROM sqlite_master WHERE name = $1")
        .bind(table)
        .fetch_one(&mut conn)
        .await
        .expect("root page");
    conn.close().await.expect("close");
    usize::try_from(root - 1).expect("page")
}

#[tokio::test]
async fn commands_other_than_serve_and_migrate_never_create_a_database() {
    let dir = tempfile::tempdir().expect("empty directory");
    for args in [&["principal", "list"][..], &["apikey", "list", "user"], &["token", "revoke", "x"]] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .args(args)
            .current_dir(dir.path())
            .env_remove("TOLLGATE_DATABASE_URL")
            .output()
            .expect("run");
        assert!(!output.status.success(), "{args:?} succeeded without a database");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("tollgate.db") && stderr.contains("does not exist"), "{args:?}: {stderr}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 0, "a file was created");
    // `migrate` (like `serve`) does create one, readable by its owner alone.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("migrate")
        .current_dir(dir.path())
        .env_remove("TOLLGATE_DATABASE_URL")
        .output()
        .expect("migrate");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(dir.path().join("tollgate.db").exists());
}

#[tokio::test]
async fn a_control_character_in_a_name_is_the_ordinary_401_on_every_backend() {
    let dir = tempfile::tempdir().expect("dir");
    let url = crate::helpers::fresh_database(&dir).await;
    // A server process of its own: its log holds only this test's requests.
    let (_child, base, mut log) = serve(&url).await;
    let client = reqwest::Client::new();
    for name in ["us\u{0}er", "user\u{0}", "\u{0}", "us\u{200b}er", "user\u{202e}", "a\u{7}b"] {
        let reply = client
            .post(format!("{base}/v1/login_check"))
            .json(&json!({ "username": name, "password": "1234" }))
            .send()
            .await
            .expect("login");
        assert_eq!(reply.status(), 401, "{name:?}");
        assert_eq!(reply.text().await.expect("body"), error_list(1006, "Bad credentials."));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    while let Ok(line) = log.try_recv() {
        assert!(!line.contains("ERROR"), "a name was taken for a failure inside: {line}");
    }
}
