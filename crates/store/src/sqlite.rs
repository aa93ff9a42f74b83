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
        spawn_checkpointer(read.clone(), write.clone());
        Ok(Self::from_pools(read, write))
    }
}

/// WAL frames (4 KiB pages) beyond which the writer finishes a checkpoint so
/// that the WAL can start over (16 MiB).
const WAL_FINISH_FRAMES: i64 = 4000;

/// WAL frames beyond which the writer forces a RESTART (64 MiB): only when
/// readers kept a finished checkpoint from freeing the WAL several times.
const WAL_FORCE_RESTART_FRAMES: i64 = 16_000;

/// Copies the WAL back into the database twice a second, so that commits
/// never pay for it. The bulk is copied by a PASSIVE checkpoint on a reader
/// connection, which neither waits for nor blocks the writer. Under
/// continuous writes that never finishes, and SQLite only starts the WAL over
/// after a finished checkpoint; so once the WAL passes `WAL_FINISH_FRAMES`,
/// a second PASSIVE runs on the writer's own connection, between two token
/// batches: with no writer beside it, it copies the few frames left and
/// finishes, and the next commit starts the WAL over. (A RESTART from the
/// reader instead had the writer and the checkpointer sleep in each other's
/// busy handlers for tens of milliseconds: contract B's p99.)
fn spawn_checkpointer(read: sqlx::SqlitePool, write: sqlx::SqlitePool) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
        while !read.is_closed() {
            tick.tick().await;
            match checkpoint(&read, "PRAGMA wal_checkpoint(PASSIVE)").await {
                Ok(frames) if frames > WAL_FORCE_RESTART_FRAMES => {
                    if let Err(err) = checkpoint(&write, "PRAGMA wal_checkpoint(RESTART)").await {
                        tracing::debug!(%err, "WAL restart skipped");
                    }
                }
                Ok(frames) if frames > WAL_FINISH_FRAMES => {
                    if let Err(err) = checkpoint(&write, "PRAGMA wal_checkpoint(PASSIVE)").await {
                        tracing::debug!(%err, "WAL checkpoint on the writer skipped");
                    }
                }
                Ok(_) => {}
                Err(err) => tracing::debug!(%err, "WAL checkpoint skipped"),
            }
        }
    });
}

/// Runs one `PRAGMA wal_checkpoint(…)`; returns the frames the WAL holds.
async fn checkpoint(pool: &sqlx::SqlitePool, pragma: &'static str) -> Result<i64, sqlx::Error> {
    let (_busy, frames, _copied): (i64, i64, i64) = sqlx::query_as(pragma).fetch_one(pool).await?;
    Ok(frames)
}
