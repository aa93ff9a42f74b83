//! The PostgreSQL backend, for several nodes sharing one database.

use sqlx::postgres::PgPoolOptions;

use crate::{OpenError, StoreOptions};

/// The channel every change is announced on.
const CHANGES_CHANNEL: &str = "tollgate_changes";

crate::backend::sql_store!(
    PgStore,
    sqlx::Postgres,
    Some("SELECT pg_notify('tollgate_changes', '')"),
    TokensTable
);

/// PostgreSQL writes new tokens straight into `tokens`: every node must find
/// every token at once.
pub(crate) struct TokensTable;

impl crate::backend::AccessTokens<sqlx::Postgres> for TokensTable {
    type Appended = ();

    /// PostgreSQL flushes its log once for all the commits waiting on it, so
    /// a batch written while the last one flushes shares that flush.
    const BATCHES_IN_FLIGHT: usize = 2;

    async fn append<'e, E>(&self, executor: E, tokens: &[&TokenRecord]) -> Result<(), sqlx::Error>
    where
        E: sqlx::Executor<'e, Database = sqlx::Postgres> + 'e,
    {
        insert_tokens(executor, tokens).await
    }

    fn remember(&self, (): ()) {}

    async fn find(
        &self,
        _: &sqlx::PgPool,
        _: &TokenHash,
    ) -> Result<Option<sqlx::postgres::PgRow>, sqlx::Error> {
        Ok(None)
    }

    async fn catch_up(&self, _: &sqlx::PgPool) -> Result<bool, sqlx::Error> {
        Ok(false)
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

impl PgStore {
    /// Listens on the changes channel and wakes `waiter` on every
    /// notification. A dropped connection is re-established (and the waiter
    /// woken, since notifications may have been missed meanwhile); polling
    /// the change counter covers any gap.
    fn listen_for_changes(&self, waiter: std::sync::Arc<tokio::sync::Notify>) {
        let pool = self.write.clone();
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

impl PgStore {
    pub(crate) async fn open(url: &str, options: &StoreOptions) -> Result<Self, OpenError> {
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.timeout)
            .connect(url)
            .await
            .map_err(OpenError::Connect)?;
        // sqlx holds an advisory lock while migrating, so nodes starting
        // together apply each migration exactly once.
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        Ok(Self::from_pools(pool.clone(), pool, std::sync::Arc::new(TokensTable)))
    }
}
