//! The PostgreSQL backend, for several nodes sharing one database.

use std::sync::Arc;

use sqlx::postgres::PgPoolOptions;
use tollgate_core::model::TokenRecord;
use tollgate_core::secret::TokenHash;

use crate::sql::queries as q;
use crate::sql::{Driver, SqlStore, token_insert};
use crate::{OpenError, StoreOptions};

/// The channel every change is announced on.
const CHANGES_CHANNEL: &str = "tollgate_changes";

/// PostgreSQL: several nodes, told of each other's changes by `NOTIFY`.
pub(crate) struct Postgres;

impl Driver for Postgres {
    type Db = sqlx::Postgres;
    type Tokens = TokensTable;
    const ANNOUNCE: Option<&'static str> = Some("SELECT pg_notify('tollgate_changes', '')");

    fn listen_for_changes(&self, pool: &sqlx::PgPool, waiter: Arc<tokio::sync::Notify>) {
        listen_for_changes(pool.clone(), waiter);
    }
}

crate::sql::sql_store!(Postgres, sqlx::Postgres);

pub(crate) type PgStore = SqlStore<Postgres>;

/// PostgreSQL writes new tokens straight into `tokens`: every node must find
/// every token at once.
pub(crate) struct TokensTable;

impl crate::sql::AccessTokens<sqlx::Postgres> for TokensTable {
    type Appended = ();

    /// PostgreSQL flushes its log once for all the commits waiting on it, so
    /// a batch written while the last one flushes shares that flush.
    const BATCHES_IN_FLIGHT: usize = 2;

    const TABLES: &'static [&'static str] = &["tokens"];

    const DELETE_PRINCIPAL_TOKENS: &'static [&'static str] = &["DELETE FROM tokens WHERE principal_id = $1"];

    async fn append<'e, E>(&self, executor: E, tokens: &[&TokenRecord]) -> Result<(), sqlx::Error>
    where
        E: sqlx::Executor<'e, Database = sqlx::Postgres> + 'e,
    {
        token_insert::<sqlx::Postgres>("tokens", tokens).build().execute(executor).await?;
        Ok(())
    }

    fn remember(&self, (): ()) {}

    async fn find(
        &self,
        _: &sqlx::PgPool,
        _: &TokenHash,
    ) -> Result<Option<sqlx::postgres::PgRow>, sqlx::Error> {
        Ok(None)
    }

    async fn catch_up(&self, _: &sqlx::PgPool) -> Result<(), sqlx::Error> {
        Ok(())
    }

    async fn revoke(&self, _: &mut sqlx::PgConnection, _: &TokenHash, _: i64) -> Result<u64, sqlx::Error> {
        Ok(0)
    }

    async fn sweep(
        &self,
        _: &sqlx::PgPool,
        write: &sqlx::PgPool,
        before_ms: i64,
        batch: i64,
    ) -> Result<(u64, bool), sqlx::Error> {
        let deleted =
            sqlx::query(q::SWEEP_TOKENS).bind(before_ms).bind(batch).execute(write).await?.rows_affected();
        Ok((deleted, deleted >= u64::try_from(batch).unwrap_or(0)))
    }

    async fn settle(&self, _: &sqlx::PgPool, _: &sqlx::PgPool) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

/// Listens on the changes channel and wakes `waiter` on every
/// notification. A dropped connection is re-established (and the waiter
/// woken, since notifications may have been missed meanwhile); polling
/// the change counter covers any gap.
fn listen_for_changes(pool: sqlx::PgPool, waiter: Arc<tokio::sync::Notify>) {
    {
        tokio::spawn(async move {
            loop {
                match sqlx::postgres::PgListener::connect_with(&pool).await {
                    Ok(mut listener) => match listener.listen(CHANGES_CHANNEL).await {
                        Ok(()) => {
                            waiter.notify_one();
                            loop {
                                match listener.try_recv().await {
                                    // `None`: the connection was lost; the next
                                    // call reconnects.
                                    Ok(_) => waiter.notify_one(),
                                    Err(err) => {
                                        tracing::debug!(%err, "change listener lost PostgreSQL");
                                        break;
                                    }
                                }
                            }
                        }
                        Err(err) => tracing::debug!(%err, "cannot LISTEN for changes"),
                    },
                    Err(err) => tracing::debug!(%err, "change listener cannot connect"),
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        });
    }
}

/// Connects and migrates (PostgreSQL creates no database on its own, so
/// every open needs one that exists).
pub(crate) async fn open(url: &str, options: &StoreOptions) -> Result<PgStore, OpenError> {
    let pool = PgPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.timeout)
        .connect(url)
        .await
        .map_err(OpenError::Connect)?;
    // sqlx holds an advisory lock while migrating, so nodes starting
    // together apply each migration exactly once.
    sqlx::migrate!("migrations/postgres").run(&pool).await?;
    let store = PgStore::from_pools(pool.clone(), pool, Arc::new(TokensTable), Postgres);
    store.fill_in_name_keys().await.map_err(OpenError::Setup)?;
    Ok(store)
}
