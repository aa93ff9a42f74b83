//! Tollgate's storage: the core's storage traits implemented over SQLite
//! (embedded, the default) and PostgreSQL (several nodes), with migrations.
//!
//! Both backends run the very same SQL (`sql/`): a backend brings a
//! `sql::Driver` (a crate-private trait) and its way of keeping access
//! tokens, and `sql_store!` instantiates the one implementation for it, so
//! the two cannot drift apart. Token writes go through a group commit
//! (`group_commit.rs`) so that many concurrent logins share one
//! transaction. [`open`] is the one way in from a URL.

mod bulk;
mod error;
mod group_commit;
mod portable;
mod postgres;
mod sql;
mod sqlite;

use std::sync::Arc;
use std::time::Duration;

pub use bulk::{bench_token, seed_scale};
pub use error::OpenError;
pub use portable::{MigrateDataError, migrate_data};
pub use sqlite::backup::{BackupError, backup};
use tollgate_core::Store;

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// How long a request may wait for a connection or a lock before the
    /// database counts as unavailable.
    pub timeout: Duration,
    /// Most connections a process opens (PostgreSQL; SQLite readers).
    pub max_connections: u32,
    /// SQLite: when new tokens move from the journal into `tokens`.
    pub token_journal: JournalPolicy,
    /// SQLite: check every page (`PRAGMA quick_check`) before use, and
    /// refuse a corrupt file. Servers do; commands that only read or change
    /// a few rows need not pay for it on a large file.
    pub verify_integrity: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            max_connections: 8,
            token_journal: JournalPolicy::default(),
            verify_integrity: false,
        }
    }
}

/// Whether opening may create the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create it if missing (`serve`, `migrate`, a copy's target).
    Create,
    /// Open an existing database only: a missing SQLite file is an error
    /// naming its path, never a new empty database (every other command).
    Existing,
}

/// When SQLite merges new tokens from its journal into `tokens`: once they
/// are `age` old (at that age most short-lived tokens, like contract B's
/// 20 s ones, have expired and are dropped instead of moved), or sooner
/// when the journal holds `rows` rows. The server indexes journal rows in
/// memory (~25 bytes each), so `rows` bounds that memory; larger merges also
/// put more tokens on each page of `tokens` they write.
#[derive(Debug, Clone)]
pub struct JournalPolicy {
    pub rows: u64,
    pub age: Duration,
}

impl Default for JournalPolicy {
    fn default() -> Self {
        // 24 s: contract B's tokens live 20 s. 24 s of B at ~35 k logins/s
        // fit in 917 504 rows: eight generations of 7/8 × 2^17 rows, each
        // one exactly full hash map of ~3.3 MiB; the index stays < 32 MiB.
        Self { rows: 7 << 17, age: Duration::from_secs(24) }
    }
}

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of(url: &str) -> Result<Self, OpenError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(OpenError::UnsupportedUrl)
        }
    }
}

/// Connects to the database the URL names and brings its schema up to date
/// (safe when several processes start at once).
pub async fn open(url: &str, options: &StoreOptions, mode: OpenMode) -> Result<Arc<dyn Store>, OpenError> {
    Ok(open_database(url, options, mode).await?.store)
}

/// An open database, as the services use it and as a copy reads it.
struct Opened {
    store: Arc<dyn Store>,
    portable: Arc<dyn portable::Portable>,
}

async fn open_database(url: &str, options: &StoreOptions, mode: OpenMode) -> Result<Opened, OpenError> {
    fn both<T: Store + portable::Portable>(store: T) -> Opened {
        let store = Arc::new(store);
        Opened { store: store.clone(), portable: store }
    }
    match Backend::of(url)? {
        Backend::Sqlite => Ok(both(sqlite::open(url, options, mode).await?)),
        Backend::Postgres => Ok(both(postgres::open(url, options).await?)),
    }
}

/// Hides the passwords of a database URL, for logs and error messages: the
/// one in the user info (`user:***@host`) and any query parameter whose name
/// says password (`?password=***`, `sslpassword=***`).
pub fn redact_url(url: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(base, query)| (base, Some(query)));
    let mut redacted = match base.find("://") {
        Some(scheme_end) => {
            let rest = &base[scheme_end + 3..];
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let authority = &rest[..authority_end];
            match authority.rfind('@').and_then(|at| authority[..at].find(':').map(|colon| (colon, at))) {
                Some((colon, at)) => format!(
                    "{}{}:***{}{}",
                    &base[..scheme_end + 3],
                    &authority[..colon],
                    &authority[at..],
                    &rest[authority_end..]
                ),
                None => base.to_owned(),
            }
        }
        None => base.to_owned(),
    };
    if let Some(query) = query {
        let parameters: Vec<String> = query
            .split('&')
            .map(|parameter| match parameter.split_once('=') {
                Some((name, _)) if name.to_ascii_lowercase().contains("password") => format!("{name}=***"),
                _ => parameter.to_owned(),
            })
            .collect();
        redacted.push('?');
        redacted.push_str(&parameters.join("&"));
    }
    redacted
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_passwords_never_reach_logs() {
        assert_eq!(super::redact_url("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(super::redact_url("sqlite://tollgate.db"), "sqlite://tollgate.db");
        assert_eq!(
            super::redact_url("postgres://u@h/db?password=secret&sslmode=disable&sslpassword=x"),
            "postgres://u@h/db?password=***&sslmode=disable&sslpassword=***"
        );
        assert_eq!(
            super::redact_url("postgres://u:p@ss@h/db?options=-c%20a@b"),
            "postgres://u:***@h/db?options=-c%20a@b"
        );
        assert_eq!(super::redact_url("postgres://h/db?PassWord=s"), "postgres://h/db?PassWord=***");
    }
}
