//! The embedded SQLite backend (the default): WAL journal, one writer
//! connection (SQLite has one writer anyway; a single connection means our own
//! requests never fight over the lock), a few reader connections, and new
//! access tokens appended to a journal first (`journal.rs`).
//!
//! The file is checked, not trusted: it is created mode 0600 (`files.rs`),
//! `PRAGMA quick_check` runs before a server serves from it, and a file
//! deleted or replaced under a running server is noticed within a second.

use std::str::FromStr;
use std::sync::Arc;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::sql::{Driver, SqlStore};
use crate::{OpenError, OpenMode, StoreOptions};

pub(crate) mod backup;
mod checkpoint;
mod files;
mod journal;
mod journal_index;
mod setup_lock;

use journal::TokenJournal;

/// SQLite: one file, one machine.
pub(crate) struct Sqlite;

impl Driver for Sqlite {
    type Db = sqlx::Sqlite;
    type Tokens = TokenJournal;
    const ANNOUNCE: Option<&'static str> = None;

    /// Other processes' changes are found by polling the change counter.
    fn listen_for_changes(&self, _: &sqlx::SqlitePool, _: Arc<tokio::sync::Notify>) {}
}

crate::sql::sql_store!(Sqlite, sqlx::Sqlite);

pub(crate) type SqliteStore = SqlStore<Sqlite>;

/// Opens (creating it in `OpenMode::Create`) and migrates the database at
/// `url`.
pub(crate) async fn open(
    url: &str,
    options: &StoreOptions,
    mode: OpenMode,
) -> Result<SqliteStore, OpenError> {
    let connect = SqliteConnectOptions::from_str(url)
        .map_err(OpenError::Connect)?
        .create_if_missing(false)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: a commit is on disk before a token is returned. Group
        // commit keeps that to one fsync per batch, not per request.
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(options.timeout)
        .foreign_keys(true)
        // Statement journals of multi-row inserts stay in memory instead
        // of temporary files (a profile showed them as a top cost).
        .pragma("temp_store", "memory")
        // No checkpoint inside a commit: they stalled token writes (p99).
        // A background task checkpoints instead (checkpoint.rs).
        .pragma("wal_autocheckpoint", "0")
        // After the WAL starts over, keep at most 64 MiB of its file.
        .pragma("journal_size_limit", "67108864");
    let path = connect.get_filename().to_owned();
    let in_memory = path.as_os_str() == ":memory:" || url.contains("mode=memory");
    // Until both pools are open and migrated: other processes starting
    // on the same file wait (setup_lock.rs).
    let setup = setup_lock::acquire(&path).await;
    if !in_memory {
        files::prepare(&path, mode)?;
    }
    // No ping before each use (sqlx's default): an embedded connection
    // cannot drop, and the ping was a round trip to the connection's
    // thread per token batch and per lookup.
    let write = SqlitePoolOptions::new()
        .test_before_acquire(false)
        .max_connections(1)
        .acquire_timeout(options.timeout)
        // 64 MiB of page cache for the writer alone: journal merges
        // touch many pages of `tokens`.
        .connect_with(connect.clone().pragma("cache_size", "-65536"))
        .await
        .map_err(|err| connect_error(err, &path))?;
    if options.verify_integrity {
        quick_check(&write, &path).await?;
    }
    sqlx::migrate!("migrations/sqlite").run(&write).await?;
    let read = SqlitePoolOptions::new()
        .test_before_acquire(false)
        .max_connections(options.max_connections.clamp(1, 8))
        .acquire_timeout(options.timeout)
        .connect_with(connect)
        .await
        .map_err(OpenError::Connect)?;
    drop(setup);
    let journal = Arc::new(TokenJournal::new(options.token_journal.clone()));
    journal::spawn_merger(journal.clone(), read.clone(), write.clone());
    let store = SqliteStore::from_pools(read.clone(), write.clone(), journal, Sqlite);
    store.fill_in_name_keys().await.map_err(OpenError::Setup)?;
    let identity = (!in_memory).then(|| files::Identity::of(&path)).flatten();
    checkpoint::spawn_checkpointer(
        read,
        write,
        identity.map(|identity| (path, identity, store.health.clone())),
    );
    Ok(store)
}

/// A file SQLite cannot even open as a database is corrupt, and says so.
fn connect_error(err: sqlx::Error, path: &std::path::Path) -> OpenError {
    let damaged = matches!(&err, sqlx::Error::Database(db)
        if db.code().and_then(|code| code.parse::<i32>().ok()).is_some_and(|code| matches!(code & 0xff, 11 | 26)));
    if damaged {
        OpenError::Corrupt { path: path.to_owned(), report: err.to_string() }
    } else {
        OpenError::Connect(err)
    }
}

/// Refuses a file whose pages are damaged, with SQLite's own report.
async fn quick_check(pool: &sqlx::SqlitePool, path: &std::path::Path) -> Result<(), OpenError> {
    let corrupt = |report: String| OpenError::Corrupt { path: path.to_owned(), report };
    let rows: Vec<String> = match sqlx::query_scalar("PRAGMA quick_check").fetch_all(pool).await {
        Ok(rows) => rows,
        // A file that is not a database at all fails before any row.
        Err(err) => return Err(corrupt(err.to_string())),
    };
    match rows.as_slice() {
        [ok] if ok == "ok" => Ok(()),
        problems => Err(corrupt(problems.iter().take(5).cloned().collect::<Vec<_>>().join("; "))),
    }
}
