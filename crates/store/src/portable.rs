//! Copying a whole database to another backend (`tollgate migrate-data`):
//! every table described once by its columns, rows carried as typed cells,
//! copied in batches ordered by primary key. Kept apart from the core's
//! storage traits, which serve requests, not bulk moves.
//!
//! A copy either lands in a target that can use it or does not start: a
//! target with key material of its own (a server started on it) and data
//! that depends on it, or with a principal or key that the source holds
//! under another id, is refused with the reason before anything is copied.

use std::collections::HashMap;
use uuid::Uuid;

use crate::{OpenError, OpenMode, StoreOptions};

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

impl Cell {
    /// The value's bytes, for comparing keys across backends.
    fn key(&self) -> Vec<u8> {
        match self {
            Cell::Uuid(v) => v.map(|v| v.as_bytes().to_vec()).unwrap_or_default(),
            Cell::Text(v) => v.as_deref().unwrap_or_default().as_bytes().to_vec(),
            Cell::Int(v) => v.map(|v| v.to_be_bytes().to_vec()).unwrap_or_default(),
            Cell::Small(v) => v.map(|v| v.to_be_bytes().to_vec()).unwrap_or_default(),
            Cell::Bool(v) => v.map(|v| vec![u8::from(v)]).unwrap_or_default(),
            Cell::Bytes(v) => v.clone().unwrap_or_default(),
        }
    }
}

/// A table to copy; its first column is its primary key.
pub(crate) struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, Kind)],
    /// Rows of expired tokens are not worth copying.
    pub live_only: bool,
    /// The column (by position) that is unique besides the primary key (a
    /// principal's name, a key's value): the source and the target must not
    /// hold one value under two ids.
    pub natural_key: Option<usize>,
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
            ("password_format", Text),
            ("created_at", Int),
            ("tokens_revoked_at", Int),
            ("name_key", Text),
            ("failed_logins", Int),
            ("lockout_level", Int),
            ("locked_until", Int),
            ("last_failed_at", Int),
        ],
        live_only: false,
        natural_key: Some(1),
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
        natural_key: Some(2),
    },
    Table {
        name: "access_keys",
        columns: &[
            ("id", U),
            ("principal_id", U),
            ("access_key", Text),
            ("secret_hash", Bytes),
            ("secret_format", Text),
            ("secret_legacy", Text),
            ("state", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("last_used_at", Int),
            ("tokens_revoked_at", Int),
        ],
        live_only: false,
        natural_key: Some(2),
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
        natural_key: None,
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
        natural_key: None,
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
        natural_key: None,
    },
    Table {
        name: "revoked_jwts",
        columns: &[("jti", U), ("expires_at", Int)],
        live_only: true,
        natural_key: None,
    },
    Table {
        name: "audit_events",
        columns: &[
            ("id", Int),
            ("at", Int),
            ("actor", Text),
            ("action", Text),
            ("target", Text),
            ("source_ip", Text),
            ("details", Text),
        ],
        live_only: false,
        natural_key: None,
    },
    Table {
        name: "server_secrets",
        columns: &[("name", Text), ("value", Bytes)],
        live_only: false,
        natural_key: None,
    },
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
        natural_key: None,
    },
];

