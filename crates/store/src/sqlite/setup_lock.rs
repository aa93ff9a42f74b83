//! One process at a time opens and migrates a SQLite database file.
//!
//! sqlx takes no lock around SQLite migrations: two nodes started together
//! on a new file both find migration 1 unapplied, and the second fails with
//! "table … already exists" (or a busy error while the first switches the
//! file to WAL). PostgreSQL has sqlx's advisory lock for this; here an
//! exclusive `flock` on the database's directory serializes set-up.
//!
//! The directory, not the file: `flock` and SQLite's own POSIX locks are
//! independent on Linux, but closing any descriptor of the database file
//! drops every POSIX lock the process holds on it, so the file itself is
//! never opened outside SQLite. No lock file is left behind.

use std::fs::File;
use std::path::Path;

/// Held while set-up runs; dropping it releases the lock.
pub(super) struct SetupLock {
    _held: Option<File>,
}

/// Waits for the set-up lock of the database at `database`. Best effort: on
/// a file system without `flock` (or an in-memory database) set-up runs
/// unlocked, as it did before, rather than not at all.
pub(super) async fn acquire(database: &Path) -> SetupLock {
    let directory = match database.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => Path::new(".").to_owned(),
    };
    let locked = tokio::task::spawn_blocking(move || {
        let dir = File::open(&directory)?;
        dir.lock()?;
        Ok::<_, std::io::Error>(dir)
    })
    .await;
    match locked {
        Ok(Ok(dir)) => SetupLock { _held: Some(dir) },
        Ok(Err(err)) => {
            tracing::debug!(%err, "no set-up lock for the database's directory; migrating unlocked");
            SetupLock { _held: None }
        }
        Err(err) => {
            tracing::warn!(%err, "set-up lock task failed; migrating unlocked");
            SetupLock { _held: None }
        }
    }
}
