//! The embedded SQLite backend (the default): WAL journal, one writer
//! connection (SQLite has one writer anyway; a single connection means our own
//! requests never fight over the lock), a few reader connections.

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::{OpenError, StoreOptions};

crate::backend::sql_store!(SqliteStore, sqlx::Sqlite, None);

impl SqliteStore {
    /// One file, one machine: other processes' changes are found by polling.
    fn listen_for_changes(&self, _waiter: std::sync::Arc<tokio::sync::Notify>) {}
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
            // Checkpoint less often: hot pages are then copied once per
            // checkpoint instead of once per few commits.
            .pragma("wal_autocheckpoint", "10000");
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(options.timeout)
            .connect_with(connect.clone())
            .await
            .map_err(OpenError::Connect)?;
        sqlx::migrate!("migrations/sqlite").run(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(options.max_connections.clamp(1, 8))
            .acquire_timeout(options.timeout)
            .connect_with(connect)
            .await
            .map_err(OpenError::Connect)?;
        Ok(Self::from_pools(read, write))
    }
}
