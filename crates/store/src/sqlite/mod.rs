//! The embedded SQLite backend (the default): WAL journal, one writer
//! connection (SQLite has one writer anyway; a single connection means our own
//! requests never fight over the lock), a few reader connections, and new
//! access tokens appended to a journal first (`journal.rs`).

use std::str::FromStr;
use std::sync::Arc;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::{OpenError, StoreOptions};

mod checkpoint;
mod journal;
mod journal_index;
mod setup_lock;

use journal::TokenJournal;

crate::backend::sql_store!(SqliteStore, sqlx::Sqlite, None, TokenJournal);

impl SqliteStore {
    /// One file, one machine: other processes' changes are found by polling.
    fn listen_for_changes(&self, _waiter: Arc<tokio::sync::Notify>) {}
}

impl SqliteStore {
    pub(crate) async fn open(url: &str, options: &StoreOptions) -> Result<Self, OpenError> {
        let connect = SqliteConnectOptions::from_str(url)
            .map_err(OpenError::Connect)?
            .create_if_missing(true)
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
        // Until both pools are open and migrated: other processes starting
        // on the same file wait (setup_lock.rs).
        let setup = setup_lock::acquire(connect.get_filename()).await;
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
            .map_err(OpenError::Connect)?;
        sqlx::migrate!("migrations/sqlite").run(&write).await?;
        let read = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(options.max_connections.clamp(1, 8))
            .acquire_timeout(options.timeout)
            .connect_with(connect)
            .await
            .map_err(OpenError::Connect)?;
        drop(setup);
        checkpoint::spawn_checkpointer(read.clone(), write.clone());
        let journal = Arc::new(TokenJournal::new(options.token_journal.clone()));
        journal::spawn_merger(journal.clone(), read.clone(), write.clone());
        Ok(Self::from_pools(read, write, journal))
    }
}
