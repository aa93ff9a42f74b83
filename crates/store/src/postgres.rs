//! The PostgreSQL backend, for several nodes sharing one database.

use sqlx::postgres::PgPoolOptions;

use crate::{OpenError, StoreOptions};

crate::backend::sql_store!(PgStore, sqlx::Postgres);

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
        Ok(Self::from_pools(pool.clone(), pool))
    }
}
