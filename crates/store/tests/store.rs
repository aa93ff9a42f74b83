//! The storage contract, run against SQLite always and against PostgreSQL
//! when `TEST_POSTGRES_URL` is set (in CI it must be: a missing database is a
//! failure there, never a silent skip).

use std::sync::Arc;
use std::time::Duration;

use tollgate_core::Store;
use tollgate_core::model::{
    NewPrincipal, RefreshRecord, SessionRecord, StoredPassword, TokenKind, TokenRecord,
};
use tollgate_core::secret::{TokenHash, random_hex};
use tollgate_core::store::{NewSession, Rotation};
use tollgate_core::time_util::{add, now};
use tollgate_store::{JournalPolicy, OpenMode, StoreOptions, open};
use uuid::Uuid;

/// What a test holds for its `Drop` (a temporary directory, a schema).
type Keep = Box<dyn std::any::Any + Send>;

async fn backends() -> Vec<(&'static str, Arc<dyn Store>, Keep)> {
    let dir = tempfile::tempdir().expect("temp dir");
    // Merges at once, so that every test also runs across journal merges.
    let sqlite = sqlite_with_eager_merges(&dir.path().join("t.db")).await;
    let mut stores: Vec<(&'static str, Arc<dyn Store>, Keep)> = vec![("sqlite", sqlite, Box::new(dir))];
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(base) => {
            let (url, schema) = fresh_schema(&base).await;
            stores.push((
                "postgres",
                open(&url, &StoreOptions::default(), OpenMode::Create).await.expect("postgres"),
                Box::new(schema),
            ));
        }
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI must set TEST_POSTGRES_URL")
        }
        Err(_) => eprintln!("TEST_POSTGRES_URL not set: PostgreSQL storage tests skipped"),
    }
    stores
}

/// A schema of the test PostgreSQL, dropped with this (the shared database
/// keeps nothing of a test).
struct Schema {
    base: String,
    name: String,
}

impl Drop for Schema {
    fn drop(&mut self) {
        let (base, name) = (self.base.clone(), self.name.clone());
        // A `Drop` cannot await: a thread of its own runs the statement.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                use sqlx::Connection as _;
                let mut conn = sqlx::PgConnection::connect(&base).await.ok()?;
                sqlx::query("SET lock_timeout = '10s'").execute(&mut conn).await.ok()?;
                sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE")).execute(&mut conn).await.ok()
            })
        });
        let _ = dropped.join();
    }
}

async fn fresh_schema(base: &str) -> (String, Schema) {
    use sqlx::Connection as _;
    let schema = format!("s_{}", Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(base).await.expect("connect to TEST_POSTGRES_URL");
    sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&mut conn).await.expect("schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}options=-csearch_path%3D{schema}");
    (url, Schema { base: base.to_owned(), name: schema })
}

fn principal(name: &str) -> NewPrincipal {
    NewPrincipal {
        id: tollgate_core::PrincipalId::new(),
        name: name.into(),
        name_key: tollgate_core::names::collision_key(name),
        roles: vec!["r".into()],
        realm: Some("Partner".into()),
        attributes: [("domain".to_owned(), "/x".to_owned())].into(),
        password: Some(StoredPassword::argon2id("$argon2id$stub".into())),
        enabled: true,
        created_at: now(),
    }
}

fn token(principal: &tollgate_core::Principal, ttl: Duration) -> (String, TokenRecord) {
    let plain = random_hex(16);
    let issued_at = now();
    let record = TokenRecord {
        hash: TokenHash::of(&plain),
        kind: TokenKind::LoginCheck,
        principal_id: principal.id,
        session_id: None,
        credential_id: None,
        issued_at,
        expires_at: add(issued_at, ttl),
    };
    (plain, record)
}

#[tokio::test]
async fn principals_round_trip_and_names_are_unique() {
    for (backend, store, _dir) in backends().await {
        let created = store.create_principal(principal("alice")).await.expect(backend);
        let found = store.principal_by_name("alice").await.expect(backend).expect(backend);
        assert_eq!(created, found, "{backend}");
        assert!(store.create_principal(principal("alice")).await.is_err(), "{backend}");
        assert!(!store.create_principal_if_absent(principal("alice")).await.expect(backend), "{backend}");
        assert!(store.create_principal_if_absent(principal("bob")).await.expect(backend), "{backend}");
        let (alice, password) = store.password_of("alice").await.expect(backend).expect(backend);
        assert_eq!(alice.password_format.as_deref(), Some("argon2id"), "{backend}");
        assert_eq!(password, Some(StoredPassword::argon2id("$argon2id$stub".into())), "{backend}");
        store
            .set_password(alice.id, Some(StoredPassword { format: "bcrypt".into(), hash: "$2b$x".into() }))
            .await
            .expect(backend);
        let (_, password) = store.password_of("alice").await.expect(backend).expect(backend);
        assert_eq!(
            password.map(|p| (p.format, p.hash)),
            Some(("bcrypt".into(), "$2b$x".into())),
            "{backend}"
        );
        store.remove_principal(created.id).await.expect(backend);
        assert!(store.principal_by_name("alice").await.expect(backend).is_none(), "{backend}");
    }
}

