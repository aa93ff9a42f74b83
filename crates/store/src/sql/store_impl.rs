//! The core's storage traits implemented once for [`SqlStore`], instantiated
//! per sqlx driver by `sql_store!` (invoked in `sqlite/mod.rs` and
//! `postgres.rs`). A macro rather than generics because sqlx's generic
//! bounds would bury the SQL under trait plumbing; the SQL text itself is
//! shared through `queries`. Everything the macro brings into scope stays
//! inside the anonymous `const` block it expands to: nothing leaks into the
//! module that invokes it.
//!
//! Every write runs on a connection taken from the writer pool for that
//! write alone, and a connection on which a write failed is closed rather
//! than returned: after a failed COMMIT (a full disk, an I/O error) SQLite
//! may keep the transaction open, and statements run later on that
//! connection would silently join it and never be committed.

macro_rules! sql_store {
    ($driver:ty, $db:ty) => {
        const _: () = {
            use std::collections::BTreeMap;
            use std::sync::Arc;

            use async_trait::async_trait;
            use sqlx::Row as _;
            use time::OffsetDateTime;
            use tollgate_core::StoreError;
            use tollgate_core::model::{
                AccessKeyInfo, AccessKeyLookup, AccessKeyRecord, AccessKeyState, ApiKeyInfo, ApiKeyLookup,
                ApiKeyRecord, CredentialId, NewPrincipal, Principal, PrincipalId, PrincipalProfile,
                RefreshLookup, RefreshRecord, StoredPassword, TokenKind, TokenLookup, TokenRecord,
            };
            use tollgate_core::secret::TokenHash;
            use tollgate_core::signing_keys::{SigningAlgorithm, SigningKeyRecord};
            use tollgate_core::store::{
                CredentialStore, Database, KeyStore, NewSession, PrincipalStore, Rotation, Swept, TokenStore,
            };
            use tollgate_core::time_util::{from_millis, to_millis};
            use uuid::Uuid;

            use crate::error::{store_error, write_error};
            use crate::group_commit::GroupCommit;
            use crate::sql::queries as q;
            use crate::sql::{
                AccessTokens as _, Driver, MAX_BATCH, ROWS_PER_INSERT, SqlStore, WriteHealth, WriteOp,
                json_list, json_map, token_insert,
            };

            type This = SqlStore<$driver>;
            type Db = $db;
            type Tokens = <$driver as Driver>::Tokens;
            type Conn = <$db as sqlx::Database>::Connection;
            type DbRow = <$db as sqlx::Database>::Row;
            type PoolConn = sqlx::pool::PoolConnection<$db>;

            impl This {
                /// Gives principals from before folded names their key. Two old
                /// names that fold alike both stay (nothing is taken from
                /// anyone): the second gets a key no name folds to, and a
                /// warning says which.
                pub(crate) async fn fill_in_name_keys(&self) -> Result<(), sqlx::Error> {
                    loop {
                        let rows = sqlx::query(q::PRINCIPALS_WITHOUT_NAME_KEY).fetch_all(&self.write).await?;
                        if rows.is_empty() {
                            return Ok(());
                        }
                        for row in rows {
                            let (id, name): (Uuid, String) = (row.try_get("id")?, row.try_get("name")?);
                            let key = tollgate_core::names::collision_key(&name);
                            let taken = sqlx::query(&q::PRINCIPAL_BY_NAME_KEY)
                                .bind(key.as_str())
                                .fetch_optional(&self.write)
                                .await?;
                            let key = match taken {
                                None => key,
                                Some(other) => {
                                    let other: String = other.try_get("name")?;
                                    tracing::warn!(
                                        name = %name,
                                        other = %other,
                                        "two principals' names differ only in letter case or form; \
                            rename one (new names like these are refused)"
                                    );
                                    format!("\u{0}clash:{id}")
                                }
                            };
                            sqlx::query(q::SET_NAME_KEY).bind(id).bind(key).execute(&self.write).await?;
                        }
                    }
                }

                pub(crate) fn from_pools(
                    read: sqlx::Pool<$db>,
                    write: sqlx::Pool<$db>,
                    tokens: Arc<Tokens>,
                    driver: $driver,
                ) -> Self {
                    let health = Arc::new(WriteHealth::default());
                    let (pool, batch_tokens, batch_health) = (write.clone(), tokens.clone(), health.clone());
                    let in_flight = <Tokens as crate::sql::AccessTokens<$db>>::BATCHES_IN_FLIGHT;
                    let commits = GroupCommit::spawn(MAX_BATCH, in_flight, move |ops: Arc<[WriteOp]>| {
                        let (pool, tokens, health) =
                            (pool.clone(), batch_tokens.clone(), batch_health.clone());
                        async move {
                            let result = match health.lost() {
                                Some(lost) => Err(lost),
                                None => write_batch(&pool, &tokens, &ops).await,
                            };
                            health.record(&result);
                            result
                        }
                    });
                    Self { read, write, commits, tokens, driver, health }
                }

                /// Runs one write on a writer connection of its own; the
                /// connection is closed if the write fails (see the module
                /// documentation), and the store's health follows the result.
                async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
                where
                    F: for<'c> FnOnce(
                            &'c mut Conn,
                        ) -> std::pin::Pin<
                            Box<dyn std::future::Future<Output = Result<T, sqlx::Error>> + Send + 'c>,
                        > + Send,
                    T: Send,
                {
                    if let Some(lost) = self.health.lost() {
                        return Err(lost);
                    }
                    let mut conn = self.write.acquire().await.map_err(write_error)?;
                    let result = work(&mut conn).await;
                    if result.is_err() {
                        conn.close_on_drop();
                    }
                    let result = result.map_err(write_error);
                    self.health.record(&result.as_ref().map(|_| ()).map_err(Clone::clone));
                    result
                }

                /// Runs each statement with (`id`, `at`) and bumps the change
                /// counter in one transaction; `true` if any row matched.
                async fn execute_and_bump(
                    &self,
                    statements: &'static [&'static str],
                    id: Uuid,
                    at: i64,
                ) -> Result<bool, StoreError> {
                    self.write(move |conn| {
                        Box::pin(async move {
                            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                            let mut matched = 0;
                            for sql in statements {
                                matched += sqlx::query(sql)
                                    .bind(id)
                                    .bind(at)
                                    .execute(&mut *tx)
                                    .await?
                                    .rows_affected();
                            }
                            bump_changes(&mut tx).await?;
                            tx.commit().await?;
                            Ok(matched > 0)
                        })
                    })
                    .await
                }
            }

            /// One transaction for the whole batch, and one multi-row INSERT
            /// per table: a statement per row would cost a round trip per row.
            async fn write_batch(
                pool: &sqlx::Pool<$db>,
                placement: &Tokens,
                ops: &[WriteOp],
            ) -> Result<(), StoreError> {
                let mut conn: PoolConn = pool.acquire().await.map_err(write_error)?;
                let result = write_batch_on(&mut conn, placement, ops).await;
                if result.is_err() {
                    conn.close_on_drop();
                }
                result.map_err(write_error)
            }

            async fn write_batch_on(
                conn: &mut Conn,
                placement: &Tokens,
                ops: &[WriteOp],
            ) -> Result<(), sqlx::Error> {
                let mut sessions = Vec::new();
                let mut tokens = Vec::with_capacity(ops.len());
                let mut refreshes = Vec::new();
                for op in ops {
                    match op {
                        WriteOp::Token(token) => tokens.push(token),
                        WriteOp::Session(new) => {
                            sessions.push(new);
                            tokens.push(&new.token);
                            refreshes.push(&new.refresh);
                        }
                    }
                }
                // The common case (API-key logins): one statement is atomic
                // on its own, so it needs no BEGIN/COMMIT round trips.
                if sessions.is_empty() && tokens.len() <= ROWS_PER_INSERT {
                    let appended = placement.append(&mut *conn, &tokens).await?;
                    placement.remember(appended);
                    return Ok(());
                }
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                for chunk in sessions.chunks(ROWS_PER_INSERT) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO sessions (id, principal_id, created_at, expires_at) ",
                    );
                    insert.push_values(chunk, |mut row, new| {
                        row.push_bind(new.session.id)
                            .push_bind(new.session.principal_id.0)
                            .push_bind(to_millis(new.session.created_at))
                            .push_bind(to_millis(new.token.expires_at.max(new.refresh.expires_at)));
                    });
                    insert.build().execute(&mut *tx).await?;
                }
                let mut appended = Vec::new();
                for chunk in tokens.chunks(ROWS_PER_INSERT) {
                    appended.push(placement.append(&mut *tx, chunk).await?);
                }
                for chunk in refreshes.chunks(ROWS_PER_INSERT) {
                    insert_refreshes(&mut *tx, chunk).await?;
                }
                tx.commit().await?;
                appended.into_iter().for_each(|a| placement.remember(a));
                Ok(())
            }

            /// One multi-row INSERT of access tokens into `tokens`.
            async fn insert_tokens<'e, E>(executor: E, tokens: &[&TokenRecord]) -> Result<(), sqlx::Error>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                token_insert::<$db>("tokens", tokens).build().execute(executor).await?;
                Ok(())
            }

            /// One multi-row INSERT of refresh tokens.
            async fn insert_refreshes<'e, E>(
                executor: E,
                refreshes: &[&RefreshRecord],
            ) -> Result<(), sqlx::Error>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                let mut insert = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO refresh_tokens (hash, session_id, issued_at, expires_at) ",
                );
                insert.push_values(refreshes, |mut row, r| {
                    row.push_bind(r.hash.as_bytes().to_vec())
                        .push_bind(r.session_id)
                        .push_bind(to_millis(r.issued_at))
                        .push_bind(to_millis(r.expires_at));
                });
                insert.build().execute(executor).await?;
                Ok(())
            }

            async fn bump_changes(conn: &mut Conn) -> Result<(), sqlx::Error> {
                sqlx::query(q::BUMP_CHANGES).execute(&mut *conn).await?;
                if let Some(sql) = <$driver as Driver>::ANNOUNCE {
                    sqlx::query(sql).execute(&mut *conn).await?;
                }
                Ok(())
            }

            fn opt_time(ms: Option<i64>) -> Option<OffsetDateTime> {
                ms.map(from_millis)
            }

            fn principal_from_row(row: &DbRow) -> Result<Principal, sqlx::Error> {
                let roles: String = row.try_get("roles")?;
                let attributes: String = row.try_get("attributes")?;
                Ok(Principal {
                    id: PrincipalId(row.try_get::<Uuid, _>("id")?),
                    name: row.try_get("name")?,
                    roles: serde_json::from_str(&roles).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                    realm: row.try_get("realm")?,
                    attributes: serde_json::from_str::<BTreeMap<String, String>>(&attributes)
                        .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                    enabled: row.try_get("enabled")?,
                    created_at: from_millis(row.try_get("created_at")?),
                    tokens_revoked_at: opt_time(row.try_get("tokens_revoked_at")?),
                    lockout: tollgate_core::protection::LockState {
                        failures: u32::try_from(row.try_get::<i64, _>("failed_logins")?).unwrap_or(0),
                        level: u32::try_from(row.try_get::<i64, _>("lockout_level")?).unwrap_or(0),
                        locked_until: opt_time(row.try_get("locked_until")?),
                        last_failure: opt_time(row.try_get("last_failed_at")?),
                    },
                    password_format: row.try_get("password_format")?,
                })
            }

            fn decode_state(text: &str) -> Result<AccessKeyState, sqlx::Error> {
                AccessKeyState::parse(text)
                    .ok_or_else(|| sqlx::Error::Decode(format!("access key state {text:?}").into()))
            }

            fn access_key_info_from_row(row: &DbRow) -> Result<AccessKeyInfo, sqlx::Error> {
                Ok(AccessKeyInfo {
                    id: CredentialId(row.try_get("id")?),
                    principal_name: row.try_get("name")?,
                    access_key: row.try_get("access_key")?,
                    state: decode_state(&row.try_get::<String, _>("state")?)?,
                    created_at: from_millis(row.try_get("created_at")?),
                    expires_at: opt_time(row.try_get("expires_at")?),
                    last_used_at: opt_time(row.try_get("last_used_at")?),
                })
            }

            fn legacy_secret(row: &DbRow) -> Result<Option<StoredPassword>, sqlx::Error> {
                let format: Option<String> = row.try_get("secret_format")?;
                let hash: Option<String> = row.try_get("secret_legacy")?;
                Ok(format.zip(hash).map(|(format, hash)| StoredPassword { format, hash }))
            }

            fn access_key_from_row(row: &DbRow) -> Result<AccessKeyLookup, sqlx::Error> {
                let secret_hash: Vec<u8> = row.try_get("secret_hash")?;
                Ok(AccessKeyLookup {
                    id: CredentialId(row.try_get("key_id")?),
                    access_key: row.try_get("access_key")?,
                    principal: principal_from_row(row)?,
                    secret_hash: secret_hash
                        .try_into()
                        .map_err(|_| sqlx::Error::Decode("secret hash is not 32 bytes".into()))?,
                    legacy_secret: legacy_secret(row)?,
                    state: decode_state(&row.try_get::<String, _>("state")?)?,
                    expires_at: opt_time(row.try_get("key_expires_at")?),
                    tokens_revoked_at: opt_time(row.try_get("key_tokens_revoked_at")?),
                })
            }

            fn new_principal_query<'q>(
                sql: &'q str,
                new: &'q NewPrincipal,
            ) -> sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>> {
                sqlx::query(sql)
                    .bind(new.id.0)
                    .bind(new.name.as_str())
                    .bind(json_list(&new.roles))
                    .bind(new.realm.as_deref())
                    .bind(json_map(&new.attributes))
                    .bind(new.password.as_ref().map(|password| password.hash.as_str()))
                    .bind(to_millis(new.created_at))
                    .bind(new.name_key.as_str())
                    .bind(new.password.as_ref().map(|password| password.format.as_str()))
                    .bind(new.enabled)
            }

            crate::sql::import_store!();

            #[async_trait]
            impl Database for This {
                fn connections(&self) -> tollgate_core::store::Connections {
                    let idle = self.read.num_idle() + self.write.num_idle();
                    tollgate_core::store::Connections {
                        open: u64::from(self.read.size() + self.write.size()),
                        idle: u64::try_from(idle).unwrap_or(u64::MAX),
                    }
                }

                async fn ping(&self) -> Result<(), StoreError> {
                    match self.health.readiness() {
                        crate::sql::Readiness::Failing(err) => return Err(err),
                        // Writes failed and none was tried since: only a
                        // write shows whether they work again.
                        crate::sql::Readiness::Unproven => {
                            self.write(|conn| {
                                Box::pin(async move {
                                    sqlx::query(q::PROBE_WRITE).execute(conn).await?;
                                    Ok(())
                                })
                            })
                            .await?;
                        }
                        crate::sql::Readiness::Ready => {}
                    }
                    sqlx::query("SELECT 1").execute(&self.read).await.map_err(store_error)?;
                    Ok(())
                }

                async fn change_counter(&self) -> Result<i64, StoreError> {
                    sqlx::query_scalar(q::CHANGE_COUNTER).fetch_one(&self.read).await.map_err(store_error)
                }

                fn announce_changes(&self, waiter: Arc<tokio::sync::Notify>) {
                    self.driver.listen_for_changes(&self.write, waiter);
                }
            }

            #[async_trait]
            impl PrincipalStore for This {
                async fn create_principal(&self, new: NewPrincipal) -> Result<Principal, StoreError> {
                    let new = Arc::new(new);
                    let insert = Arc::clone(&new);
                    self.write(move |conn| {
                        Box::pin(async move {
                            new_principal_query(q::INSERT_PRINCIPAL, &insert).execute(conn).await?;
                            Ok(())
                        })
                    })
                    .await?;
                    Ok(Principal {
                        id: new.id,
                        name: new.name.clone(),
                        roles: new.roles.clone(),
                        realm: new.realm.clone(),
                        attributes: new.attributes.clone(),
                        enabled: new.enabled,
                        created_at: new.created_at,
                        tokens_revoked_at: None,
                        lockout: tollgate_core::protection::LockState::default(),
                        password_format: new.password.as_ref().map(|password| password.format.clone()),
                    })
                }

                async fn create_principal_if_absent(&self, new: NewPrincipal) -> Result<bool, StoreError> {
                    self.write(move |conn| {
                        Box::pin(async move {
                            let done = new_principal_query(q::INSERT_PRINCIPAL_IF_ABSENT, &new)
                                .execute(conn)
                                .await?;
                            Ok(done.rows_affected() == 1)
                        })
                    })
                    .await
                }

                async fn principal_by_name(&self, name: &str) -> Result<Option<Principal>, StoreError> {
                    Ok(self.password_of(name).await?.map(|(p, _)| p))
                }

                async fn principal_by_id(&self, id: PrincipalId) -> Result<Option<Principal>, StoreError> {
                    let row = sqlx::query(&q::PRINCIPAL_BY_ID)
                        .bind(id.0)
                        .fetch_optional(&self.read)
                        .await
                        .map_err(store_error)?;
                    row.as_ref().map(principal_from_row).transpose().map_err(store_error)
                }

                async fn search_principals(
                    &self,
                    prefix: &str,
                    after: Option<&str>,
                    limit: u32,
                ) -> Result<Vec<Principal>, StoreError> {
                    let rows = sqlx::query(&q::SEARCH_PRINCIPALS)
                        .bind(prefix)
                        .bind(after)
                        .bind(i64::from(limit))
                        .fetch_all(&self.read)
                        .await
                        .map_err(store_error)?;
                    rows.iter().map(principal_from_row).collect::<Result<_, _>>().map_err(store_error)
                }

                async fn update_profile(
                    &self,
                    id: PrincipalId,
                    profile: &PrincipalProfile,
                ) -> Result<bool, StoreError> {
                    let (roles, realm, attributes) =
                        (json_list(&profile.roles), profile.realm.clone(), json_map(&profile.attributes));
                    self.write(move |conn| {
                        Box::pin(async move {
                            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                            let matched = sqlx::query(q::UPDATE_PROFILE)
                                .bind(id.0)
                                .bind(roles)
                                .bind(realm)
                                .bind(attributes)
                                .execute(&mut *tx)
                                .await?
                                .rows_affected();
                            bump_changes(&mut tx).await?;
                            tx.commit().await?;
                            Ok(matched > 0)
                        })
                    })
                    .await
                }

                async fn principal_by_collision_key(
                    &self,
                    key: &str,
                ) -> Result<Option<Principal>, StoreError> {
                    let row = sqlx::query(&q::PRINCIPAL_BY_NAME_KEY)
                        .bind(key)
                        .fetch_optional(&self.read)
                        .await
                        .map_err(store_error)?;
                    row.as_ref().map(principal_from_row).transpose().map_err(store_error)
                }

                async fn password_of(
                    &self,
                    name: &str,
                ) -> Result<Option<(Principal, Option<StoredPassword>)>, StoreError> {
                    let row = sqlx::query(&q::PRINCIPAL_BY_NAME)
                        .bind(name)
                        .fetch_optional(&self.read)
                        .await
                        .map_err(store_error)?;
                    row.map(|row| {
                        let principal = principal_from_row(&row)?;
                        let hash: Option<String> = row.try_get("password_hash")?;
                        let password = hash.map(|hash| StoredPassword {
                            format: principal
                                .password_format
                                .clone()
                                .unwrap_or_else(|| StoredPassword::ARGON2ID.to_owned()),
                            hash,
                        });
                        Ok((principal, password))
                    })
                    .transpose()
                    .map_err(store_error)
                }

                async fn list_principals(&self) -> Result<Vec<Principal>, StoreError> {
                    let rows =
                        sqlx::query(&q::LIST_PRINCIPALS).fetch_all(&self.read).await.map_err(store_error)?;
                    rows.iter().map(principal_from_row).collect::<Result<_, _>>().map_err(store_error)
                }

                async fn set_enabled(
                    &self,
                    id: PrincipalId,
                    enabled: bool,
                    at: OffsetDateTime,
                ) -> Result<(), StoreError> {
                    self.write(move |conn| {
                        Box::pin(async move {
                            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                            sqlx::query(q::SET_ENABLED)
                                .bind(id.0)
                                .bind(enabled)
                                .bind(to_millis(at))
                                .execute(&mut *tx)
                                .await?;
                            bump_changes(&mut tx).await?;
                            tx.commit().await
                        })
                    })
                    .await
                }

                async fn set_password(
                    &self,
                    id: PrincipalId,
                    password: Option<StoredPassword>,
                ) -> Result<(), StoreError> {
                    let (format, hash) = match password {
                        Some(password) => (Some(password.format), Some(password.hash)),
                        None => (None, None),
                    };
                    self.write(move |conn| {
                        Box::pin(async move {
                            sqlx::query(q::SET_PASSWORD)
                                .bind(id.0)
                                .bind(hash)
                                .bind(format)
                                .execute(conn)
                                .await?;
                            Ok(())
                        })
                    })
                    .await
                }

                async fn upgrade_password(
                    &self,
                    id: PrincipalId,
                    from: &str,
                    to: StoredPassword,
                ) -> Result<bool, StoreError> {
                    let from = from.to_owned();
                    self.write(move |conn| {
                        Box::pin(async move {
                            let done = sqlx::query(q::UPGRADE_PASSWORD)
                                .bind(id.0)
                                .bind(from)
                                .bind(to.hash)
                                .bind(to.format)
                                .execute(conn)
                                .await?;
                            Ok(done.rows_affected() == 1)
                        })
                    })
                    .await
                }

                async fn legacy_credentials(&self) -> Result<Vec<(String, u64)>, StoreError> {
                    let mut counts: std::collections::BTreeMap<String, u64> = Default::default();
                    for sql in [q::LEGACY_PASSWORDS, q::LEGACY_SECRETS] {
                        let rows = sqlx::query(sql).fetch_all(&self.read).await.map_err(store_error)?;
                        for row in rows {
                            let format: String = row.try_get("format").map_err(store_error)?;
                            let left: i64 = row.try_get("left_over").map_err(store_error)?;
                            *counts.entry(format).or_default() += u64::try_from(left).unwrap_or(0);
                        }
                    }
                    Ok(counts.into_iter().collect())
                }

                async fn remove_principal(&self, id: PrincipalId) -> Result<(), StoreError> {
                    self.write(move |conn| {
                        Box::pin(async move {
                            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                            for sql in <Tokens as crate::sql::AccessTokens<$db>>::DELETE_PRINCIPAL_TOKENS {
                                sqlx::query(sql).bind(id.0).execute(&mut *tx).await?;
                            }
                            // Foreign keys cascade to its keys, sessions and
                            // their refresh tokens.
                            sqlx::query(q::REMOVE_PRINCIPAL).bind(id.0).execute(&mut *tx).await?;
                            bump_changes(&mut tx).await?;
                            tx.commit().await
                        })
                    })
                    .await
                }

                async fn save_lockouts(
                    &self,
                    states: &[(PrincipalId, tollgate_core::protection::LockState)],
                ) -> Result<(), StoreError> {
                    let states = states.to_vec();
                    self.write(move |conn| {
                        Box::pin(async move {
                            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                            for (id, state) in states {
                                sqlx::query(q::SAVE_LOCKOUT)
                                    .bind(id.0)
                                    .bind(i64::from(state.failures))
                                    .bind(i64::from(state.level))
                                    .bind(state.locked_until.map(to_millis))
                                    .bind(state.last_failure.map(to_millis))
                                    .execute(&mut *tx)
                                    .await?;
                            }
                            tx.commit().await
                        })
                    })
                    .await
                }

                async fn lockouts(&self, now: OffsetDateTime) -> Result<Vec<Principal>, StoreError> {
                    let rows = sqlx::query(&q::LOCKOUTS)
                        .bind(to_millis(now))
                        .fetch_all(&self.read)
                        .await
                        .map_err(store_error)?;
                    rows.iter().map(principal_from_row).collect::<Result<_, _>>().map_err(store_error)
                }

                async fn revoke_principal_tokens(
                    &self,
                    id: PrincipalId,
                    at: OffsetDateTime,
                ) -> Result<(), StoreError> {
                    self.execute_and_bump(&[q::REVOKE_PRINCIPAL_TOKENS], id.0, to_millis(at))
                        .await
                        .map(|_| ())
                }
            }

            #[async_trait]
            impl TokenStore for This {
                async fn insert_session(&self, new: NewSession) -> Result<(), StoreError> {
                    self.commits.submit(WriteOp::Session(new)).await
                }

                async fn insert_token(&self, token: TokenRecord) -> Result<(), StoreError> {
                    self.commits.submit(WriteOp::Token(token)).await
                }

                async fn find_token(&self, hash: &TokenHash) -> Result<Option<TokenLookup>, StoreError> {
                    let lookup = async {
                        if let Some(row) = self.tokens.find(&self.read, hash).await? {
                            return Ok(Some(row));
                        }
                        let row = sqlx::query(&q::FIND_TOKEN)
                            .bind(hash.as_bytes())
                            .fetch_optional(&self.read)
                            .await?;
                        if row.is_none() {
                            // Asked again even when this call found nothing
                            // new: a catch-up running meanwhile (the one at
                            // start) may have indexed the token since the
                            // first look.
                            self.tokens.catch_up(&self.read).await?;
                            return self.tokens.find(&self.read, hash).await;
                        }
                        Ok(row)
                    };
                    let Some(row) = lookup.await.map_err(store_error)? else { return Ok(None) };
                    let decode = || -> Result<TokenLookup, sqlx::Error> {
                        let kind: i16 = row.try_get("kind")?;
                        let revoked: Option<i64> = row.try_get("revoked_at")?;
                        let session_revoked: Option<i64> = row.try_get("session_revoked_at")?;
                        let key_revoked: Option<i64> = row.try_get("key_revoked_at")?;
                        let key_tokens_revoked: Option<i64> = row.try_get("key_tokens_revoked_at")?;
                        let issued_at: i64 = row.try_get("issued_at")?;
                        Ok(TokenLookup {
                            kind: TokenKind::from_code(kind)
                                .ok_or_else(|| sqlx::Error::Decode(format!("token kind {kind}").into()))?,
                            principal: principal_from_row(&row)?,
                            issued_at: from_millis(issued_at),
                            expires_at: from_millis(row.try_get("expires_at")?),
                            revoked: revoked.is_some()
                                || session_revoked.is_some()
                                || key_revoked.is_some()
                                || key_tokens_revoked.is_some_and(|at| issued_at <= at),
                            credential_expires_at: opt_time(row.try_get("key_expires_at")?),
                        })
                    };
                    decode().map(Some).map_err(store_error)
                }

                async fn find_refresh(&self, hash: &TokenHash) -> Result<Option<RefreshLookup>, StoreError> {
                    let row = sqlx::query(&q::FIND_REFRESH)
                        .bind(hash.as_bytes())
                        .fetch_optional(&self.read)
                        .await
                        .map_err(store_error)?;
                    let Some(row) = row else { return Ok(None) };
                    let decode = || -> Result<RefreshLookup, sqlx::Error> {
                        let session_revoked: Option<i64> = row.try_get("session_revoked_at")?;
                        Ok(RefreshLookup {
                            session_id: row.try_get("session_id")?,
                            principal: principal_from_row(&row)?,
                            issued_at: from_millis(row.try_get("issued_at")?),
                            expires_at: from_millis(row.try_get("expires_at")?),
                            spent_at: opt_time(row.try_get("spent_at")?),
                            successor: row.try_get("successor")?,
                            session_revoked: session_revoked.is_some(),
                        })
                    };
                    decode().map(Some).map_err(store_error)
                }

                async fn rotate_refresh(&self, rotation: Rotation) -> Result<bool, StoreError> {
                    self.write(move |conn| {
                        Box::pin(async move {
                            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                            let spent = sqlx::query(q::SPEND_REFRESH)
                                .bind(rotation.spent.as_bytes())
                                .bind(to_millis(rotation.spent_at))
                                .bind(rotation.successor.as_deref())
                                .execute(&mut *tx)
                                .await?;
                            if spent.rows_affected() != 1 {
                                return Ok(false);
                            }
                            insert_tokens(&mut *tx, &[&rotation.token]).await?;
                            insert_refreshes(&mut *tx, &[&rotation.refresh]).await?;
                            sqlx::query(q::EXTEND_SESSION)
                                .bind(rotation.refresh.session_id)
                                .bind(to_millis(rotation.token.expires_at.max(rotation.refresh.expires_at)))
                                .execute(&mut *tx)
                                .await?;
                            tx.commit().await?;
                            Ok(true)
                        })
                    })
                    .await
                }

                async fn revoke_token(
                    &self,
                    hash: &TokenHash,
                    at: OffsetDateTime,
                ) -> Result<bool, StoreError> {
                    // A token another process issued may be unknown here yet.
                    self.tokens.catch_up(&self.read).await.map_err(store_error)?;
                    let (hash, at) = (*hash, to_millis(at));
                    let tokens = Arc::clone(&self.tokens);
                    self.write(move |conn| {
                        Box::pin(async move {
                            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                            // Both: a merge may be copying the token into `tokens`.
                            let mut found = sqlx::query(q::REVOKE_TOKEN)
                                .bind(hash.as_bytes())
                                .bind(at)
                                .execute(&mut *tx)
                                .await?
                                .rows_affected();
                            found += tokens.revoke(&mut tx, &hash, at).await?;
                            if found == 0 {
                                found = sqlx::query(q::REVOKE_SESSION_OF_REFRESH)
                                    .bind(hash.as_bytes())
                                    .bind(at)
                                    .execute(&mut *tx)
                                    .await?
                                    .rows_affected();
                            }
                            bump_changes(&mut tx).await?;
                            tx.commit().await?;
                            Ok(found > 0)
                        })
                    })
                    .await
                }

                async fn revoke_session(&self, session: Uuid, at: OffsetDateTime) -> Result<(), StoreError> {
                    self.execute_and_bump(&[q::REVOKE_SESSION], session, to_millis(at)).await.map(|_| ())
                }

                async fn revoke_jwt(&self, jti: Uuid, expires_at: OffsetDateTime) -> Result<(), StoreError> {
                    self.execute_and_bump(&[q::REVOKE_JWT], jti, to_millis(expires_at)).await.map(|_| ())
                }

                async fn is_jwt_revoked(&self, jti: Uuid) -> Result<bool, StoreError> {
                    let count: i64 = sqlx::query_scalar(q::IS_JWT_REVOKED)
                        .bind(jti)
                        .fetch_one(&self.read)
                        .await
                        .map_err(store_error)?;
                    Ok(count > 0)
                }

                async fn holds_tokens(&self) -> Result<bool, StoreError> {
                    let tables =
                        <Tokens as crate::sql::AccessTokens<$db>>::TABLES.iter().chain(&["refresh_tokens"]);
                    for table in tables {
                        let sql = format!("SELECT EXISTS (SELECT 1 FROM {table})");
                        if sqlx::query_scalar::<_, bool>(&sql)
                            .fetch_one(&self.read)
                            .await
                            .map_err(store_error)?
                        {
                            return Ok(true);
                        }
                    }
                    Ok(false)
                }

                async fn sweep_expired(
                    &self,
                    before: OffsetDateTime,
                    batch: i64,
                ) -> Result<Swept, StoreError> {
                    let before = to_millis(before);
                    let (tokens, more) = self
                        .tokens
                        .sweep(&self.read, &self.write, before, batch)
                        .await
                        .map_err(write_error)?;
                    let mut swept = Swept { deleted: tokens, more };
                    for sql in [q::SWEEP_REFRESH, q::SWEEP_REVOKED_JWTS, q::SWEEP_SESSIONS] {
                        let deleted = self
                            .write(move |conn| {
                                Box::pin(async move {
                                    Ok(sqlx::query(sql)
                                        .bind(before)
                                        .bind(batch)
                                        .execute(conn)
                                        .await?
                                        .rows_affected())
                                })
                            })
                            .await?;
                        swept.deleted += deleted;
                        swept.more |= deleted >= u64::try_from(batch).unwrap_or(0);
                    }
                    Ok(swept)
                }
            }

            #[async_trait]
            impl CredentialStore for This {
                async fn credentials_created_since(
                    &self,
                    since: Option<OffsetDateTime>,
                ) -> Result<tollgate_core::store::CreatedCredentials, StoreError> {
                    let since = since.map(to_millis);
                    let read = async {
                        let mut found = tollgate_core::store::CreatedCredentials::default();
                        let mut newest: Option<i64> = None;
                        for row in
                            sqlx::query(q::API_KEYS_CREATED_SINCE).bind(since).fetch_all(&self.read).await?
                        {
                            let hash: Vec<u8> = row.try_get("key_hash")?;
                            if let Ok(hash) = <[u8; 32]>::try_from(hash) {
                                found.api_key_hashes.push(hash);
                            }
                            newest = newest.max(Some(row.try_get("created_at")?));
                        }
                        for row in sqlx::query(q::ACCESS_KEYS_CREATED_SINCE)
                            .bind(since)
                            .fetch_all(&self.read)
                            .await?
                        {
                            found.access_keys.push(row.try_get("access_key")?);
                            newest = newest.max(Some(row.try_get("created_at")?));
                        }
                        found.newest = newest.map(from_millis);
                        Ok::<_, sqlx::Error>(found)
                    };
                    read.await.map_err(store_error)
                }

                async fn insert_api_key(&self, key: ApiKeyRecord) -> Result<bool, StoreError> {
                    self.write(move |conn| {
                        Box::pin(async move {
                            let done = sqlx::query(q::INSERT_API_KEY)
                                .bind(key.id.0)
                                .bind(key.principal_id.0)
                                .bind(&key.key_hash[..])
                                .bind(to_millis(key.created_at))
                                .bind(key.expires_at.map(to_millis))
                                .execute(conn)
                                .await?;
                            Ok(done.rows_affected() == 1)
                        })
                    })
                    .await
                }

                async fn find_api_key(
                    &self,
                    key_hash: &[u8; 32],
                ) -> Result<Option<ApiKeyLookup>, StoreError> {
                    let row = sqlx::query(&q::FIND_API_KEY)
                        .bind(&key_hash[..])
                        .fetch_optional(&self.read)
                        .await
                        .map_err(store_error)?;
                    let Some(row) = row else { return Ok(None) };
                    let decode = || -> Result<ApiKeyLookup, sqlx::Error> {
                        let revoked: Option<i64> = row.try_get("key_revoked_at")?;
                        Ok(ApiKeyLookup {
                            id: CredentialId(row.try_get("key_id")?),
                            principal: principal_from_row(&row)?,
                            expires_at: opt_time(row.try_get("key_expires_at")?),
                            revoked: revoked.is_some(),
                        })
                    };
                    decode().map(Some).map_err(store_error)
                }

                async fn list_api_keys(&self, principal: PrincipalId) -> Result<Vec<ApiKeyInfo>, StoreError> {
                    let rows = sqlx::query(q::LIST_API_KEYS)
                        .bind(principal.0)
                        .fetch_all(&self.read)
                        .await
                        .map_err(store_error)?;
                    let decode = |row: &DbRow| -> Result<ApiKeyInfo, sqlx::Error> {
                        Ok(ApiKeyInfo {
                            id: CredentialId(row.try_get("id")?),
                            principal_name: row.try_get("name")?,
                            created_at: from_millis(row.try_get("created_at")?),
                            expires_at: opt_time(row.try_get("expires_at")?),
                            revoked_at: opt_time(row.try_get("revoked_at")?),
                            last_used_at: opt_time(row.try_get("last_used_at")?),
                        })
                    };
                    rows.iter().map(decode).collect::<Result<_, _>>().map_err(store_error)
                }

                async fn revoke_api_key(
                    &self,
                    id: CredentialId,
                    at: OffsetDateTime,
                ) -> Result<bool, StoreError> {
                    self.execute_and_bump(&[q::REVOKE_API_KEY], id.0, to_millis(at)).await
                }

                async fn revoke_credential_tokens(
                    &self,
                    id: CredentialId,
                    at: OffsetDateTime,
                ) -> Result<bool, StoreError> {
                    const STATEMENTS: &[&str] = &[q::REVOKE_API_KEY_TOKENS, q::REVOKE_ACCESS_KEY_TOKENS];
                    self.execute_and_bump(STATEMENTS, id.0, to_millis(at)).await
                }

                async fn insert_access_key(&self, key: AccessKeyRecord) -> Result<bool, StoreError> {
                    self.write(move |conn| {
                        Box::pin(async move {
                            let done = sqlx::query(q::INSERT_ACCESS_KEY)
                                .bind(key.id.0)
                                .bind(key.principal_id.0)
                                .bind(key.access_key.as_str())
                                .bind(&key.secret_hash[..])
                                .bind(key.state.as_str())
                                .bind(to_millis(key.created_at))
                                .bind(key.expires_at.map(to_millis))
                                .bind(key.legacy_secret.as_ref().map(|legacy| legacy.format.clone()))
                                .bind(key.legacy_secret.as_ref().map(|legacy| legacy.hash.clone()))
                                .execute(conn)
                                .await?;
                            Ok(done.rows_affected() == 1)
                        })
                    })
                    .await
                }

                async fn find_access_key(
                    &self,
                    access_key: &str,
                ) -> Result<Option<AccessKeyLookup>, StoreError> {
                    let row = sqlx::query(&q::FIND_ACCESS_KEY)
                        .bind(access_key)
                        .fetch_optional(&self.read)
                        .await
                        .map_err(store_error)?;
                    row.as_ref().map(access_key_from_row).transpose().map_err(store_error)
                }

                async fn find_access_key_by_id(
                    &self,
                    id: CredentialId,
                ) -> Result<Option<AccessKeyLookup>, StoreError> {
                    let row = sqlx::query(&q::FIND_ACCESS_KEY_BY_ID)
                        .bind(id.0)
                        .fetch_optional(&self.read)
                        .await
                        .map_err(store_error)?;
                    row.as_ref().map(access_key_from_row).transpose().map_err(store_error)
                }

                async fn list_access_keys(
                    &self,
                    principal: Option<PrincipalId>,
                ) -> Result<Vec<AccessKeyInfo>, StoreError> {
                    let query = match principal {
                        Some(id) => sqlx::query(&q::LIST_ACCESS_KEYS_OF).bind(id.0),
                        None => sqlx::query(&q::LIST_ACCESS_KEYS),
                    };
                    let rows = query.fetch_all(&self.read).await.map_err(store_error)?;
                    rows.iter().map(access_key_info_from_row).collect::<Result<_, _>>().map_err(store_error)
                }

                async fn upgrade_access_secret(
                    &self,
                    id: CredentialId,
                    from: &str,
                    secret_hash: [u8; 32],
                ) -> Result<bool, StoreError> {
                    let from = from.to_owned();
                    self.write(move |conn| {
                        Box::pin(async move {
                            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                            let done = sqlx::query(q::UPGRADE_ACCESS_SECRET)
                                .bind(id.0)
                                .bind(from)
                                .bind(&secret_hash[..])
                                .execute(&mut *tx)
                                .await?;
                            // Every node's cached copy still holds the legacy hash.
                            bump_changes(&mut tx).await?;
                            tx.commit().await?;
                            Ok(done.rows_affected() == 1)
                        })
                    })
                    .await
                }

                async fn access_key_info(
                    &self,
                    id: CredentialId,
                ) -> Result<Option<AccessKeyInfo>, StoreError> {
                    let row = sqlx::query(&q::ACCESS_KEY_INFO)
                        .bind(id.0)
                        .fetch_optional(&self.read)
                        .await
                        .map_err(store_error)?;
                    row.as_ref().map(access_key_info_from_row).transpose().map_err(store_error)
                }

                async fn set_access_key_expiry(
                    &self,
                    id: CredentialId,
                    expires_at: Option<OffsetDateTime>,
                ) -> Result<bool, StoreError> {
                    let expires_at = expires_at.map(to_millis);
                    self.write(move |conn| {
                        Box::pin(async move {
                            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                            let matched = sqlx::query(q::SET_ACCESS_KEY_EXPIRY)
                                .bind(id.0)
                                .bind(expires_at)
                                .execute(&mut *tx)
                                .await?
                                .rows_affected();
                            bump_changes(&mut tx).await?;
                            tx.commit().await?;
                            Ok(matched > 0)
                        })
                    })
                    .await
                }

                async fn set_access_key_state(
                    &self,
                    id: CredentialId,
                    state: AccessKeyState,
                ) -> Result<bool, StoreError> {
                    self.write(move |conn| {
                        Box::pin(async move {
                            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                            let matched = sqlx::query(q::SET_ACCESS_KEY_STATE)
                                .bind(id.0)
                                .bind(state.as_str())
                                .execute(&mut *tx)
                                .await?
                                .rows_affected();
                            bump_changes(&mut tx).await?;
                            tx.commit().await?;
                            Ok(matched > 0)
                        })
                    })
                    .await
                }

                async fn touch_credentials(
                    &self,
                    used: &[(CredentialId, OffsetDateTime)],
                ) -> Result<(), StoreError> {
                    let used = used.to_vec();
                    self.write(move |conn| {
                        Box::pin(async move {
                            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                            for (id, at) in used {
                                for sql in [q::TOUCH_API_KEY, q::TOUCH_ACCESS_KEY] {
                                    sqlx::query(sql).bind(id.0).bind(to_millis(at)).execute(&mut *tx).await?;
                                }
                            }
                            tx.commit().await
                        })
                    })
                    .await
                }
            }

            #[async_trait]
            impl tollgate_core::store::AuditStore for This {
                async fn record_audit(
                    &self,
                    event: &tollgate_core::audit::AuditEvent,
                ) -> Result<(), StoreError> {
                    let event = event.clone();
                    self.write(move |conn| {
                        Box::pin(async move {
                            sqlx::query(q::INSERT_AUDIT)
                                .bind(to_millis(event.at))
                                .bind(event.actor)
                                .bind(event.action)
                                .bind(event.target)
                                .bind(event.source_ip.map(|ip| ip.to_string()))
                                .bind(event.details.map(|details| details.to_string()))
                                .execute(conn)
                                .await?;
                            Ok(())
                        })
                    })
                    .await
                }

                async fn list_audit(
                    &self,
                    query: &tollgate_core::audit::AuditQuery,
                ) -> Result<Vec<tollgate_core::audit::AuditRecord>, StoreError> {
                    let rows = sqlx::query(q::LIST_AUDIT)
                        .bind(query.action.as_deref())
                        .bind(query.actor.as_deref())
                        .bind(query.target.as_deref())
                        .bind(query.before_id)
                        .bind(i64::from(query.limit))
                        .fetch_all(&self.read)
                        .await
                        .map_err(store_error)?;
                    let decode = |row: &DbRow| -> Result<tollgate_core::audit::AuditRecord, sqlx::Error> {
                        let details: Option<String> = row.try_get("details")?;
                        Ok(tollgate_core::audit::AuditRecord {
                            id: row.try_get("id")?,
                            at: from_millis(row.try_get("at")?),
                            actor: row.try_get("actor")?,
                            action: row.try_get("action")?,
                            target: row.try_get("target")?,
                            source_ip: row.try_get("source_ip")?,
                            details: details
                                .map(|text| serde_json::from_str(&text))
                                .transpose()
                                .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                        })
                    };
                    rows.iter().map(decode).collect::<Result<_, _>>().map_err(store_error)
                }

                async fn sweep_audit(&self, before: OffsetDateTime, batch: i64) -> Result<u64, StoreError> {
                    let before = to_millis(before);
                    self.write(move |conn| {
                        Box::pin(async move {
                            Ok(sqlx::query(q::SWEEP_AUDIT)
                                .bind(before)
                                .bind(batch)
                                .execute(conn)
                                .await?
                                .rows_affected())
                        })
                    })
                    .await
                }
            }

            #[async_trait]
            impl tollgate_core::store::PortalSessionStore for This {
                async fn insert_portal_session(
                    &self,
                    record: &tollgate_core::store::PortalSessionRecord,
                ) -> Result<(), StoreError> {
                    let record = record.clone();
                    self.write(move |conn| {
                        Box::pin(async move {
                            sqlx::query(q::INSERT_PORTAL_SESSION)
                                .bind(record.id_hash.as_bytes().to_vec())
                                .bind(record.principal_id.0)
                                .bind(to_millis(record.created_at))
                                .bind(to_millis(record.last_seen_at))
                                .execute(conn)
                                .await?;
                            Ok(())
                        })
                    })
                    .await
                }

                async fn portal_session(
                    &self,
                    id_hash: &TokenHash,
                ) -> Result<Option<(tollgate_core::store::PortalSessionRecord, Principal)>, StoreError>
                {
                    let row = sqlx::query(&q::PORTAL_SESSION)
                        .bind(id_hash.as_bytes().to_vec())
                        .fetch_optional(&self.read)
                        .await
                        .map_err(store_error)?;
                    let decode = |row: &DbRow| -> Result<_, sqlx::Error> {
                        let principal = principal_from_row(row)?;
                        let record = tollgate_core::store::PortalSessionRecord {
                            id_hash: *id_hash,
                            principal_id: principal.id,
                            created_at: from_millis(row.try_get("session_created_at")?),
                            last_seen_at: from_millis(row.try_get("last_seen_at")?),
                        };
                        Ok((record, principal))
                    };
                    row.as_ref().map(decode).transpose().map_err(store_error)
                }

                async fn touch_portal_session(
                    &self,
                    id_hash: &TokenHash,
                    at: OffsetDateTime,
                ) -> Result<(), StoreError> {
                    let (hash, at) = (id_hash.as_bytes().to_vec(), to_millis(at));
                    self.write(move |conn| {
                        Box::pin(async move {
                            sqlx::query(q::TOUCH_PORTAL_SESSION).bind(hash).bind(at).execute(conn).await?;
                            Ok(())
                        })
                    })
                    .await
                }

                async fn spend_portal_form(
                    &self,
                    id_hash: &TokenHash,
                    form: &str,
                ) -> Result<bool, StoreError> {
                    let (hash, form) = (id_hash.as_bytes().to_vec(), form.to_owned());
                    self.write(move |conn| {
                        Box::pin(async move {
                            let spent = sqlx::query(q::SPEND_PORTAL_FORM)
                                .bind(hash)
                                .bind(form)
                                .execute(conn)
                                .await?
                                .rows_affected();
                            Ok(spent > 0)
                        })
                    })
                    .await
                }

                async fn delete_portal_session(&self, id_hash: &TokenHash) -> Result<bool, StoreError> {
                    let hash = id_hash.as_bytes().to_vec();
                    self.write(move |conn| {
                        Box::pin(async move {
                            let deleted = sqlx::query(q::DELETE_PORTAL_SESSION)
                                .bind(hash)
                                .execute(conn)
                                .await?
                                .rows_affected();
                            Ok(deleted > 0)
                        })
                    })
                    .await
                }

                async fn sweep_portal_sessions(
                    &self,
                    idle_before: OffsetDateTime,
                    started_before: OffsetDateTime,
                    batch: i64,
                ) -> Result<u64, StoreError> {
                    let (idle_before, started_before) = (to_millis(idle_before), to_millis(started_before));
                    self.write(move |conn| {
                        Box::pin(async move {
                            Ok(sqlx::query(q::SWEEP_PORTAL_SESSIONS)
                                .bind(idle_before)
                                .bind(started_before)
                                .bind(batch)
                                .execute(conn)
                                .await?
                                .rows_affected())
                        })
                    })
                    .await
                }
            }

            #[async_trait]
            impl tollgate_core::store::InventoryStore for This {
                async fn inventory(
                    &self,
                    now: OffsetDateTime,
                    horizon: OffsetDateTime,
                    list: u32,
                ) -> Result<tollgate_core::store::Inventory, StoreError> {
                    let (now, horizon) = (to_millis(now), to_millis(horizon));
                    let count = |n: i64| u64::try_from(n).unwrap_or(0);
                    let principals =
                        sqlx::query(q::COUNT_PRINCIPALS).fetch_one(&self.read).await.map_err(store_error)?;
                    let by_state = |sql: &'static str| async move {
                        let rows = sqlx::query(sql).bind(now).fetch_all(&self.read).await?;
                        rows.iter()
                            .map(|row| Ok((row.try_get::<String, _>("state")?, count(row.try_get("n")?))))
                            .collect::<Result<Vec<_>, sqlx::Error>>()
                    };
                    let api_keys = by_state(q::COUNT_API_KEYS_BY_STATE).await.map_err(store_error)?;
                    let access_keys = by_state(q::COUNT_ACCESS_KEYS_BY_STATE).await.map_err(store_error)?;
                    let expiring: i64 = sqlx::query_scalar(q::COUNT_EXPIRING_KEYS)
                        .bind(now)
                        .bind(horizon)
                        .fetch_one(&self.read)
                        .await
                        .map_err(store_error)?;
                    let first = sqlx::query(q::LIST_EXPIRING_KEYS)
                        .bind(now)
                        .bind(horizon)
                        .bind(i64::from(list))
                        .fetch_all(&self.read)
                        .await
                        .map_err(store_error)?;
                    let decode = |row: &DbRow| -> Result<tollgate_core::store::ExpiringKey, sqlx::Error> {
                        let kind: String = row.try_get("kind")?;
                        Ok(tollgate_core::store::ExpiringKey {
                            kind: if kind == "apikey" { "apikey" } else { "accesskey" },
                            id: row.try_get("id")?,
                            access_key: row.try_get("access_key")?,
                            principal_id: PrincipalId(row.try_get("principal_id")?),
                            principal: row.try_get("principal")?,
                            expires_at: from_millis(row.try_get("expires_at")?),
                        })
                    };
                    let decoded = (|| -> Result<_, sqlx::Error> {
                        Ok(tollgate_core::store::Inventory {
                            principals: count(principals.try_get("total")?),
                            disabled_principals: count(principals.try_get("disabled")?),
                            legacy_passwords: count(principals.try_get("legacy")?),
                            api_keys,
                            access_keys,
                            expiring: count(expiring),
                            expiring_first: first.iter().map(decode).collect::<Result<_, _>>()?,
                        })
                    })();
                    decoded.map_err(store_error)
                }
            }

            #[async_trait]
            impl KeyStore for This {
                async fn insert_signing_key(&self, key: &SigningKeyRecord) -> Result<bool, StoreError> {
                    let key = key.clone();
                    self.write(move |conn| {
                        Box::pin(async move {
                            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                            let inserted = sqlx::query(q::INSERT_SIGNING_KEY)
                                .bind(key.kid.as_str())
                                .bind(key.algorithm.as_str())
                                .bind(&key.private_der[..])
                                .bind(key.public_jwk.to_string())
                                .bind(to_millis(key.created_at))
                                .bind(to_millis(key.signs_from))
                                .execute(&mut *tx)
                                .await?
                                .rows_affected();
                            bump_changes(&mut tx).await?;
                            tx.commit().await?;
                            Ok(inserted == 1)
                        })
                    })
                    .await
                }

                async fn signing_keys(
                    &self,
                    algorithm: SigningAlgorithm,
                ) -> Result<Vec<SigningKeyRecord>, StoreError> {
                    let rows = sqlx::query(q::SIGNING_KEYS)
                        .bind(algorithm.as_str())
                        .fetch_all(&self.read)
                        .await
                        .map_err(store_error)?;
                    let decode = |row: &DbRow| -> Result<SigningKeyRecord, sqlx::Error> {
                        let jwk: String = row.try_get("public_jwk")?;
                        Ok(SigningKeyRecord {
                            kid: row.try_get("kid")?,
                            algorithm,
                            private_der: row.try_get::<Vec<u8>, _>("private_der")?.into(),
                            public_jwk: serde_json::from_str(&jwk)
                                .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                            created_at: from_millis(row.try_get("created_at")?),
                            signs_from: from_millis(row.try_get("signs_from")?),
                        })
                    };
                    rows.iter().map(decode).collect::<Result<_, _>>().map_err(store_error)
                }

                async fn server_secrets(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
                    let rows =
                        sqlx::query(q::SERVER_SECRETS).fetch_all(&self.write).await.map_err(store_error)?;
                    rows.iter()
                        .map(|row| Ok((row.try_get("name")?, row.try_get("value")?)))
                        .collect::<Result<_, sqlx::Error>>()
                        .map_err(store_error)
                }

                async fn replace_server_secret(&self, name: &str, value: &[u8]) -> Result<(), StoreError> {
                    let (name, value) = (name.to_owned(), value.to_vec());
                    self.write(move |conn| {
                        Box::pin(async move {
                            sqlx::query(q::REPLACE_SERVER_SECRET)
                                .bind(name)
                                .bind(value)
                                .execute(conn)
                                .await?;
                            Ok(())
                        })
                    })
                    .await
                }

                async fn replace_signing_key_private(
                    &self,
                    kid: &str,
                    private_der: &[u8],
                ) -> Result<(), StoreError> {
                    let (kid, private_der) = (kid.to_owned(), private_der.to_vec());
                    self.write(move |conn| {
                        Box::pin(async move {
                            sqlx::query(q::REPLACE_SIGNING_KEY_PRIVATE)
                                .bind(kid)
                                .bind(private_der)
                                .execute(conn)
                                .await?;
                            Ok(())
                        })
                    })
                    .await
                }

                async fn server_secret(&self, name: &str, candidate: Vec<u8>) -> Result<Vec<u8>, StoreError> {
                    let name = name.to_owned();
                    self.write(move |conn| {
                        Box::pin(async move {
                            sqlx::query(q::INSERT_SERVER_SECRET)
                                .bind(name.as_str())
                                .bind(candidate)
                                .execute(&mut *conn)
                                .await?;
                            sqlx::query_scalar(q::SERVER_SECRET)
                                .bind(name.as_str())
                                .fetch_one(&mut *conn)
                                .await
                        })
                    })
                    .await
                }
            }

            #[async_trait]
            impl crate::portable::Portable for This {
                async fn settle(&self) -> Result<(), sqlx::Error> {
                    self.tokens.settle(&self.read, &self.write).await
                }

                async fn export(
                    &self,
                    table: &crate::portable::Table,
                    after: Option<&crate::portable::Cell>,
                    now_ms: i64,
                ) -> Result<Vec<Vec<crate::portable::Cell>>, sqlx::Error> {
                    use crate::portable::{Cell, Kind};
                    let sql = table.select();
                    let query = sqlx::query(&sql);
                    // `$1`: the last key seen (typed as the key column), `$2`: now.
                    let query = match (table.columns[0].1, after) {
                        (Kind::Uuid, Some(Cell::Uuid(v))) => query.bind(*v),
                        (Kind::Uuid, _) => query.bind(None::<Uuid>),
                        (Kind::Bytes, Some(Cell::Bytes(v))) => query.bind(v.clone()),
                        (Kind::Bytes, _) => query.bind(None::<Vec<u8>>),
                        (_, Some(Cell::Text(v))) => query.bind(v.clone()),
                        (_, _) => query.bind(None::<String>),
                    };
                    let query = if table.live_only { query.bind(now_ms) } else { query };
                    let rows = query.fetch_all(&self.read).await?;
                    rows.iter()
                        .map(|row| {
                            table
                                .columns
                                .iter()
                                .map(|(name, kind)| {
                                    Ok(match kind {
                                        Kind::Uuid => Cell::Uuid(row.try_get(*name)?),
                                        Kind::Text => Cell::Text(row.try_get(*name)?),
                                        Kind::Int => Cell::Int(row.try_get(*name)?),
                                        Kind::Small => Cell::Small(row.try_get(*name)?),
                                        Kind::Bool => Cell::Bool(row.try_get(*name)?),
                                        Kind::Bytes => Cell::Bytes(row.try_get(*name)?),
                                    })
                                })
                                .collect()
                        })
                        .collect()
                }

                async fn import(
                    &self,
                    table: &crate::portable::Table,
                    rows: &[Vec<crate::portable::Cell>],
                ) -> Result<u64, sqlx::Error> {
                    use crate::portable::Cell;
                    // Multi-row INSERTs; at most ~4 000 parameters per statement.
                    let per_statement = (4000 / table.columns.len()).max(1);
                    let columns: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
                    let head = format!("INSERT INTO {} ({}) ", table.name, columns.join(", "));
                    let mut tx = self.write.begin().await?;
                    let mut inserted = 0;
                    for chunk in rows.chunks(per_statement) {
                        let mut insert = sqlx::QueryBuilder::<$db>::new(&head);
                        insert.push_values(chunk, |mut row, cells| {
                            for cell in cells {
                                match cell {
                                    Cell::Uuid(v) => row.push_bind(*v),
                                    Cell::Text(v) => row.push_bind(v.clone()),
                                    Cell::Int(v) => row.push_bind(*v),
                                    Cell::Small(v) => row.push_bind(*v),
                                    Cell::Bool(v) => row.push_bind(*v),
                                    Cell::Bytes(v) => row.push_bind(v.clone()),
                                };
                            }
                        });
                        insert.push(" ON CONFLICT DO NOTHING");
                        inserted += insert.build().execute(&mut *tx).await?.rows_affected();
                    }
                    bump_changes(&mut tx).await?;
                    tx.commit().await?;
                    Ok(inserted)
                }

                async fn scalar_rows(&self, sql: &str) -> Result<Vec<(String, Vec<u8>)>, sqlx::Error> {
                    let rows = sqlx::query(sql).fetch_all(&self.read).await?;
                    rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).collect()
                }

                async fn count(&self, sql: &str) -> Result<i64, sqlx::Error> {
                    sqlx::query_scalar(sql).fetch_one(&self.read).await
                }

                async fn replace_server_secret(&self, name: &str, value: &[u8]) -> Result<(), sqlx::Error> {
                    sqlx::query(q::REPLACE_SERVER_SECRET)
                        .bind(name)
                        .bind(value.to_vec())
                        .execute(&self.write)
                        .await?;
                    Ok(())
                }
            }
        };
    };
}

pub(crate) use sql_store;
