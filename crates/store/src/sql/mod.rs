//! The SQL side shared by both backends: what each backend must provide
//! ([`Driver`], [`AccessTokens`]), the store both instantiate
//! ([`SqlStore`]), the SQL text ([`queries`]), and the implementation of the
//! core's storage traits, written once and instantiated per sqlx driver by
//! `sql_store!` (see `store_impl.rs`).

mod import_impl;
pub(crate) mod queries;
mod store_impl;

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tollgate_core::StoreError;
use tollgate_core::error::WriteFailure;
use tollgate_core::model::TokenRecord;
use tollgate_core::secret::TokenHash;
use tollgate_core::store::NewSession;
use uuid::Uuid;

pub(crate) use import_impl::import_store;
pub(crate) use store_impl::sql_store;

use crate::group_commit::GroupCommit;

/// A write that waits in the group commit.
#[derive(Clone)]
pub(crate) enum WriteOp {
    Session(NewSession),
    Token(TokenRecord),
}

/// Most writes one group commit takes at once.
pub(crate) const MAX_BATCH: usize = 512;

/// Rows per multi-row INSERT (7 parameters each stays far below SQLite's
/// 32 766-parameter limit).
pub(crate) const ROWS_PER_INSERT: usize = 256;

/// What a database backend brings to the shared implementation.
pub(crate) trait Driver: Send + Sync + Sized + 'static {
    type Db: sqlx::Database;
    /// Where the backend keeps the access tokens it issues.
    type Tokens: AccessTokens<Self::Db>;
    /// SQL run with every change-counter bump to tell other processes at
    /// once (PostgreSQL's `NOTIFY`), if the backend can.
    const ANNOUNCE: Option<&'static str>;
    /// Wakes `waiter` whenever another process announces a change; a
    /// backend that cannot push does nothing (nodes poll the counter).
    fn listen_for_changes(&self, pool: &sqlx::Pool<Self::Db>, waiter: Arc<tokio::sync::Notify>);
}