#[tokio::test]
async fn concurrent_token_writes_are_all_committed_through_group_commit() {
    for (backend, store, _dir) in backends().await {
        let alice = store.create_principal(principal("alice")).await.expect(backend);
        let mut writes = tokio::task::JoinSet::new();
        let mut plains = Vec::new();
        for _ in 0..300 {
            let (plain, record) = token(&alice, Duration::from_secs(60));
            plains.push(plain);
            let store = Arc::clone(&store);
            writes.spawn(async move { store.insert_token(record).await });
        }
        for result in writes.join_all().await {
            result.expect(backend);
        }
        for plain in &plains {
            let found = store.find_token(&TokenHash::of(plain)).await.expect(backend).expect(backend);
            assert_eq!(found.principal.name, "alice", "{backend}");
            assert!(!found.revoked, "{backend}");
        }
    }
}

#[tokio::test]
async fn refresh_rotation_spends_a_token_exactly_once() {
    for (backend, store, _dir) in backends().await {
        let alice = store.create_principal(principal("alice")).await.expect(backend);
        let session = SessionRecord { id: Uuid::new_v4(), principal_id: alice.id, created_at: now() };
        let (_, first_token) = token(&alice, Duration::from_secs(60));
        let refresh = RefreshRecord {
            hash: TokenHash::of("r1"),
            session_id: session.id,
            issued_at: now(),
            expires_at: add(now(), Duration::from_secs(60)),
        };
        store
            .insert_session(NewSession { session: session.clone(), token: first_token, refresh })
            .await
            .expect(backend);
        let rotation = |name: &str| {
            let (_, t) = token(&alice, Duration::from_secs(60));
            Rotation {
                spent: TokenHash::of("r1"),
                spent_at: now(),
                token: TokenRecord { session_id: Some(session.id), ..t },
                refresh: RefreshRecord {
                    hash: TokenHash::of(name),
                    session_id: session.id,
                    issued_at: now(),
                    expires_at: add(now(), Duration::from_secs(60)),
                },
                successor: Some(vec![1, 2, 3]),
            }
        };
        assert!(store.rotate_refresh(rotation("r2")).await.expect(backend), "{backend}");
        assert!(!store.rotate_refresh(rotation("r3")).await.expect(backend), "{backend}");
        let spent = store.find_refresh(&TokenHash::of("r1")).await.expect(backend).expect(backend);
        assert!(spent.spent_at.is_some(), "{backend}");
        assert_eq!(spent.successor, Some(vec![1, 2, 3]), "{backend}");
        assert!(store.find_refresh(&TokenHash::of("r3")).await.expect(backend).is_none(), "{backend}");
        store.revoke_session(session.id, now()).await.expect(backend);
        assert!(
            store.find_refresh(&TokenHash::of("r2")).await.expect(backend).expect(backend).session_revoked
        );
    }
}

#[tokio::test]
async fn revocations_bump_the_change_counter_and_mark_tokens() {
    for (backend, store, _dir) in backends().await {
        let alice = store.create_principal(principal("alice")).await.expect(backend);
        let (plain, record) = token(&alice, Duration::from_secs(60));
        store.insert_token(record).await.expect(backend);
        let before = store.change_counter().await.expect(backend);
        assert!(store.revoke_token(&TokenHash::of(&plain), now()).await.expect(backend), "{backend}");
        assert!(!store.revoke_token(&TokenHash::of("unknown"), now()).await.expect(backend), "{backend}");
        assert!(store.change_counter().await.expect(backend) > before, "{backend}");
        assert!(store.find_token(&TokenHash::of(&plain)).await.expect(backend).expect(backend).revoked);
        store.revoke_principal_tokens(alice.id, now()).await.expect(backend);
        let found = store.principal_by_name("alice").await.expect(backend).expect(backend);
        assert!(found.tokens_revoked_at.is_some(), "{backend}");
    }
}

