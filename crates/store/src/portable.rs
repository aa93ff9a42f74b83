//! Copying a whole database to another backend (`tollgate migrate-data`):
//! every table described once by its columns, rows carried as typed cells,
//! copied in batches ordered by primary key. Kept apart from the core's
//! `Store` trait, which serves requests, not bulk moves.

use std::sync::Arc;

use uuid::Uuid;

use crate::{Backend, OpenError, StoreOptions};

/// The type of a column, as both backends store it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Uuid,
    Text,
    Int,
    /// `SMALLINT` in PostgreSQL (sqlx checks integer widths).
    Small,
    Bool,
    Bytes,
}

/// One value of a row (`None` inside: SQL NULL).
#[derive(Debug, Clone)]
pub(crate) enum Cell {
    Uuid(Option<Uuid>),
    Text(Option<String>),
    Int(Option<i64>),
    Small(Option<i16>),
    Bool(Option<bool>),
    Bytes(Option<Vec<u8>>),
}

/// A table to copy; its first column is its primary key.
pub(crate) struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, Kind)],
    /// Rows of expired tokens are not worth copying.
    pub live_only: bool,
}

use Kind::{Bool, Bytes, Int, Small, Text, Uuid as U};

pub(crate) const TABLES: &[Table] = &[
    Table {
        name: "principals",
        columns: &[
            ("id", U),
            ("name", Text),
            ("roles", Text),
            ("realm", Text),
            ("attributes", Text),
            ("enabled", Bool),
            ("password_hash", Text),
            ("created_at", Int),
            ("tokens_revoked_at", Int),
        ],
        live_only: false,
    },
    Table {
        name: "api_keys",
        columns: &[
            ("id", U),
            ("principal_id", U),
            ("key_hash", Bytes),
            ("created_at", Int),
            ("expires_at", Int),
            ("revoked_at", Int),
            ("last_used_at", Int),
            ("tokens_revoked_at", Int),
        ],
        live_only: false,
    },
    Table {
        name: "access_keys",
        columns: &[
            ("id", U),
            ("principal_id", U),
            ("access_key", Text),
            ("secret_hash", Bytes),
            ("state", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("last_used_at", Int),
            ("tokens_revoked_at", Int),
        ],
        live_only: false,
    },
    Table {
        name: "sessions",
        columns: &[
            ("id", U),
            ("principal_id", U),
            ("created_at", Int),
            ("revoked_at", Int),
            ("expires_at", Int),
        ],
        live_only: false,
    },
    Table {
        name: "refresh_tokens",
        columns: &[
            ("hash", Bytes),
            ("session_id", U),
            ("issued_at", Int),
            ("expires_at", Int),
            ("spent_at", Int),
            ("successor", Bytes),
        ],
        live_only: true,
    },
    Table {
        name: "tokens",
        columns: &[
            ("hash", Bytes),
            ("kind", Small),
            ("principal_id", U),
            ("session_id", U),
            ("credential_id", U),
            ("issued_at", Int),
            ("expires_at", Int),
            ("revoked_at", Int),
        ],
        live_only: true,
    },
    Table { name: "revoked_jwts", columns: &[("jti", U), ("expires_at", Int)], live_only: true },
    Table { name: "server_secrets", columns: &[("name", Text), ("value", Bytes)], live_only: false },
    Table {
        name: "signing_keys",
        columns: &[
            ("kid", Text),
            ("algorithm", Text),
            ("private_der", Bytes),
            ("public_jwk", Text),
            ("created_at", Int),
            ("signs_from", Int),
        ],
        live_only: false,
    },
];

impl Table {
    pub(crate) fn select(&self) -> String {
        let columns: Vec<&str> = self.columns.iter().map(|(name, _)| *name).collect();
        let key = self.columns[0].0;
        let live = if self.live_only { " AND expires_at > $2" } else { "" };
        format!(
            "SELECT {} FROM {} WHERE ($1 IS NULL OR {key} > $1){live} ORDER BY {key} LIMIT {BATCH}",
            columns.join(", "),
            self.name
        )
    }
}

/// Rows per round trip.
pub(crate) const BATCH: usize = 2000;

/// A backend rows can be read from and written to.
#[async_trait::async_trait]
pub(crate) trait Portable: Send + Sync {
    /// Brings every row to the tables `TABLES` names (SQLite's recent
    /// tokens wait in a journal until merged into `tokens`).
    async fn settle(&self) -> Result<(), sqlx::Error>;
    /// The next batch of `table` after primary key `after`.
    async fn export(
        &self,
        table: &Table,
        after: Option<&Cell>,
        now_ms: i64,
    ) -> Result<Vec<Vec<Cell>>, sqlx::Error>;
    /// Writes rows (existing ones are left alone); how many were new.
    async fn import(&self, table: &Table, rows: &[Vec<Cell>]) -> Result<u64, sqlx::Error>;
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateDataError {
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("copying {table}: {source}")]
    Copy {
        table: &'static str,
        #[source]
        source: sqlx::Error,
    },
}

async fn open_portable(url: &str, options: &StoreOptions) -> Result<Arc<dyn Portable>, OpenError> {
    Ok(match Backend::of(url)? {
        Backend::Sqlite => Arc::new(crate::sqlite::SqliteStore::open(url, options).await?),
        Backend::Postgres => Arc::new(crate::postgres::PgStore::open(url, options).await?),
    })
}

/// Copies principals, credentials, live tokens, secrets and signing keys from
/// one database to another (either backend to either), bringing both schemas
/// up to date first. Rows already in the target are kept, so a copy that was
/// interrupted can simply be run again. Returns rows copied per table.
pub async fn migrate_data(
    from: &str,
    to: &str,
    options: &StoreOptions,
) -> Result<Vec<(&'static str, u64)>, MigrateDataError> {
    let source = open_portable(from, options).await?;
    let target = open_portable(to, options).await?;
    source.settle().await.map_err(|source| MigrateDataError::Copy { table: "tokens", source })?;
    let now_ms = tollgate_core::time_util::to_millis(tollgate_core::time_util::now());
    let mut copied = Vec::new();
    for table in TABLES {
        let failed = |source| MigrateDataError::Copy { table: table.name, source };
        let mut total = 0;
        let mut after: Option<Cell> = None;
        loop {
            let rows = source.export(table, after.as_ref(), now_ms).await.map_err(failed)?;
            if rows.is_empty() {
                break;
            }
            total += target.import(table, &rows).await.map_err(failed)?;
            let full = rows.len() == BATCH;
            after = rows.last().and_then(|row| row.first().cloned());
            if !full {
                break;
            }
        }
        tracing::info!(table = table.name, copied = total, "copied");
        copied.push((table.name, total));
    }
    Ok(copied)
}
