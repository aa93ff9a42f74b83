//! Errors of opening a store, and the one place sqlx errors become the
//! core's [`StoreError`], each failure class told apart deliberately.

use std::sync::Arc;

use thiserror::Error;
use tollgate_core::StoreError;
use tollgate_core::error::WriteFailure;

#[derive(Debug, Error)]
pub enum OpenError {
    #[error("unsupported database URL: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl,
    #[error("database file {0} does not exist (only `serve` and `migrate` create one)")]
    Missing(std::path::PathBuf),
    #[error("cannot open the database")]
    Connect(#[source] sqlx::Error),
    #[error("cannot migrate the database")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the database file {path} is corrupt: {report}")]
    Corrupt { path: std::path::PathBuf, report: String },
    #[error("cannot make {path} private to this user")]
    Permissions {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot prepare the database")]
    Setup(#[source] sqlx::Error),
}

/// What kind of failure a driver error is. SQLite reports extended result
/// codes (the primary code in the low byte), PostgreSQL SQLSTATEs.
pub(crate) fn classify(err: &sqlx::Error) -> WriteFailure {
    match err {
        sqlx::Error::Database(db) => {
            let code = db.code();
            let code = code.as_deref().unwrap_or("");
            match code.parse::<i32>() {
                // SQLite: FULL, IOERR, BUSY/LOCKED, CONSTRAINT, CORRUPT/NOTADB,
                // READONLY/CANTOPEN (the file went away or lost its permissions).
                Ok(sqlite) => match sqlite & 0xff {
                    13 => WriteFailure::Full,
                    10 => WriteFailure::Io,
                    5 | 6 => WriteFailure::Busy,
                    19 => WriteFailure::Constraint,
                    8 | 14 => WriteFailure::Io,
                    _ => WriteFailure::Other,
                },
                Err(_) => match code {
                    "53100" => WriteFailure::Full,
                    "58030" => WriteFailure::Io,
                    "55P03" | "40001" | "40P01" | "57014" => WriteFailure::Busy,
                    state if state.starts_with("23") => WriteFailure::Constraint,
                    // Shutdowns, terminated backends, connection exceptions.
                    state if state.starts_with("57P") || state.starts_with("08") => {
                        WriteFailure::ConnectionLost
                    }
                    _ => WriteFailure::Other,
                },
            }
        }
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) | sqlx::Error::PoolClosed => {
            WriteFailure::ConnectionLost
        }
        sqlx::Error::PoolTimedOut => WriteFailure::Busy,
        _ => WriteFailure::Other,
    }
}

fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// A failed read: unreachable, or data that does not decode. Details go to
/// logs only (as the error's source).
pub(crate) fn store_error(err: sqlx::Error) -> StoreError {
    match &err {
        _ if is_unique_violation(&err) => StoreError::Conflict("record"),
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) | sqlx::Error::ColumnNotFound(_) => {
            StoreError::Corrupt(Arc::new(err))
        }
        _ => StoreError::Unavailable(Arc::new(err)),
    }
}

/// A failed write: nothing of it is stored. A broken uniqueness rule is a
/// conflict the caller reports (a name taken); everything else is a write
/// failure of its class.
pub(crate) fn write_error(err: sqlx::Error) -> StoreError {
    if is_unique_violation(&err) {
        return StoreError::Conflict("record");
    }
    StoreError::WriteFailed { class: classify(&err), source: Arc::new(err) }
}