#[tokio::test]
async fn expired_tokens_are_swept_in_bounded_batches() {
    for (backend, store, _dir) in backends().await {
        let alice = store.create_principal(principal("alice")).await.expect(backend);
        let mut expired = Vec::new();
        for _ in 0..5 {
            // Alive long enough for SQLite to merge them into `tokens`.
            let (plain, record) = token(&alice, Duration::from_millis(1500));
            store.insert_token(record).await.expect(backend);
            expired.push(plain);
        }
        let (live, record) = token(&alice, Duration::from_secs(60));
        store.insert_token(record).await.expect(backend);
        tokio::time::sleep(Duration::from_millis(1600)).await;
        let mut steps = Vec::new();
        loop {
            let swept = store.sweep_expired(now(), 3).await.expect(backend);
            assert!(swept.deleted <= 3, "{backend}: a step deletes at most a batch");
            steps.push(swept.deleted);
            if !swept.more {
                break;
            }
            assert!(steps.len() < 10, "{backend}: the sweep never ends: {steps:?}");
        }
        assert_eq!(steps.iter().sum::<u64>(), 5, "{backend}: {steps:?}");
        assert!(steps.len() >= 2, "{backend}: 5 expired tokens in steps of 3: {steps:?}");
        for plain in expired {
            assert!(store.find_token(&TokenHash::of(&plain)).await.expect(backend).is_none(), "{backend}");
        }
        assert!(store.find_token(&TokenHash::of(&live)).await.expect(backend).is_some(), "{backend}");
    }
}

/// Under writes that never pause, SQLite's WAL only starts over after a
/// checkpoint that finished; the store must make that happen, or the WAL
/// (and every read, which searches it) grows without bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_wal_starts_over_under_continuous_token_writes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("t.db");
    let store = open(&format!("sqlite://{}", path.display()), &StoreOptions::default(), OpenMode::Create)
        .await
        .expect("sqlite");
    let alice = store.create_principal(principal("alice")).await.expect("principal");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(4);
    let mut writers = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let (store, alice) = (Arc::clone(&store), alice.clone());
        writers.spawn(async move {
            let mut written = Vec::new();
            while tokio::time::Instant::now() < deadline {
                let (plain, record) = token(&alice, Duration::from_secs(600));
                store.insert_token(record).await.expect("insert");
                written.push(plain);
            }
            written
        });
    }
    // Bytes 16..24 of the WAL header are its salts: new ones at every start.
    let wal = dir.path().join("t.db-wal");
    let mut salts = std::collections::HashSet::new();
    while tokio::time::Instant::now() < deadline {
        if let Some(salt) = wal_salts(&wal) {
            salts.insert(salt);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let written: Vec<String> = writers.join_all().await.into_iter().flatten().collect();
    assert!(salts.len() > 1, "the WAL never started over while {} tokens were written", written.len());
    for plain in written.iter().step_by(97) {
        assert!(store.find_token(&TokenHash::of(plain)).await.expect("find").is_some());
    }
}

fn wal_salts(wal: &std::path::Path) -> Option<[u8; 8]> {
    use std::io::Read as _;
    let mut header = [0u8; 24];
    std::fs::File::open(wal).ok()?.read_exact(&mut header).ok()?;
    header[16..24].try_into().ok()
}

/// SQLite keeps new tokens in a journal (no random writes) and merges them
/// into `tokens` later. Policy here: merge at once, four rows a generation.
async fn sqlite_with_eager_merges(path: &std::path::Path) -> Arc<dyn Store> {
    let options = StoreOptions {
        token_journal: JournalPolicy { rows: 32, age: Duration::from_millis(50) },
        ..StoreOptions::default()
    };
    open(&format!("sqlite://{}", path.display()), &options, OpenMode::Create).await.expect("sqlite")
}

async fn table_rows(path: &std::path::Path, table: &str) -> i64 {
    use sqlx::Connection as _;
    let mut conn =
        sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.expect("connect");
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(&mut conn).await.expect("count")
}

async fn journal_rows(path: &std::path::Path) -> i64 {
    table_rows(path, "token_journal").await
}

#[tokio::test]
async fn sqlite_journal_merges_live_tokens_keeps_revocations_and_drops_the_expired() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("t.db");
    let store = sqlite_with_eager_merges(&path).await;
    let alice = store.create_principal(principal("alice")).await.expect("principal");
    let mut live = Vec::new();
    let mut expired = Vec::new();
    for i in 0..40 {
        let (plain, mut record) = token(&alice, Duration::from_secs(600));
        if i % 4 == 0 {
            record.expires_at = record.issued_at - time::Duration::seconds(1);
            expired.push(plain);
        } else {
            live.push(plain);
        }
        store.insert_token(record).await.expect("insert");
    }
    // Found and revocable in the journal, during or after a merge.
    let newest = live.last().expect("live tokens");
    assert!(store.find_token(&TokenHash::of(newest)).await.expect("find").is_some());
    assert!(store.revoke_token(&TokenHash::of(&live[0]), now()).await.expect("revoke"));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while journal_rows(&path).await > 0 {
        assert!(tokio::time::Instant::now() < deadline, "the journal was never merged");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for plain in &live {
        let found = store.find_token(&TokenHash::of(plain)).await.expect("find");
        assert!(found.is_some(), "a live token was lost by the merge");
    }
    assert!(store.find_token(&TokenHash::of(&live[0])).await.expect("find").expect("found").revoked);
    assert!(!store.find_token(&TokenHash::of(&live[1])).await.expect("find").expect("found").revoked);
    // Revoked after the merge: the row in `tokens` changes.
    assert!(store.revoke_token(&TokenHash::of(&live[2]), now()).await.expect("revoke"));
    assert!(store.find_token(&TokenHash::of(&live[2])).await.expect("find").expect("found").revoked);
    // Expired tokens were dropped, not moved.
    assert_eq!(table_rows(&path, "tokens").await, 30);
    for plain in &expired {
        assert!(store.find_token(&TokenHash::of(plain)).await.expect("find").is_none());
    }
}

#[tokio::test]
async fn sqlite_tokens_another_process_journaled_are_found_and_revoked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("t.db");
    let url = format!("sqlite://{}", path.display());
    let first = open(&url, &StoreOptions::default(), OpenMode::Create).await.expect("first process");
    let second = open(&url, &StoreOptions::default(), OpenMode::Create).await.expect("second process");
    let alice = first.create_principal(principal("alice")).await.expect("principal");
    let (plain, record) = token(&alice, Duration::from_secs(600));
    first.insert_token(record).await.expect("insert");
    assert_eq!(journal_rows(&path).await, 1, "new tokens wait in the journal");
    let found = second.find_token(&TokenHash::of(&plain)).await.expect("find");
    assert!(found.is_some_and(|t| !t.revoked), "the second process must find the first one's token");
    assert!(second.revoke_token(&TokenHash::of(&plain), now()).await.expect("revoke"));
    assert!(first.find_token(&TokenHash::of(&plain)).await.expect("find").expect("found").revoked);
    // A process started afterwards finds it too (as after a restart).
    let third = open(&url, &StoreOptions::default(), OpenMode::Create).await.expect("third process");
    assert!(third.find_token(&TokenHash::of(&plain)).await.expect("find").expect("found").revoked);
}

