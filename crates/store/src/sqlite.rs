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
            // No checkpoint inside a commit: they stalled token writes (p99).
            // A background task checkpoints instead (see below).
            .pragma("wal_autocheckpoint", "0")
            // After the WAL starts over, keep at most 64 MiB of its file.
            .pragma("journal_size_limit", "67108864");
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
        spawn_checkpointer(read.clone());
        Ok(Self::from_pools(read, write))
    }
}

/// WAL frames (4 KiB pages) beyond which the checkpointer restarts the WAL.
const WAL_RESTART_FRAMES: i64 = 8000;

/// Copies the WAL back into the database twice a second from a reader
/// connection, so that commits never pay for it. PASSIVE neither waits for
/// nor blocks the writer; but under continuous writes it never finishes
/// completely, and SQLite only starts the WAL over after a complete
/// checkpoint — so once the WAL passes `WAL_RESTART_FRAMES` (32 MiB), a
/// RESTART checkpoint (a brief pause for the writer, most frames having just
/// been copied) lets it start over instead of growing without bound.
fn spawn_checkpointer(pool: sqlx::SqlitePool) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
        while !pool.is_closed() {
            tick.tick().await;
            let passive: Result<(i64, i64, i64), _> =
                sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&pool).await;
            match passive {
                Ok((_, frames, _)) if frames > WAL_RESTART_FRAMES => {
                    if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(RESTART)").execute(&pool).await {
                        tracing::debug!(%err, "WAL restart skipped");
                    }
                }
                Ok(_) => {}
                Err(err) => tracing::debug!(%err, "WAL checkpoint skipped"),
            }
        }
    });
}