/// Where a backend puts the access tokens it issues, and how it finds,
/// revokes and sweeps them. SQLite appends them to a journal and moves them
/// into `tokens` later, in bulk (`sqlite/journal.rs`); PostgreSQL, whose
/// nodes must all see every token at once, writes them straight into
/// `tokens` (`postgres.rs`).
pub(crate) trait AccessTokens<DB: sqlx::Database>: Send + Sync + 'static {
    /// What `remember` needs to know once an append has committed.
    type Appended: Send;

    /// Group-commit batches that may be written at once (see
    /// `group_commit.rs`).
    const BATCHES_IN_FLIGHT: usize;

    /// The tables access tokens are kept in.
    const TABLES: &'static [&'static str];

    /// Statements (`$1`: a principal's id) that delete every access token of
    /// a principal being removed. No foreign key does it: a check and an
    /// index on every token written would cost each login, for the sake of
    /// an operation that is rare (it scans the token tables instead).
    const DELETE_PRINCIPAL_TOKENS: &'static [&'static str];

    /// Writes `tokens` with `executor` (inside the caller's transaction, if
    /// it runs one).
    fn append<'e, E>(
        &self,
        executor: E,
        tokens: &[&TokenRecord],
    ) -> impl Future<Output = Result<Self::Appended, sqlx::Error>> + Send
    where
        E: sqlx::Executor<'e, Database = DB> + 'e;

    /// The append committed: `find` must find those tokens from now on.
    fn remember(&self, appended: Self::Appended);

    /// The row of a token kept here (the columns of `FIND_TOKEN`), or `None`
    /// when it is not (any more): then it is in `tokens`, or unknown.
    fn find(
        &self,
        read: &sqlx::Pool<DB>,
        hash: &TokenHash,
    ) -> impl Future<Output = Result<Option<DB::Row>, sqlx::Error>> + Send;

    /// Learns about tokens other processes kept here.
    fn catch_up(&self, read: &sqlx::Pool<DB>) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

    /// Revokes a token kept here; the rows changed.
    fn revoke(
        &self,
        conn: &mut DB::Connection,
        hash: &TokenHash,
        at_ms: i64,
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send;

    /// Deletes a bounded step (about `batch` rows) of expired tokens; the
    /// rows deleted, and whether there may be more.
    fn sweep(
        &self,
        read: &sqlx::Pool<DB>,
        write: &sqlx::Pool<DB>,
        before_ms: i64,
        batch: i64,
    ) -> impl Future<Output = Result<(u64, bool), sqlx::Error>> + Send;

    /// Moves every token kept here into `tokens` (before the database is
    /// copied elsewhere).
    fn settle(
        &self,
        read: &sqlx::Pool<DB>,
        write: &sqlx::Pool<DB>,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
}

/// A backend's store: its pools, its group commit, where it keeps tokens.
pub(crate) struct SqlStore<D: Driver> {
    pub(crate) read: sqlx::Pool<D::Db>,
    pub(crate) write: sqlx::Pool<D::Db>,
    pub(crate) commits: GroupCommit<WriteOp>,
    pub(crate) tokens: Arc<D::Tokens>,
    pub(crate) driver: D,
    pub(crate) health: Arc<WriteHealth>,
}

/// Whether writes currently work, for readiness.
///
/// A failed write marks the store failing; it counts as failing for at
/// least [`FAILING_HOLD`] after the last failure and until a write succeeds
/// after that. The hold matters on a full disk: there some commits still fit
/// in space SQLite had already claimed while others do not, and readiness
/// must not flicker back to ready between them. With no traffic, readiness
/// itself tries a small write once the hold has passed.
///
/// A lost database file marks the store lost for good (until a restart
/// opens the file anew).
#[derive(Default)]
pub(crate) struct WriteHealth {
    state: Mutex<HealthState>,
    lost: Mutex<Option<String>>,
}

#[derive(Default)]
struct HealthState {
    /// When the last write failed, and how.
    last_failure: Option<(Instant, StoreError)>,
    /// Whether a write succeeded after it.
    succeeded_since: bool,
}

/// How long after a failed write the store counts as failing at least.
pub(crate) const FAILING_HOLD: Duration = Duration::from_secs(2);

/// What readiness should answer.
pub(crate) enum Readiness {
    Ready,
    Failing(StoreError),
    /// The hold has passed with no write since: a write must show it.
    Unproven,
}

impl WriteHealth {
    fn state(&self) -> std::sync::MutexGuard<'_, HealthState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Notes how a write ended, logging only the changes (a full disk under
    /// load would otherwise log every request).
    pub(crate) fn record(&self, result: &Result<(), StoreError>) {
        let mut state = self.state();
        match result {
            Ok(()) => {
                if state.last_failure.is_some() && !state.succeeded_since {
                    tracing::info!("database writes succeed again");
                }
                state.succeeded_since = true;
            }
            Err(err @ StoreError::WriteFailed { class, .. }) if *class != WriteFailure::Constraint => {
                let was_healthy = state.last_failure.is_none() || state.succeeded_since;
                *state =
                    HealthState { last_failure: Some((Instant::now(), err.clone())), succeeded_since: false };
                if was_healthy {
                    tracing::error!(
                        error = %tollgate_core::error::report(err),
                        "database writes fail; logins answer 500 and /readyz 503 until a write succeeds"
                    );
                }
            }
            Err(_) => {}
        }
    }

    pub(crate) fn readiness(&self) -> Readiness {
        if let Some(lost) = self.lost() {
            return Readiness::Failing(lost);
        }
        let mut state = self.state();
        match &state.last_failure {
            None => Readiness::Ready,
            Some((at, err)) if at.elapsed() < FAILING_HOLD => Readiness::Failing(err.clone()),
            Some(_) if state.succeeded_since => {
                state.last_failure = None;
                Readiness::Ready
            }
            Some(_) => Readiness::Unproven,
        }
    }

    /// The database is not the one this store opened any more.
    pub(crate) fn mark_lost(&self, reason: String) {
        let mut lost = self.lost.lock().unwrap_or_else(PoisonError::into_inner);
        if lost.is_none() {
            tracing::error!(reason = %reason, "database lost; refusing writes until restarted");
            *lost = Some(reason);
        }
    }

    /// Why the database counts as lost, if it does.
    pub(crate) fn lost(&self) -> Option<StoreError> {
        let lost = self.lost.lock().unwrap_or_else(PoisonError::into_inner);
        lost.as_ref().map(|reason| StoreError::WriteFailed {
            class: WriteFailure::FileLost,
            source: Arc::new(std::io::Error::new(std::io::ErrorKind::NotFound, reason.clone())),
        })
    }
}

pub(crate) fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn json_map(map: &std::collections::BTreeMap<String, String>) -> String {
    serde_json::to_string(map).unwrap_or_else(|_| "{}".into())
}

/// `INSERT INTO <table>` of access tokens, one row each: the one statement
/// both backends and SQLite's journal write tokens with.
pub(crate) fn token_insert<'a, DB>(table: &str, tokens: &[&TokenRecord]) -> sqlx::QueryBuilder<'a, DB>
where
    DB: sqlx::Database,
    for<'q> DB::Arguments<'q>: Default,
    Vec<u8>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i16: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    Uuid: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    Option<Uuid>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    use tollgate_core::time_util::to_millis;
    let mut insert = sqlx::QueryBuilder::<DB>::new(format!(
        "INSERT INTO {table} (hash, kind, principal_id, session_id, credential_id, issued_at, expires_at) "
    ));
    insert.push_values(tokens, |mut row, t| {
        row.push_bind(t.hash.as_bytes().to_vec())
            .push_bind(t.kind.code())
            .push_bind(t.principal_id.0)
            .push_bind(t.session_id)
            .push_bind(t.credential_id.map(|c| c.0))
            .push_bind(to_millis(t.issued_at))
            .push_bind(to_millis(t.expires_at));
    });
    insert
}