#[tokio::test]
async fn sqlite_batches_two_processes_append_at_once_are_all_found_by_both() {
    // Each batch's sequence numbers are worked out from the last one; two
    // writers interleaving their batches must still map every hash to its row.
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let first = open(&url, &StoreOptions::default(), OpenMode::Create).await.expect("first process");
    let second = open(&url, &StoreOptions::default(), OpenMode::Create).await.expect("second process");
    let alice = first.create_principal(principal("alice")).await.expect("principal");
    let mut writes = tokio::task::JoinSet::new();
    let mut plains = Vec::new();
    for n in 0..400 {
        let (plain, record) = token(&alice, Duration::from_secs(600));
        plains.push(plain);
        let store = Arc::clone(if n % 2 == 0 { &first } else { &second });
        writes.spawn(async move { store.insert_token(record).await });
    }
    for result in writes.join_all().await {
        result.expect("insert");
    }
    for store in [&first, &second] {
        for plain in &plains {
            let found = store.find_token(&TokenHash::of(plain)).await.expect("find");
            assert!(found.is_some_and(|t| t.principal.name == "alice"), "every token is found by both");
        }
    }
}

#[tokio::test]
async fn sessions_are_swept_once_their_last_token_expires_and_not_before() {
    for (backend, store, _dir) in backends().await {
        let alice = store.create_principal(principal("alice")).await.expect(backend);
        // Two logins whose first pair lives 1.5 s; the second is then
        // rotated to a pair that lives a minute.
        let mut sessions = Vec::new();
        for name in ["short", "rotated"] {
            let session = SessionRecord { id: Uuid::new_v4(), principal_id: alice.id, created_at: now() };
            let (_, first) = token(&alice, Duration::from_millis(1500));
            let refresh = RefreshRecord {
                hash: TokenHash::of(name),
                session_id: session.id,
                issued_at: now(),
                expires_at: add(now(), Duration::from_millis(1500)),
            };
            let first = TokenRecord { session_id: Some(session.id), ..first };
            store
                .insert_session(NewSession { session: session.clone(), token: first, refresh })
                .await
                .expect(backend);
            sessions.push(session);
        }
        let (longer, record) = token(&alice, Duration::from_secs(60));
        let rotation = Rotation {
            spent: TokenHash::of("rotated"),
            spent_at: now(),
            token: TokenRecord { session_id: Some(sessions[1].id), ..record },
            refresh: RefreshRecord {
                hash: TokenHash::of("rotated-2"),
                session_id: sessions[1].id,
                issued_at: now(),
                expires_at: add(now(), Duration::from_secs(60)),
            },
            successor: None,
        };
        assert!(store.rotate_refresh(rotation).await.expect(backend), "{backend}");
        tokio::time::sleep(Duration::from_millis(1600)).await;
        let mut deleted = 0;
        loop {
            let swept = store.sweep_expired(now(), 100).await.expect(backend);
            deleted += swept.deleted;
            if !swept.more {
                break;
            }
        }
        // Two first tokens, two first refresh tokens, and the short session.
        assert_eq!(deleted, 5, "{backend}");
        // The rotated session is still there: revoking it still reaches its
        // live token.
        store.revoke_session(sessions[1].id, now()).await.expect(backend);
        assert!(
            store.find_token(&TokenHash::of(&longer)).await.expect(backend).expect(backend).revoked,
            "{backend}"
        );
    }
}

