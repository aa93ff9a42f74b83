//! `tollgate backup PATH`: a consistent copy of a SQLite database, taken
//! while servers run (`VACUUM INTO` reads one snapshot, so every write
//! committed before it began is in the copy and none half-done), checked
//! page by page, readable by this user alone.

use std::path::{Path, PathBuf};
use std::str::FromStr as _;

use sqlx::ConnectOptions as _;
use sqlx::sqlite::SqliteConnectOptions;
use thiserror::Error;
use tollgate_core::master_key::create_private;

#[derive(Debug, Error)]
pub enum BackupError {
    #[error("backups are of SQLite databases; for PostgreSQL use pg_dump")]
    NotSqlite,
    #[error("{0} exists already; a backup never overwrites a file")]
    Exists(PathBuf),
    #[error("cannot create {path}")]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Open(#[from] crate::OpenError),
    #[error("cannot copy the database")]
    Copy(#[source] sqlx::Error),
    #[error("the copy at {path} failed its integrity check: {report}")]
    Corrupt { path: PathBuf, report: String },
}

/// Copies the database `url` names to `to` (a new file); its size in bytes.
pub async fn backup(url: &str, to: &Path) -> Result<u64, BackupError> {
    if crate::Backend::of(url)? != crate::Backend::Sqlite {
        return Err(BackupError::NotSqlite);
    }
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|err| BackupError::Open(crate::OpenError::Connect(err)))?
        .create_if_missing(false)
        .busy_timeout(std::time::Duration::from_secs(30));
    let source = options.get_filename().to_owned();
    if !source.exists() {
        return Err(crate::OpenError::Missing(source).into());
    }
    // Created empty and private first (VACUUM INTO fills an empty file):
    // the copy holds every secret the database does.
    match create_private(to) {
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(BackupError::Exists(to.to_owned()));
        }
        Err(source) => return Err(BackupError::Create { path: to.to_owned(), source }),
    }
    let copied = copy(options, to).await;
    if copied.is_err() {
        let _ = std::fs::remove_file(to);
    }
    copied?;
    check(to).await?;
    Ok(std::fs::metadata(to).map(|meta| meta.len()).unwrap_or(0))
}

async fn copy(options: SqliteConnectOptions, to: &Path) -> Result<(), BackupError> {
    let mut conn =
        options.connect().await.map_err(|err| BackupError::Open(crate::OpenError::Connect(err)))?;
    let target = to.to_string_lossy().into_owned();
    sqlx::query("VACUUM INTO $1").bind(target).execute(&mut conn).await.map_err(BackupError::Copy)?;
    Ok(())
}

/// The copy passes `PRAGMA integrity_check`.
async fn check(path: &Path) -> Result<(), BackupError> {
    let options = SqliteConnectOptions::new().filename(path).read_only(true);
    let mut conn = options.connect().await.map_err(BackupError::Copy)?;
    let report: String =
        sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut conn).await.map_err(BackupError::Copy)?;
    if report == "ok" { Ok(()) } else { Err(BackupError::Corrupt { path: path.to_owned(), report }) }
}
