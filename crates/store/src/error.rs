//! Errors of opening a store, and the one place sqlx errors become the
//! core's [`StoreError`].

use thiserror::Error;
use tollgate_core::StoreError;

#[derive(Debug, Error)]
pub enum OpenError {
    #[error("unsupported database URL: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl,
    #[error("cannot open the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Maps a driver error to the core's vocabulary; details go to logs only.
pub(crate) fn store_error(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict("record"),
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) | sqlx::Error::ColumnNotFound(_) => {
            StoreError::Corrupt(err.to_string())
        }
        _ => StoreError::Unavailable(err.to_string()),
    }
}