/// How many rows of `table` belong to `principal` (`column` names it), read
/// straight from the database the URL names.
async fn rows_of(url: &str, table: &str, column: &str, principal: Uuid) -> i64 {
    use sqlx::Connection as _;
    let sql = format!("SELECT count(*) FROM {table} WHERE {column} = $1");
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect");
        sqlx::query_scalar(&sql).bind(principal).fetch_one(&mut conn).await.expect("count")
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
        sqlx::query_scalar(&sql).bind(principal).fetch_one(&mut conn).await.expect("count")
    }
}

/// Every row a principal holds: API keys, access keys, sessions, refresh
/// tokens (through its sessions) and access tokens.
async fn held_by(url: &str, principal: Uuid) -> Vec<(&'static str, i64)> {
    let mut held = vec![
        ("api_keys", rows_of(url, "api_keys", "principal_id", principal).await),
        ("access_keys", rows_of(url, "access_keys", "principal_id", principal).await),
        ("sessions", rows_of(url, "sessions", "principal_id", principal).await),
        (
            "refresh_tokens",
            rows_of(
                url,
                "refresh_tokens r JOIN sessions s ON s.id = r.session_id",
                "s.principal_id",
                principal,
            )
            .await,
        ),
        ("tokens", rows_of(url, "tokens", "principal_id", principal).await),
    ];
    if url.starts_with("sqlite:") {
        held.push(("token_journal", rows_of(url, "token_journal", "principal_id", principal).await));
    }
    held
}

#[tokio::test]
async fn removing_a_principal_removes_everything_it_holds_and_nothing_else() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut urls = vec![("sqlite", format!("sqlite://{}", dir.path().join("cascade.db").display()))];
    let mut _schema = None;
    if let Ok(base) = std::env::var("TEST_POSTGRES_URL") {
        let (url, schema) = fresh_schema(&base).await;
        urls.push(("postgres", url));
        _schema = Some(schema);
    }
    for (backend, url) in urls {
        let store = open(&url, &StoreOptions::default(), OpenMode::Create).await.expect(backend);
        let mut people = Vec::new();
        for name in ["alice", "bob"] {
            let who = store.create_principal(principal(name)).await.expect(backend);
            store
                .insert_api_key(tollgate_core::model::ApiKeyRecord {
                    id: tollgate_core::model::CredentialId(Uuid::new_v4()),
                    principal_id: who.id,
                    key_hash: [u8::try_from(name.len()).expect("short"); 32],
                    created_at: now(),
                    expires_at: None,
                })
                .await
                .expect(backend);
            store
                .insert_access_key(tollgate_core::model::AccessKeyRecord {
                    id: tollgate_core::model::CredentialId(Uuid::new_v4()),
                    principal_id: who.id,
                    access_key: random_hex(20),
                    secret_hash: [7; 32],
                    state: tollgate_core::model::AccessKeyState::Active,
                    created_at: now(),
                    expires_at: None,
                    legacy_secret: None,
                })
                .await
                .expect(backend);
            let session = SessionRecord { id: Uuid::new_v4(), principal_id: who.id, created_at: now() };
            let (_, first) = token(&who, Duration::from_secs(600));
            let refresh = RefreshRecord {
                hash: TokenHash::of(&random_hex(16)),
                session_id: session.id,
                issued_at: now(),
                expires_at: add(now(), Duration::from_secs(600)),
            };
            store.insert_session(NewSession { session, token: first, refresh }).await.expect(backend);
            store.insert_token(token(&who, Duration::from_secs(600)).1).await.expect(backend);
            people.push(who);
        }
        let (alice, bob) = (&people[0], &people[1]);
        let before = held_by(&url, bob.id.0).await;
        // A key of each kind, a session, its refresh token, two access tokens.
        let held: i64 = held_by(&url, alice.id.0).await.iter().map(|(_, rows)| rows).sum();
        assert_eq!(held, 6, "{backend}: the principal holds less than was written");
        store.remove_principal(alice.id).await.expect(backend);
        for (table, rows) in held_by(&url, alice.id.0).await {
            assert_eq!(rows, 0, "{backend}: {table} still holds rows of the removed principal");
        }
        assert_eq!(held_by(&url, bob.id.0).await, before, "{backend}: another principal's rows were touched");
    }
}

