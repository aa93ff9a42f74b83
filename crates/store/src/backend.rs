//! One implementation of the core's `Store`, written once and instantiated
//! per sqlx driver (see `sqlite.rs` and `postgres.rs`). A macro rather than
//! generics because sqlx's generic bounds would bury the SQL under trait
//! plumbing; the SQL text itself is shared through `queries`.

use std::future::Future;

use tollgate_core::model::TokenRecord;
use tollgate_core::secret::TokenHash;
use tollgate_core::store::NewSession;

/// A write that waits in the group commit.
pub(crate) enum WriteOp {
    Session(NewSession),
    Token(TokenRecord),
}

/// Most writes one group commit takes at once.
pub(crate) const MAX_BATCH: usize = 512;

/// Rows per multi-row INSERT (7 parameters each stays far below SQLite's
/// 32 766-parameter limit).
pub(crate) const ROWS_PER_INSERT: usize = 256;

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

    /// Learns about tokens other processes kept here; `true` if there were
    /// any (so that a `find` that failed is worth repeating).
    fn catch_up(&self, read: &sqlx::Pool<DB>) -> impl Future<Output = Result<bool, sqlx::Error>> + Send;

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

pub(crate) fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn json_map(map: &std::collections::BTreeMap<String, String>) -> String {
    serde_json::to_string(map).unwrap_or_else(|_| "{}".into())
}