/// The tables whose rows depend on the credential pepper and the JWT
/// secret: a target holding any cannot take the source's key material.
const KEYED_DATA: &[&str] = &["principals", "api_keys", "access_keys", "sessions", "tokens"];

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
    /// Rows of two columns, text and bytes (the server's secrets).
    async fn scalar_rows(&self, sql: &str) -> Result<Vec<(String, Vec<u8>)>, sqlx::Error>;
    /// One count.
    async fn count(&self, sql: &str) -> Result<i64, sqlx::Error>;
    /// Sets a server secret, replacing the one there.
    async fn replace_server_secret(&self, name: &str, value: &[u8]) -> Result<(), sqlx::Error>;
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateDataError {
    #[error("cannot open the {which} database")]
    Open {
        which: &'static str,
        #[source]
        source: OpenError,
    },
    #[error("copying {table}")]
    Copy {
        table: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// The target cannot take the source's data; nothing was copied.
    #[error("nothing copied: {0}")]
    Incompatible(String),
}

/// Every row of `table` in `from`, batch by batch.
async fn for_each_row(
    from: &dyn Portable,
    table: &'static Table,
    now_ms: i64,
    mut each: impl FnMut(&[Vec<Cell>]),
) -> Result<(), MigrateDataError> {
    let failed = |source| MigrateDataError::Copy { table: table.name, source };
    let mut after: Option<Cell> = None;
    loop {
        let rows = from.export(table, after.as_ref(), now_ms).await.map_err(failed)?;
        each(&rows);
        if rows.len() < BATCH {
            return Ok(());
        }
        after = rows.last().and_then(|row| row.first().cloned());
    }
}

/// What the target must change before it takes the source's rows (its own
/// key material replaced), or why it cannot take them at all.
async fn plan(
    source: &dyn Portable,
    target: &dyn Portable,
    now_ms: i64,
) -> Result<Vec<(String, Vec<u8>)>, MigrateDataError> {
    let failed = |source| MigrateDataError::Copy { table: "server_secrets", source };
    const SECRETS: &str = "SELECT name, value FROM server_secrets ORDER BY name";
    let theirs: HashMap<String, Vec<u8>> =
        target.scalar_rows(SECRETS).await.map_err(failed)?.into_iter().collect();
    let differing: Vec<(String, Vec<u8>)> = source
        .scalar_rows(SECRETS)
        .await
        .map_err(failed)?
        .into_iter()
        .filter(|(name, value)| theirs.get(name).is_some_and(|other| other != value))
        .collect();
    if !differing.is_empty() {
        let mut holds = Vec::new();
        for table in KEYED_DATA {
            let rows = target
                .count(&format!("SELECT COUNT(*) FROM {table}"))
                .await
                .map_err(|source| MigrateDataError::Copy { table: "server_secrets", source })?;
            if rows > 0 {
                holds.push(format!("{rows} {table}"));
            }
        }
        if !holds.is_empty() {
            let names: Vec<&str> = differing.iter().map(|(name, _)| name.as_str()).collect();
            return Err(MigrateDataError::Incompatible(format!(
                "the target has key material of its own ({}) and data that depends on it ({}); the \
                 source's keys and tokens would not work there. Copy into an empty database.",
                names.join(", "),
                holds.join(", ")
            )));
        }
    }
    for table in TABLES {
        let Some(natural) = table.natural_key else { continue };
        let mut target_ids: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
        for_each_row(target, table, now_ms, |rows| {
            for row in rows {
                target_ids.insert(row[natural].key(), row[0].key());
            }
        })
        .await?;
        if target_ids.is_empty() {
            continue;
        }
        let mut clashes = 0usize;
        let mut named = Vec::new();
        for_each_row(source, table, now_ms, |rows| {
            for row in rows {
                if target_ids.get(&row[natural].key()).is_some_and(|id| *id != row[0].key()) {
                    clashes += 1;
                    if let (Cell::Text(Some(name)), true) = (&row[natural], named.len() < 5) {
                        named.push(name.clone());
                    }
                }
            }
        })
        .await?;
        if clashes > 0 {
            let which = if named.is_empty() { String::new() } else { format!(" ({})", named.join(", ")) };
            return Err(MigrateDataError::Incompatible(format!(
                "{clashes} {} of the source exist in the target under another id{which}; copying would \
                 leave their keys and tokens to nobody. Copy into an empty database.",
                table.name
            )));
        }
    }
    Ok(differing)
}

/// Copies principals, credentials, live tokens, secrets and signing keys from
/// one database to another (either backend to either), bringing both schemas
/// up to date first. Rows already in the target are kept, so a copy that was
/// interrupted can simply be run again; a target that could not use the
/// copy is refused before anything is written. Returns rows copied per table.
pub async fn migrate_data(
    from: &str,
    to: &str,
    options: &StoreOptions,
) -> Result<Vec<(&'static str, u64)>, MigrateDataError> {
    let source = crate::open_database(from, options, OpenMode::Existing)
        .await
        .map_err(|source| MigrateDataError::Open { which: "source", source })?
        .portable;
    let target = crate::open_database(to, options, OpenMode::Create)
        .await
        .map_err(|source| MigrateDataError::Open { which: "target", source })?
        .portable;
    source.settle().await.map_err(|source| MigrateDataError::Copy { table: "tokens", source })?;
    let now_ms = tollgate_core::time_util::to_millis(tollgate_core::time_util::now());
    // A target started once (never used) generated key material of its own:
    // the source's replaces it, or the copied keys would not match.
    for (name, value) in plan(source.as_ref(), target.as_ref(), now_ms).await? {
        target
            .replace_server_secret(&name, &value)
            .await
            .map_err(|source| MigrateDataError::Copy { table: "server_secrets", source })?;
        tracing::info!(secret = %name, "the target's own key material was replaced by the source's");
    }
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
            if rows.len() < BATCH {
                break;
            }
            after = rows.last().and_then(|row| row.first().cloned());
        }
        tracing::info!(table = table.name, copied = total, "copied");
        copied.push((table.name, total));
    }
    Ok(copied)
}