#[tokio::test]
async fn portal_sessions_are_found_touched_ended_swept_and_go_with_their_principal() {
    use tollgate_core::store::PortalSessionRecord;
    for (backend, store, _dir) in backends().await {
        let admin = store.create_principal(principal("admin")).await.expect(backend);
        let start = now();
        let session = |id: &str, created_at, last_seen_at| PortalSessionRecord {
            id_hash: TokenHash::of(id),
            principal_id: admin.id,
            created_at,
            last_seen_at,
        };
        let live = session("live", start, start);
        store.insert_portal_session(&live).await.expect(backend);
        let (found, holder) = store.portal_session(&live.id_hash).await.expect(backend).expect(backend);
        assert_eq!((found, holder.name.as_str()), (live.clone(), "admin"), "{backend}");
        assert!(store.portal_session(&TokenHash::of("other")).await.expect(backend).is_none(), "{backend}");

        // Touching moves the last use forward only.
        let later = add(start, Duration::from_secs(90));
        store.touch_portal_session(&live.id_hash, later).await.expect(backend);
        store.touch_portal_session(&live.id_hash, start).await.expect(backend);
        let (touched, _) = store.portal_session(&live.id_hash).await.expect(backend).expect(backend);
        assert_eq!((touched.created_at, touched.last_seen_at), (start, later), "{backend}");

        // The sweep takes the idle and the too old, and nothing else.
        let hour_ago = tollgate_core::time_util::sub(start, Duration::from_secs(3600));
        let day_ago = tollgate_core::time_util::sub(start, Duration::from_secs(86_400));
        store.insert_portal_session(&session("idle", hour_ago, hour_ago)).await.expect(backend);
        store.insert_portal_session(&session("old", day_ago, start)).await.expect(backend);
        let idle_before = tollgate_core::time_util::sub(start, Duration::from_secs(1800));
        let started_before = tollgate_core::time_util::sub(start, Duration::from_secs(12 * 3600));
        assert_eq!(store.sweep_portal_sessions(idle_before, started_before, 1).await.expect(backend), 1);
        assert_eq!(store.sweep_portal_sessions(idle_before, started_before, 10).await.expect(backend), 1);
        assert_eq!(store.sweep_portal_sessions(idle_before, started_before, 10).await.expect(backend), 0);
        assert!(store.portal_session(&live.id_hash).await.expect(backend).is_some(), "{backend}");

        // A form that makes a secret is spent once; sent again, it is not.
        assert!(store.spend_portal_form(&live.id_hash, "f1").await.expect(backend), "{backend}");
        assert!(!store.spend_portal_form(&live.id_hash, "f1").await.expect(backend), "{backend}");
        assert!(store.spend_portal_form(&live.id_hash, "f2").await.expect(backend), "{backend}");
        assert!(!store.spend_portal_form(&TokenHash::of("gone"), "f3").await.expect(backend), "{backend}");

        assert!(store.delete_portal_session(&live.id_hash).await.expect(backend), "{backend}");
        assert!(!store.delete_portal_session(&live.id_hash).await.expect(backend), "{backend}");
        assert!(store.portal_session(&live.id_hash).await.expect(backend).is_none(), "{backend}");

        let again = session("again", start, start);
        store.insert_portal_session(&again).await.expect(backend);
        store.remove_principal(admin.id).await.expect(backend);
        assert!(store.portal_session(&again.id_hash).await.expect(backend).is_none(), "{backend}");
    }
}

