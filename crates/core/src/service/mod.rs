//! The one login/token service that every contract adapter calls.

mod api_key_login;
mod password_login;
mod refresh;
mod revoke;
mod verify;

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use crate::password::PasswordVerifier;
use crate::secret::TokenHash;
use crate::server_keys::ServerKeys;
use crate::store::Store;

pub use api_key_login::IssuedToken;
pub use verify::CachedToken;

/// How long each kind of token lives.
#[derive(Debug, Clone)]
pub struct TokenPolicy {
    /// Contract A access tokens.
    pub login_check_ttl: Duration,
    /// Contract A refresh tokens (each rotation starts a new lifetime).
    pub refresh_ttl: Duration,
    /// How long a spent refresh token may be presented again and get the same
    /// successor pair back (a retry after a lost response). Zero turns it off.
    pub refresh_grace: Duration,
    /// Contract B tokens.
    pub apikey_ttl: Duration,
}

impl Default for TokenPolicy {
    fn default() -> Self {
        Self {
            login_check_ttl: Duration::from_secs(24 * 3600),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            refresh_grace: Duration::ZERO,
            apikey_ttl: Duration::from_secs(20),
        }
    }
}

/// Tuning that does not change behaviour, only cost.
#[derive(Debug, Clone)]
pub struct ServiceLimits {
    /// Threads verifying passwords at once.
    pub password_workers: usize,
    /// Password verifications allowed to wait; beyond that, `Overloaded`.
    pub password_queue: usize,
    /// Entries in the verified-token cache.
    pub token_cache_entries: u64,
}

impl Default for ServiceLimits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self { password_workers: cores, password_queue: cores * 4, token_cache_entries: 100_000 }
    }
}

/// The tokens a contract A login or refresh hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionTokens {
    pub token: String,
    pub refresh_token: String,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// Logins, refreshes, verification and revocation, over one [`Store`].
pub struct LoginService {
    store: Arc<dyn Store>,
    passwords: PasswordVerifier,
    policy: TokenPolicy,
    keys: ServerKeys,
    verified: moka::sync::Cache<TokenHash, Arc<CachedToken>>,
}

impl LoginService {
    pub fn new(
        store: Arc<dyn Store>,
        keys: ServerKeys,
        policy: TokenPolicy,
        limits: &ServiceLimits,
    ) -> Arc<Self> {
        let verified = moka::sync::Cache::builder()
            .max_capacity(limits.token_cache_entries)
            // Expiry and revocation are judged on every hit; the TTL only
            // bounds how long a forgotten entry occupies memory.
            .time_to_live(Duration::from_secs(300))
            .build();
        Arc::new(Self {
            store,
            passwords: PasswordVerifier::start(limits.password_workers, limits.password_queue),
            policy,
            keys,
            verified,
        })
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn policy(&self) -> &TokenPolicy {
        &self.policy
    }

    /// Forgets everything cached about tokens and principals, so the next
    /// check reads the database.
    pub fn forget_cached(&self) {
        self.verified.invalidate_all();
    }

    /// Watches the store's change counter and forgets cached state when
    /// another process (a CLI, another node) revoked or changed something.
    pub fn spawn_change_watcher(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let service = Arc::clone(self);
        tokio::spawn(async move {
            let mut seen = None;
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match service.store.change_counter().await {
                    Ok(now) if seen != Some(now) => {
                        if seen.is_some() {
                            service.forget_cached();
                        }
                        seen = Some(now);
                    }
                    Ok(_) => {}
                    // The database is away: nothing cached can be trusted to
                    // stay current, and requests will fail anyway.
                    Err(err) => {
                        tracing::debug!(%err, "change counter unavailable");
                        service.forget_cached();
                        seen = None;
                    }
                }
            }
        })
    }

    /// Deletes expired tokens in bounded batches, forever.
    pub fn spawn_sweeper(self: &Arc<Self>, every: Duration, batch: i64) -> tokio::task::JoinHandle<()> {
        let store = Arc::clone(&self.store);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                loop {
                    match store.sweep_expired(crate::time_util::now(), batch).await {
                        Ok(n) if n >= u64::try_from(batch).unwrap_or(u64::MAX) => continue,
                        Ok(n) => {
                            if n > 0 {
                                tracing::debug!(deleted = n, "swept expired tokens");
                            }
                            break;
                        }
                        Err(err) => {
                            tracing::warn!(%err, "sweeping expired tokens failed");
                            break;
                        }
                    }
                }
            }
        })
    }
}
