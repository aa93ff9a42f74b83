//! Copying the WAL back into the database in the background, so that token
//! commits never pay for it (`wal_autocheckpoint` is off).

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
///
/// Each round also checks that the database's path still names the file
/// the store opened (`watched`): a deleted or replaced file marks the store
/// lost, so that readiness fails and no token is written where nobody will
/// find it again.
pub(super) fn spawn_checkpointer(
    read: sqlx::SqlitePool,
    write: sqlx::SqlitePool,
    watched: Option<(std::path::PathBuf, super::files::Identity, std::sync::Arc<crate::sql::WriteHealth>)>,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
        while !read.is_closed() {
            tick.tick().await;
            if let Some((path, identity, health)) = &watched
                && let Some(reason) = identity.check(path)
            {
                health.mark_lost(reason);
            }
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
