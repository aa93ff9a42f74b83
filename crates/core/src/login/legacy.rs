//! Credentials imported from the legacy systems (DESIGN.md §10): a password
//! or access-key secret kept in its old format is verified in that format
//! on the bounded password pool, and the first successful login replaces it
//! with argon2id (a secret: the keyed hash) — once, even when several logins
//! race, by a compare-and-set on the stored hash.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tollgate_legacy::LegacyHash;

use super::LoginService;
use super::access_key_login::Client;
use crate::error::LoginError;
use crate::model::{Principal, StoredPassword};
use crate::password::Checked;
use crate::secret::{AccessSecret, Password};

impl LoginService {
    /// Checks `password` against what is stored: argon2id, a legacy format,
    /// or (nothing stored) a decoy of the same cost.
    pub(super) async fn verify_stored(
        &self,
        stored: Option<&StoredPassword>,
        password: &Password,
    ) -> Result<Checked, LoginError> {
        let Some(stored) = stored else {
            return Ok(if self.passwords.verify(None, password).await? {
                Checked::Right
            } else {
                Checked::Wrong
            });
        };
        if stored.format == StoredPassword::ARGON2ID {
            let matches = self.passwords.verify(Some(stored.hash.clone()), password).await?;
            return Ok(if matches { Checked::Right } else { Checked::Wrong });
        }
        match LegacyHash::from_stored(&stored.hash) {
            Ok(legacy) => self.passwords.verify_legacy(legacy, password, true).await,
            Err(err) => {
                // Checked at import; a row that no longer parses matches
                // nothing (and costs what a miss costs).
                tracing::error!(error = %err, format = %stored.format, "a stored legacy hash is unreadable");
                self.passwords.verify(None, password).await.map(|_| Checked::Wrong)
            }
        }
    }

    /// After a successful login with a legacy password: keeps its argon2id
    /// successor in place of the old hash, unless another login did first.
    /// A failure to write costs nothing but a later retry.
    pub(super) async fn upgrade_password(
        &self,
        principal: &Principal,
        stored: &StoredPassword,
        successor: String,
    ) {
        match self
            .store
            .upgrade_password(principal.id, &stored.hash, StoredPassword::argon2id(successor))
            .await
        {
            Ok(true) => {
                tracing::info!(principal = %principal.name, from = %stored.format, "password rehashed to argon2id")
            }
            Ok(false) => {}
            Err(err) => {
                tracing::warn!(error = %crate::error::report(&err), "could not keep a rehashed password")
            }
        }
    }

    /// An access key whose secret is still a legacy hash: verified in its
    /// format; on a match the keyed hash replaces it (once) and this node's
    /// cached copy is dropped. `false` if the secret does not match.
    pub(super) async fn check_legacy_secret(
        &self,
        client: &Arc<Client>,
        legacy: &StoredPassword,
        secret: &AccessSecret,
    ) -> Result<bool, LoginError> {
        let Ok(hash) = LegacyHash::from_stored(&legacy.hash) else {
            tracing::error!(format = %legacy.format, "a stored legacy secret hash is unreadable");
            return Ok(false);
        };
        let presented = Password::new(secret.expose());
        if !self.passwords.verify_legacy(hash, &presented, false).await?.matches() {
            return Ok(false);
        }
        let keyed = self.keys.credential_hash(secret.expose().as_bytes());
        match self.store.upgrade_access_secret(client.id, &legacy.hash, keyed).await {
            Ok(true) => {
                tracing::info!(access_key = %client.access_key, from = %legacy.format, "secret rehashed to the keyed hash")
            }
            Ok(false) => {}
            Err(err) => {
                tracing::warn!(error = %crate::error::report(&err), "could not keep a rehashed secret")
            }
        }
        self.access_keys.invalidate(&client.access_key);
        self.access_keys_by_id.invalidate(&client.id.0);
        Ok(true)
    }

    /// Keeps `tollgate_legacy_credentials{format}` (what is left to migrate)
    /// current, every `every`.
    pub fn spawn_legacy_gauge(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let store = Arc::clone(&self.store);
        tokio::spawn(async move {
            let mut shown: BTreeSet<String> = BTreeSet::new();
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let counts = match store.legacy_credentials().await {
                    Ok(counts) => counts,
                    Err(err) => {
                        tracing::debug!(error = %crate::error::report(&err), "could not count legacy credentials");
                        continue;
                    }
                };
                let now: BTreeSet<String> = counts.iter().map(|(format, _)| format.clone()).collect();
                for gone in shown.difference(&now) {
                    metrics::gauge!("tollgate_legacy_credentials", "format" => gone.clone()).set(0.0);
                }
                for (format, left) in counts {
                    metrics::gauge!("tollgate_legacy_credentials", "format" => format).set(left as f64);
                }
                shown.extend(now);
            }
        })
    }
}