macro_rules! sql_store {
    // `$announce`: SQL run with every change-counter bump to tell other
    // processes at once (PostgreSQL NOTIFY), if the backend can.
    // `$tokens`: the backend's `AccessTokens`.
    ($store:ident, $db:ty, $announce:expr, $tokens:ty) => {
        use std::collections::BTreeMap;

        use async_trait::async_trait;
        use sqlx::Row as _;
        use time::OffsetDateTime;
        use tollgate_core::StoreError;
        use tollgate_core::model::{
            AccessKeyInfo, AccessKeyLookup, AccessKeyRecord, AccessKeyState, ApiKeyInfo, ApiKeyLookup,
            ApiKeyRecord, CredentialId, NewPrincipal, Principal, PrincipalId, RefreshLookup, TokenKind,
            TokenLookup, TokenRecord,
        };
        use tollgate_core::secret::TokenHash;
        use tollgate_core::signing_keys::{SigningAlgorithm, SigningKeyRecord};
        use tollgate_core::store::{NewSession, Rotation, Store, Swept};
        use tollgate_core::time_util::{from_millis, now, to_millis};
        use uuid::Uuid;

        use crate::backend::{MAX_BATCH, ROWS_PER_INSERT, AccessTokens as _, WriteOp, json_list, json_map};
        use crate::error::store_error;
        use crate::group_commit::GroupCommit;
        use crate::queries as q;

        type Conn = <$db as sqlx::Database>::Connection;
        type DbRow = <$db as sqlx::Database>::Row;

        pub(crate) struct $store {
            read: sqlx::Pool<$db>,
            write: sqlx::Pool<$db>,
            commits: GroupCommit<WriteOp>,
            tokens: std::sync::Arc<$tokens>,
        }

        impl $store {
            fn from_pools(read: sqlx::Pool<$db>, write: sqlx::Pool<$db>, tokens: std::sync::Arc<$tokens>) -> Self {
                let (pool, batch_tokens) = (write.clone(), tokens.clone());
                let commits = GroupCommit::spawn(MAX_BATCH, <$tokens as crate::backend::AccessTokens<$db>>::BATCHES_IN_FLIGHT, move |ops| {
                    let (pool, tokens) = (pool.clone(), batch_tokens.clone());
                    async move { write_batch(&pool, &tokens, ops).await.map_err(store_error) }
                });
                Self { read, write, commits, tokens }
            }
        }

        /// One transaction for the whole batch, and one multi-row INSERT per
        /// table: a statement per row would cost a round trip per row.
        async fn write_batch(
            pool: &sqlx::Pool<$db>,
            placement: &$tokens,
            ops: Vec<WriteOp>,
        ) -> Result<(), sqlx::Error> {
            let mut sessions = Vec::new();
            let mut tokens = Vec::with_capacity(ops.len());
            let mut refreshes = Vec::new();
            for op in &ops {
                match op {
                    WriteOp::Token(token) => tokens.push(token),
                    WriteOp::Session(new) => {
                        sessions.push(new);
                        tokens.push(&new.token);
                        refreshes.push(&new.refresh);
                    }
                }
            }
            // The common case (API-key logins): one statement is atomic on
            // its own, so it needs no BEGIN/COMMIT round trips.
            if sessions.is_empty() && tokens.len() <= ROWS_PER_INSERT {
                let appended = placement.append(pool, &tokens).await?;
                placement.remember(appended);
                return Ok(());
            }
            let mut tx = pool.begin().await?;
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

        /// One multi-row INSERT of access tokens.
        async fn insert_tokens<'e, E>(executor: E, tokens: &[&TokenRecord]) -> Result<(), sqlx::Error>
        where
            E: sqlx::Executor<'e, Database = $db>,
        {
            token_insert("tokens", tokens).build().execute(executor).await?;
            Ok(())
        }

        /// `INSERT INTO <table>` of access tokens, one row each.
        fn token_insert<'a>(table: &str, tokens: &[&TokenRecord]) -> sqlx::QueryBuilder<'a, $db> {
            let mut insert = sqlx::QueryBuilder::<$db>::new(format!(
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

        /// One multi-row INSERT of refresh tokens.
        async fn insert_refreshes<'e, E>(
            executor: E,
            refreshes: &[&tollgate_core::model::RefreshRecord],
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
            let announce: Option<&str> = $announce;
            if let Some(sql) = announce {
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
            })
        }

        fn decode_state(text: &str) -> Result<AccessKeyState, sqlx::Error> {
            AccessKeyState::parse(text)
                .ok_or_else(|| sqlx::Error::Decode(format!("access key state {text:?}").into()))
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
                state: decode_state(&row.try_get::<String, _>("state")?)?,
                expires_at: opt_time(row.try_get("key_expires_at")?),
                tokens_revoked_at: opt_time(row.try_get("key_tokens_revoked_at")?),
            })
        }

        fn new_principal_query<'q>(
            sql: &'q str,
            id: Uuid,
            new: &'q NewPrincipal,
            created_at: i64,
        ) -> sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>> {
            sqlx::query(sql)
                .bind(id)
                .bind(new.name.as_str())
                .bind(json_list(&new.roles))
                .bind(new.realm.as_deref())
                .bind(json_map(&new.attributes))
                .bind(new.password_hash.as_deref())
                .bind(created_at)
        }

        #[async_trait]
        impl Store for $store {
            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("SELECT 1").execute(&self.read).await.map_err(store_error)?;
                Ok(())
            }

            async fn create_principal(&self, new: NewPrincipal) -> Result<Principal, StoreError> {
                let id = new.id.0;
                let created_at = now();
                new_principal_query(q::INSERT_PRINCIPAL, id, &new, to_millis(created_at))
                    .execute(&self.write)
                    .await
                    .map_err(store_error)?;
                Ok(Principal {
                    id: PrincipalId(id),
                    name: new.name,
                    roles: new.roles,
                    realm: new.realm,
                    attributes: new.attributes,
                    enabled: true,
                    created_at,
                    tokens_revoked_at: None,
                })
            }

            async fn create_principal_if_absent(&self, new: NewPrincipal) -> Result<bool, StoreError> {
                let done =
                    new_principal_query(q::INSERT_PRINCIPAL_IF_ABSENT, new.id.0, &new, to_millis(now()))
                        .execute(&self.write)
                        .await
                        .map_err(store_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn principal_by_name(&self, name: &str) -> Result<Option<Principal>, StoreError> {
                Ok(self.password_of(name).await?.map(|(p, _)| p))
            }

            async fn password_of(
                &self,
                name: &str,
            ) -> Result<Option<(Principal, Option<String>)>, StoreError> {
                let row = sqlx::query(&q::PRINCIPAL_BY_NAME)
                    .bind(name)
                    .fetch_optional(&self.read)
                    .await
                    .map_err(store_error)?;
                row.map(|row| Ok((principal_from_row(&row)?, row.try_get("password_hash")?)))
                    .transpose()
                    .map_err(store_error)
            }

            async fn list_principals(&self) -> Result<Vec<Principal>, StoreError> {
                let rows =
                    sqlx::query(&q::LIST_PRINCIPALS).fetch_all(&self.read).await.map_err(store_error)?;
                rows.iter().map(principal_from_row).collect::<Result<_, _>>().map_err(store_error)
            }

            async fn set_enabled(&self, id: PrincipalId, enabled: bool) -> Result<(), StoreError> {
                self.update_and_bump(q::SET_ENABLED, id, |query| query.bind(enabled)).await
            }

            async fn set_password(&self, id: PrincipalId, phc: Option<String>) -> Result<(), StoreError> {
                sqlx::query(q::SET_PASSWORD)
                    .bind(id.0)
                    .bind(phc)
                    .execute(&self.write)
                    .await
                    .map_err(store_error)?;
                Ok(())
            }

            async fn remove_principal(&self, id: PrincipalId) -> Result<(), StoreError> {
                self.update_and_bump(q::REMOVE_PRINCIPAL, id, |query| query).await
            }

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
                    let row = sqlx::query(&q::FIND_TOKEN).bind(hash.as_bytes()).fetch_optional(&self.read).await?;
                    if row.is_none() && self.tokens.catch_up(&self.read).await? {
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
                let attempt = async {
                    let mut tx = self.write.begin().await?;
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
                };
                attempt.await.map_err(store_error)
            }

            async fn revoke_token(&self, hash: &TokenHash, at: OffsetDateTime) -> Result<bool, StoreError> {
                let attempt = async {
                    // A token another process issued may be unknown here yet.
                    self.tokens.catch_up(&self.read).await?;
                    let mut tx = self.write.begin().await?;
                    // Both: a merge may be copying the token into `tokens`.
                    let mut found = sqlx::query(q::REVOKE_TOKEN)
                        .bind(hash.as_bytes())
                        .bind(to_millis(at))
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    found += self.tokens.revoke(&mut tx, hash, to_millis(at)).await?;
                    if found == 0 {
                        found = sqlx::query(q::REVOKE_SESSION_OF_REFRESH)
                            .bind(hash.as_bytes())
                            .bind(to_millis(at))
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                    }
                    bump_changes(&mut tx).await?;
                    tx.commit().await?;
                    Ok(found > 0)
                };
                attempt.await.map_err(store_error)
            }

            async fn revoke_session(&self, session: Uuid, at: OffsetDateTime) -> Result<(), StoreError> {
                self.execute_and_bump(&[q::REVOKE_SESSION], session, to_millis(at)).await.map(|_| ())
            }

            async fn revoke_principal_tokens(
                &self,
                id: PrincipalId,
                at: OffsetDateTime,
            ) -> Result<(), StoreError> {
                self.update_and_bump(q::REVOKE_PRINCIPAL_TOKENS, id, |query| query.bind(to_millis(at))).await
            }

            async fn insert_api_key(&self, key: ApiKeyRecord) -> Result<bool, StoreError> {
                let done = sqlx::query(q::INSERT_API_KEY)
                    .bind(key.id.0)
                    .bind(key.principal_id.0)
                    .bind(&key.key_hash[..])
                    .bind(to_millis(key.created_at))
                    .bind(key.expires_at.map(to_millis))
                    .execute(&self.write)
                    .await
                    .map_err(store_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn find_api_key(&self, key_hash: &[u8; 32]) -> Result<Option<ApiKeyLookup>, StoreError> {
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

            async fn revoke_api_key(&self, id: CredentialId, at: OffsetDateTime) -> Result<bool, StoreError> {
                self.execute_and_bump(&[q::REVOKE_API_KEY], id.0, to_millis(at)).await
            }

            async fn revoke_credential_tokens(
                &self,
                id: CredentialId,
                at: OffsetDateTime,
            ) -> Result<bool, StoreError> {
                let statements = [q::REVOKE_API_KEY_TOKENS, q::REVOKE_ACCESS_KEY_TOKENS];
                self.execute_and_bump(&statements, id.0, to_millis(at)).await
            }

            async fn insert_access_key(&self, key: AccessKeyRecord) -> Result<bool, StoreError> {
                let done = sqlx::query(q::INSERT_ACCESS_KEY)
                    .bind(key.id.0)
                    .bind(key.principal_id.0)
                    .bind(key.access_key.as_str())
                    .bind(&key.secret_hash[..])
                    .bind(key.state.as_str())
                    .bind(to_millis(key.created_at))
                    .bind(key.expires_at.map(to_millis))
                    .execute(&self.write)
                    .await
                    .map_err(store_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn find_access_key(&self, access_key: &str) -> Result<Option<AccessKeyLookup>, StoreError> {
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
                let decode = |row: &DbRow| -> Result<AccessKeyInfo, sqlx::Error> {
                    Ok(AccessKeyInfo {
                        id: CredentialId(row.try_get("id")?),
                        principal_name: row.try_get("name")?,
                        access_key: row.try_get("access_key")?,
                        state: decode_state(&row.try_get::<String, _>("state")?)?,
                        created_at: from_millis(row.try_get("created_at")?),
                        expires_at: opt_time(row.try_get("expires_at")?),
                        last_used_at: opt_time(row.try_get("last_used_at")?),
                    })
                };
                rows.iter().map(decode).collect::<Result<_, _>>().map_err(store_error)
            }

            async fn set_access_key_state(
                &self,
                id: CredentialId,
                state: AccessKeyState,
            ) -> Result<bool, StoreError> {
                let attempt = async {
                    let mut tx = self.write.begin().await?;
                    let matched = sqlx::query(q::SET_ACCESS_KEY_STATE)
                        .bind(id.0)
                        .bind(state.as_str())
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    bump_changes(&mut tx).await?;
                    tx.commit().await?;
                    Ok(matched > 0)
                };
                attempt.await.map_err(store_error)
            }

            async fn touch_credentials(&self, used: &[(CredentialId, OffsetDateTime)]) -> Result<(), StoreError> {
                let attempt = async {
                    let mut tx = self.write.begin().await?;
                    for (id, at) in used {
                        for sql in [q::TOUCH_API_KEY, q::TOUCH_ACCESS_KEY] {
                            sqlx::query(sql).bind(id.0).bind(to_millis(*at)).execute(&mut *tx).await?;
                        }
                    }
                    tx.commit().await
                };
                attempt.await.map_err(store_error)
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

            async fn insert_signing_key(&self, key: &SigningKeyRecord) -> Result<bool, StoreError> {
                let attempt = async {
                    let mut tx = self.write.begin().await?;
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
                };
                attempt.await.map_err(store_error)
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

            async fn server_secret(&self, name: &str, candidate: Vec<u8>) -> Result<Vec<u8>, StoreError> {
                sqlx::query(q::INSERT_SERVER_SECRET)
                    .bind(name)
                    .bind(candidate)
                    .execute(&self.write)
                    .await
                    .map_err(store_error)?;
                sqlx::query_scalar(q::SERVER_SECRET)
                    .bind(name)
                    .fetch_one(&self.write)
                    .await
                    .map_err(store_error)
            }

            fn announce_changes(&self, waiter: std::sync::Arc<tokio::sync::Notify>) {
                self.listen_for_changes(waiter);
            }

            async fn change_counter(&self) -> Result<i64, StoreError> {
                sqlx::query_scalar(q::CHANGE_COUNTER).fetch_one(&self.read).await.map_err(store_error)
            }

            async fn sweep_expired(&self, before: OffsetDateTime, batch: i64) -> Result<Swept, StoreError> {
                let before = to_millis(before);
                let attempt = async {
                    let (tokens, more) = self.tokens.sweep(&self.read, &self.write, before, batch).await?;
                    let mut swept = Swept { deleted: tokens, more };
                    for sql in [q::SWEEP_REFRESH, q::SWEEP_REVOKED_JWTS, q::SWEEP_SESSIONS] {
                        let deleted =
                            sqlx::query(sql).bind(before).bind(batch).execute(&self.write).await?.rows_affected();
                        swept.deleted += deleted;
                        swept.more |= deleted >= u64::try_from(batch).unwrap_or(0);
                    }
                    Ok(swept)
                };
                attempt.await.map_err(store_error)
            }
        }

        #[async_trait]
        impl crate::portable::Portable for $store {
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
        }

        impl $store {
            /// Runs each statement with (`id`, `at`) and bumps the change counter
            /// in one transaction; `true` if any row matched.
            async fn execute_and_bump(
                &self,
                statements: &[&str],
                id: Uuid,
                at: i64,
            ) -> Result<bool, StoreError> {
                let attempt = async {
                    let mut tx = self.write.begin().await?;
                    let mut matched = 0;
                    for sql in statements {
                        matched +=
                            sqlx::query(sql).bind(id).bind(at).execute(&mut *tx).await?.rows_affected();
                    }
                    bump_changes(&mut tx).await?;
                    tx.commit().await?;
                    Ok(matched > 0)
                };
                attempt.await.map_err(store_error)
            }

            /// Runs `sql` (first parameter: the principal id) and bumps the
            /// change counter in one transaction.
            async fn update_and_bump<'q, F>(
                &self,
                sql: &'q str,
                id: PrincipalId,
                bind: F,
            ) -> Result<(), StoreError>
            where
                F: FnOnce(
                    sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>>,
                ) -> sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>>,
            {
                let attempt = async {
                    let mut tx = self.write.begin().await?;
                    bind(sqlx::query(sql).bind(id.0)).execute(&mut *tx).await?;
                    bump_changes(&mut tx).await?;
                    tx.commit().await
                };
                attempt.await.map_err(store_error)
            }
        }
    };
}

pub(crate) use sql_store;