#[tokio::test]
async fn the_inventory_counts_principals_and_keys_by_state_and_lists_those_expiring_soon() {
    use tollgate_core::model::{AccessKeyRecord, AccessKeyState, ApiKeyRecord, CredentialId};
    for (backend, store, _dir) in backends().await {
        let start = now();
        let day = Duration::from_secs(86_400);
        let week = add(start, day * 7);
        let empty = store.inventory(start, week, 10).await.expect(backend);
        assert_eq!(empty, tollgate_core::store::Inventory::default(), "{backend}");

        let alice = store.create_principal(principal("alice")).await.expect(backend);
        let mut legacy = principal("legacy");
        legacy.password = Some(StoredPassword { format: "bcrypt".into(), hash: "$2b$x".into() });
        store.create_principal(legacy).await.expect(backend);
        let mut keyless = principal("keyless");
        keyless.password = None;
        keyless.enabled = false;
        store.create_principal(keyless).await.expect(backend);

        let api_key = |byte: u8, expires_at| ApiKeyRecord {
            id: CredentialId(Uuid::new_v4()),
            principal_id: alice.id,
            key_hash: [byte; 32],
            created_at: start,
            expires_at,
        };
        let soon = api_key(1, Some(add(start, day * 2)));
        store.insert_api_key(soon.clone()).await.expect(backend);
        store.insert_api_key(api_key(2, None)).await.expect(backend);
        store
            .insert_api_key(api_key(3, Some(tollgate_core::time_util::sub(start, day))))
            .await
            .expect(backend);
        let revoked = api_key(4, Some(add(start, day)));
        store.insert_api_key(revoked.clone()).await.expect(backend);
        store.revoke_api_key(revoked.id, start).await.expect(backend);

        let access_key = |state, expires_at| AccessKeyRecord {
            id: CredentialId(Uuid::new_v4()),
            principal_id: alice.id,
            access_key: random_hex(20),
            secret_hash: [9; 32],
            state,
            created_at: start,
            expires_at,
            legacy_secret: None,
        };
        let sooner = access_key(AccessKeyState::Active, Some(add(start, day)));
        store.insert_access_key(sooner.clone()).await.expect(backend);
        for (state, expires_at) in [
            (AccessKeyState::Active, Some(add(start, day * 30))),
            (AccessKeyState::Active, Some(tollgate_core::time_util::sub(start, day))),
            (AccessKeyState::Pending, Some(add(start, day))),
            (AccessKeyState::Revoked, None),
        ] {
            store.insert_access_key(access_key(state, expires_at)).await.expect(backend);
        }

        let inventory = store.inventory(start, week, 1).await.expect(backend);
        assert_eq!(
            (inventory.principals, inventory.disabled_principals, inventory.legacy_passwords),
            (3, 1, 1),
            "{backend}"
        );
        let sorted = |mut states: Vec<(String, u64)>| {
            states.sort();
            states
        };
        let states = |list: &[(&str, u64)]| list.iter().map(|(s, n)| (s.to_string(), *n)).collect::<Vec<_>>();
        assert_eq!(
            sorted(inventory.api_keys),
            states(&[("active", 2), ("expired", 1), ("revoked", 1)]),
            "{backend}"
        );
        assert_eq!(
            sorted(inventory.access_keys),
            states(&[("active", 2), ("expired", 1), ("pending", 1), ("revoked", 1)]),
            "{backend}"
        );
        // The API key in two days and the access key in one; soonest first.
        assert_eq!(inventory.expiring, 2, "{backend}");
        let first = &inventory.expiring_first;
        assert_eq!(first.len(), 1, "{backend}");
        assert_eq!(
            (first[0].kind, first[0].id, first[0].access_key.as_deref(), first[0].principal.as_str()),
            ("accesskey", sooner.id.0, Some(sooner.access_key.as_str()), "alice"),
            "{backend}"
        );
        let both = store.inventory(start, week, 10).await.expect(backend).expiring_first;
        assert_eq!(both.iter().map(|key| key.id).collect::<Vec<_>>(), [sooner.id.0, soon.id.0], "{backend}");
    }
}

