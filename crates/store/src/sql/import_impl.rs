//! The bulk import's storage (`ImportStore`), expanded by `sql_store!` inside
//! its per-driver block (it uses that block's `This`, `Db`, row decoders and
//! `bump_changes`). A batch costs one lookup query per kind of record and
//! one transaction of multi-row inserts: never a round trip per record.

macro_rules! import_store {
    () => {
        /// Rows per multi-row INSERT: 10 parameters a principal stays well
        /// below SQLite's 32 766 and PostgreSQL's 65 535 per statement.
        const IMPORT_ROWS_PER_INSERT: usize = 500;

        /// Appends `column IN (…)` (joined by OR to what came before) for
        /// the values, or nothing when there are none.
        fn push_in<T>(
            query: &mut sqlx::QueryBuilder<'static, Db>,
            joined: &mut bool,
            column: &str,
            values: impl IntoIterator<Item = T>,
        ) where
            T: 'static + sqlx::Encode<'static, Db> + sqlx::Type<Db>,
        {
            let mut values = values.into_iter().peekable();
            if values.peek().is_none() {
                return;
            }
            if *joined {
                query.push(" OR ");
            }
            *joined = true;
            query.push(column).push(" IN (");
            let mut list = query.separated(", ");
            for value in values {
                list.push_bind(value);
            }
            list.push_unseparated(")");
        }

        fn stored_api_key(row: &DbRow) -> Result<tollgate_core::store::StoredApiKey, sqlx::Error> {
            let hash: Vec<u8> = row.try_get("key_hash")?;
            let revoked: Option<i64> = row.try_get("revoked_at")?;
            Ok(tollgate_core::store::StoredApiKey {
                id: CredentialId(row.try_get("id")?),
                principal_id: PrincipalId(row.try_get("principal_id")?),
                key_hash: hash
                    .try_into()
                    .map_err(|_| sqlx::Error::Decode("key hash is not 32 bytes".into()))?,
                expires_at: opt_time(row.try_get("expires_at")?),
                revoked: revoked.is_some(),
            })
        }

        fn stored_access_key(row: &DbRow) -> Result<tollgate_core::store::StoredAccessKey, sqlx::Error> {
            Ok(tollgate_core::store::StoredAccessKey {
                id: CredentialId(row.try_get("id")?),
                principal_id: PrincipalId(row.try_get("principal_id")?),
                access_key: row.try_get("access_key")?,
                state: decode_state(&row.try_get::<String, _>("state")?)?,
                expires_at: opt_time(row.try_get("expires_at")?),
            })
        }

        async fn inserted_ids(
            tx: &mut Conn,
            mut insert: sqlx::QueryBuilder<'static, Db>,
        ) -> Result<Vec<Uuid>, sqlx::Error> {
            insert.push(q::INSERTED_IDS);
            let rows = insert.build().fetch_all(&mut *tx).await?;
            rows.iter().map(|row| row.try_get::<Uuid, _>("id")).collect()
        }

        async fn write_import_batch(
            tx: &mut Conn,
            batch: tollgate_core::store::ImportBatch,
        ) -> Result<(tollgate_core::store::ImportWritten, bool), sqlx::Error> {
            let mut written = tollgate_core::store::ImportWritten::default();
            for chunk in batch.principals.chunks(IMPORT_ROWS_PER_INSERT) {
                let mut insert = sqlx::QueryBuilder::<Db>::new(q::IMPORT_INSERT_PRINCIPALS);
                insert.push_values(chunk, |mut row, new| {
                    let password = new.password.clone();
                    row.push_bind(new.id.0)
                        .push_bind(new.name.clone())
                        .push_bind(json_list(&new.roles))
                        .push_bind(new.realm.clone())
                        .push_bind(json_map(&new.attributes))
                        .push_bind(new.enabled)
                        .push_bind(password.as_ref().map(|p| p.hash.clone()))
                        .push_bind(to_millis(new.created_at))
                        .push_bind(new.name_key.clone())
                        .push_bind(password.map(|p| p.format));
                });
                written.principals.extend(inserted_ids(tx, insert).await?.into_iter().map(PrincipalId));
            }
            // A principal somebody else created first (its name or id taken
            // since the lookup) was left out: so are its keys and changes,
            // which would otherwise land on a stranger or on nothing.
            let inserted: std::collections::HashSet<Uuid> =
                written.principals.iter().map(|id| id.0).collect();
            let left_out: std::collections::HashSet<Uuid> =
                batch.principals.iter().map(|new| new.id.0).filter(|id| !inserted.contains(id)).collect();
            let api_keys: Vec<_> =
                batch.api_keys.iter().filter(|key| !left_out.contains(&key.principal_id.0)).collect();
            for chunk in api_keys.chunks(IMPORT_ROWS_PER_INSERT) {
                let mut insert = sqlx::QueryBuilder::<Db>::new(q::IMPORT_INSERT_API_KEYS);
                insert.push_values(chunk, |mut row, key| {
                    row.push_bind(key.id.0)
                        .push_bind(key.principal_id.0)
                        .push_bind(key.key_hash.to_vec())
                        .push_bind(to_millis(key.created_at))
                        .push_bind(key.expires_at.map(to_millis));
                });
                written.api_keys.extend(inserted_ids(tx, insert).await?.into_iter().map(CredentialId));
            }
            let access_keys: Vec<_> =
                batch.access_keys.iter().filter(|key| !left_out.contains(&key.principal_id.0)).collect();
            for chunk in access_keys.chunks(IMPORT_ROWS_PER_INSERT) {
                let mut insert = sqlx::QueryBuilder::<Db>::new(q::IMPORT_INSERT_ACCESS_KEYS);
                insert.push_values(chunk, |mut row, key| {
                    let legacy = key.legacy_secret.clone();
                    row.push_bind(key.id.0)
                        .push_bind(key.principal_id.0)
                        .push_bind(key.access_key.clone())
                        .push_bind(key.secret_hash.to_vec())
                        .push_bind(key.state.as_str())
                        .push_bind(to_millis(key.created_at))
                        .push_bind(key.expires_at.map(to_millis))
                        .push_bind(legacy.as_ref().map(|l| l.format.clone()))
                        .push_bind(legacy.map(|l| l.hash));
                });
                written.access_keys.extend(inserted_ids(tx, insert).await?.into_iter().map(CredentialId));
            }

            let at = to_millis(batch.at.unwrap_or_else(tollgate_core::time_util::now));
            let mut changed = 0;
            for change in batch.principal_changes.iter().filter(|c| !left_out.contains(&c.id.0)) {
                if let Some(profile) = &change.profile {
                    changed += sqlx::query(q::UPDATE_PROFILE)
                        .bind(change.id.0)
                        .bind(json_list(&profile.roles))
                        .bind(profile.realm.clone())
                        .bind(json_map(&profile.attributes))
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                if let Some(enabled) = change.enabled {
                    changed += sqlx::query(q::SET_ENABLED)
                        .bind(change.id.0)
                        .bind(enabled)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                if let Some(password) = &change.password {
                    // A password where there was none revokes nothing:
                    // no cache needs to forget it.
                    sqlx::query(q::IMPORT_SET_PASSWORD)
                        .bind(change.id.0)
                        .bind(password.hash.clone())
                        .bind(password.format.clone())
                        .execute(&mut *tx)
                        .await?;
                }
            }
            for (id, expires_at) in &batch.api_key_expiries {
                changed += sqlx::query(q::IMPORT_API_KEY_EXPIRY)
                    .bind(id.0)
                    .bind(expires_at.map(to_millis))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            for change in &batch.access_key_changes {
                changed += sqlx::query(q::IMPORT_ACCESS_KEY_CHANGE)
                    .bind(change.id.0)
                    .bind(change.state.as_str())
                    .bind(change.expires_at.map(to_millis))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            let created_keys = !written.api_keys.is_empty() || !written.access_keys.is_empty();
            Ok((written, created_keys || changed > 0))
        }

        #[async_trait]
        impl tollgate_core::store::ImportStore for This {
            async fn import_lookup(
                &self,
                lookup: &tollgate_core::store::ImportLookup,
            ) -> Result<tollgate_core::store::ImportFound, StoreError> {
                let read = async {
                    let mut found = tollgate_core::store::ImportFound::default();
                    if !lookup.principal_ids.is_empty() || !lookup.principal_name_keys.is_empty() {
                        let mut query = sqlx::QueryBuilder::<Db>::new(q::IMPORT_PRINCIPALS.as_str());
                        let mut joined = false;
                        push_in(&mut query, &mut joined, "p.id", lookup.principal_ids.iter().map(|id| id.0));
                        push_in(&mut query, &mut joined, "p.name_key", lookup.principal_name_keys.clone());
                        for row in query.build().fetch_all(&self.read).await? {
                            let name_key: Option<String> = row.try_get("name_key")?;
                            found.principals.push((principal_from_row(&row)?, name_key.unwrap_or_default()));
                        }
                    }
                    if !lookup.api_key_ids.is_empty() || !lookup.api_key_hashes.is_empty() {
                        let mut query = sqlx::QueryBuilder::<Db>::new(q::IMPORT_API_KEYS);
                        let mut joined = false;
                        push_in(&mut query, &mut joined, "id", lookup.api_key_ids.iter().map(|id| id.0));
                        let hashes = lookup.api_key_hashes.iter().map(|hash| hash.to_vec());
                        push_in(&mut query, &mut joined, "key_hash", hashes);
                        for row in query.build().fetch_all(&self.read).await? {
                            found.api_keys.push(stored_api_key(&row)?);
                        }
                    }
                    if !lookup.access_key_ids.is_empty() || !lookup.access_keys.is_empty() {
                        let mut query = sqlx::QueryBuilder::<Db>::new(q::IMPORT_ACCESS_KEYS);
                        let mut joined = false;
                        push_in(&mut query, &mut joined, "id", lookup.access_key_ids.iter().map(|id| id.0));
                        push_in(&mut query, &mut joined, "access_key", lookup.access_keys.clone());
                        for row in query.build().fetch_all(&self.read).await? {
                            found.access_keys.push(stored_access_key(&row)?);
                        }
                    }
                    Ok::<_, sqlx::Error>(found)
                };
                read.await.map_err(store_error)
            }

            async fn import_batch(
                &self,
                batch: tollgate_core::store::ImportBatch,
            ) -> Result<tollgate_core::store::ImportWritten, StoreError> {
                if batch.is_empty() {
                    return Ok(Default::default());
                }
                self.write(move |conn| {
                    Box::pin(async move {
                        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                        let (written, changed) = write_import_batch(&mut tx, batch).await?;
                        if changed {
                            bump_changes(&mut tx).await?;
                        }
                        tx.commit().await?;
                        Ok(written)
                    })
                })
                .await
            }
        }
    };
}

pub(crate) use import_store;