/// The bulk import's storage: a batch inserts what is free (a row whose
/// name or id is taken is left out, and so are its keys), never replaces a
/// password, moves the change counter, and the lookup finds every row a
/// batch may name in one go.
#[tokio::test]
async fn import_batches_insert_what_is_free_and_never_replace_a_password() {
    use tollgate_core::model::{
        AccessKeyRecord, AccessKeyState, ApiKeyRecord, CredentialId, PrincipalId, PrincipalProfile,
    };
    use tollgate_core::store::{AccessKeyChange, ImportBatch, ImportLookup, PrincipalChange};

    let api_key = |principal: PrincipalId, byte: u8| ApiKeyRecord {
        id: CredentialId(Uuid::new_v4()),
        principal_id: principal,
        key_hash: [byte; 32],
        created_at: now(),
        expires_at: None,
    };
    let bcrypt =
        StoredPassword { format: "bcrypt".into(), hash: r#"{"format":"bcrypt","hash":"$2y$04$x"}"#.into() };
    for (backend, store, _dir) in backends().await {
        let held = store.create_principal(principal("held")).await.expect(backend);
        let fresh = principal("fresh");
        // Named like `held` but another id: somebody else got there first.
        let clash = NewPrincipal { id: PrincipalId::new(), ..principal("HELD") };
        let access_key = AccessKeyRecord {
            id: CredentialId(Uuid::new_v4()),
            principal_id: held.id,
            access_key: "a".repeat(40),
            secret_hash: [0; 32],
            state: AccessKeyState::Pending,
            created_at: now(),
            expires_at: None,
            legacy_secret: Some(bcrypt.clone()),
        };
        let profile =
            PrincipalProfile { roles: vec!["imported".into()], realm: None, attributes: Default::default() };
        let batch = ImportBatch {
            principals: vec![fresh.clone(), clash.clone()],
            api_keys: vec![api_key(fresh.id, 1), api_key(clash.id, 2)],
            access_keys: vec![access_key.clone()],
            principal_changes: vec![PrincipalChange {
                id: held.id,
                profile: Some(profile.clone()),
                enabled: None,
                password: Some(bcrypt.clone()),
            }],
            ..Default::default()
        };
        let counter = store.change_counter().await.expect(backend);
        let written = store.import_batch(batch.clone()).await.expect(backend);
        assert_eq!(written.principals, [fresh.id], "{backend}");
        assert_eq!(
            written.api_keys,
            [batch.api_keys[0].id],
            "{backend}: the clashing principal's key is left out"
        );
        assert_eq!(written.access_keys, [access_key.id], "{backend}");
        assert!(store.change_counter().await.expect(backend) > counter, "{backend}");
        let (after, password) = store.password_of("held").await.expect(backend).expect(backend);
        assert_eq!(after.roles, profile.roles, "{backend}");
        assert_eq!(password.map(|p| p.format), Some("argon2id".into()), "{backend}: never replaced");

        let found = store
            .import_lookup(&ImportLookup {
                principal_ids: vec![fresh.id],
                principal_name_keys: vec!["held".into(), "nobody".into()],
                api_key_hashes: vec![[1; 32], [2; 32]],
                access_keys: vec!["a".repeat(40)],
                access_key_ids: vec![access_key.id],
                ..Default::default()
            })
            .await
            .expect(backend);
        let mut names: Vec<_> =
            found.principals.iter().map(|(p, key)| (p.name.clone(), key.clone())).collect();
        names.sort();
        assert_eq!(names, [("fresh".into(), "fresh".into()), ("held".into(), "held".into())], "{backend}");
        assert_eq!(found.api_keys.len(), 1, "{backend}");
        assert_eq!(found.access_keys.len(), 1, "{backend}");
        assert_eq!(found.access_keys[0].state, AccessKeyState::Pending, "{backend}");

        // Once more: every row is there, nothing goes in; a state change
        // and an expiry apply, but not to a revoked key.
        let again =
            store.import_batch(ImportBatch { principal_changes: vec![], ..batch }).await.expect(backend);
        assert!(again.principals.is_empty() && again.api_keys.is_empty() && again.access_keys.is_empty());
        let revoke = |state| ImportBatch {
            access_key_changes: vec![AccessKeyChange { id: access_key.id, state, expires_at: None }],
            ..Default::default()
        };
        store.import_batch(revoke(AccessKeyState::Revoked)).await.expect(backend);
        store.import_batch(revoke(AccessKeyState::Active)).await.expect(backend);
        let key = store.find_access_key(&"a".repeat(40)).await.expect(backend).expect(backend);
        assert_eq!(key.state, AccessKeyState::Revoked, "{backend}: revoked is final");
    }
}
