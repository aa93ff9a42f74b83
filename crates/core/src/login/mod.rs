//! The one login/token service that every contract adapter calls: logins
//! (each with its [`LoginContext`]), refresh, token checks, introspection and
//! revocation on behalf of a client.

mod access_key_login;
mod api_key_login;
mod cache_counts;
mod guard;
mod known;
mod legacy;
mod migration;
mod oauth;
mod password_login;
mod refresh;
mod token_tag;
mod verify;

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use crate::clock::SharedClock;
use crate::error::StoreError;
use crate::jwt::{JwtCodec, JwtError};
use crate::password::PasswordVerifier;
use crate::secret::{PlainToken, TokenHash};
use crate::server_keys::{JwtKeys, ServerKeys};
use crate::store::Store;
use crate::usage::UsageRecorder;

pub use crate::context::LoginContext;

pub use access_key_login::{Client, IssuedJwt};
pub use api_key_login::IssuedToken;
pub use cache_counts::CacheName;
pub use migration::{Upstream, UpstreamAnswer, UpstreamClaims};
pub use oauth::{Introspection, TokenKindHint};
pub use token_tag::TokenTags;
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
    /// Contract C JWTs (`exp - iat`).
    pub accesskey_ttl: Duration,
    /// Tolerance on a JWT's `exp` (clock skew between nodes); opaque tokens
    /// end exactly.
    pub jwt_leeway: Duration,
}

impl Default for TokenPolicy {
    fn default() -> Self {
        Self {
            login_check_ttl: Duration::from_secs(24 * 3600),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            refresh_grace: Duration::ZERO,
            apikey_ttl: Duration::from_secs(20),
            accesskey_ttl: Duration::from_secs(3600),
            jwt_leeway: Duration::from_secs(5),
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
    /// Entries in each credential cache.
    pub key_cache_entries: u64,
}

impl Default for ServiceLimits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            password_workers: cores,
            // 32 waiting per worker bounds the wait to about half a second at
            // OWASP parameters (~17 ms per verify); beyond that, shed.
            password_queue: cores * 32,
            token_cache_entries: 100_000,
            key_cache_entries: 10_000,
        }
    }
}

/// The codec for `keys`: tokens live `accesskey_ttl`, give or take the leeway.
pub(crate) fn codec(keys: &JwtKeys, policy: &TokenPolicy) -> Result<JwtCodec, JwtError> {
    match keys {
        JwtKeys::Hmac(secret) => Ok(JwtCodec::hs384(secret.expose(), policy.jwt_leeway)),
        JwtKeys::Asymmetric(algorithm, records) => JwtCodec::asymmetric(
            *algorithm,
            records,
            policy.jwt_leeway,
            policy.accesskey_ttl + policy.jwt_leeway,
        ),
    }
}

/// Counts a credential or token looked up in the database (what the caches,
/// tags and filters did not settle): `tollgate_credential_lookups_total`.
fn count_lookup(what: &'static str) {
    metrics::counter!("tollgate_credential_lookups_total", "what" => what).increment(1);
}

/// A bounded cache of credentials; revocations reach it through
/// `forget_cached`, the TTL only bounds staleness of unused entries.
fn key_cache<K, V>(limits: &ServiceLimits) -> moka::sync::Cache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    moka::sync::Cache::builder()
        .max_capacity(limits.key_cache_entries)
        .time_to_live(Duration::from_secs(300))
        .build()
}

/// The tokens a contract A login or refresh hands out.
#[derive(Debug, Clone)]
pub struct SessionTokens {
    pub token: PlainToken,
    pub refresh_token: PlainToken,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// Logins, refreshes, verification and revocation, over one [`Store`].
pub struct LoginService {
    store: Arc<dyn Store>,
    passwords: PasswordVerifier,
    policy: TokenPolicy,
    keys: Arc<ServerKeys>,
    clock: SharedClock,
    /// Swapped whole when signing keys change (a rotation on any node).
    jwt: arc_swap::ArcSwap<JwtCodec>,
    verified: moka::sync::Cache<TokenHash, Arc<CachedToken>>,
    /// Access keys by their public `accessKey` (logins) and by id (JWT checks).
    access_keys: moka::sync::Cache<String, Arc<Client>>,
    access_keys_by_id: moka::sync::Cache<uuid::Uuid, Arc<Client>>,
    /// API keys by their keyed hash (contract B logins).
    api_keys: moka::sync::Cache<[u8; 32], Arc<api_key_login::CachedApiKey>>,
    /// JWTs whose signature was checked, by token hash.
    verified_jwts: moka::sync::Cache<TokenHash, Arc<verify::VerifiedJwt>>,
    /// Bumped whenever cached state is forgotten; what is kept beside a
    /// cache entry carries the generation it was read in.
    generation: std::sync::atomic::AtomicU64,
    usage: Arc<UsageRecorder>,
    /// Keyed tags in opaque tokens: forgeries refused without a lookup.
    tags: TokenTags,
    /// Which API keys and access keys exist (forgeries likewise).
    known: known::KnownCredentials,
    /// Lockouts and per-address limits (DESIGN.md §9).
    protection: crate::protection::Protection,
    lockouts: guard::LockoutWriter,
    /// The legacy endpoints of lazy migration, when configured.
    upstream: std::sync::OnceLock<Arc<dyn Upstream>>,
    /// Cache hits and misses, for `/metrics`.
    cache_counts: cache_counts::CacheCounts,
    /// Successful logins per contract today, for the portal's overview.
    tally: crate::tally::LoginTally,
}

impl LoginService {
    pub fn new(
        store: Arc<dyn Store>,
        keys: Arc<ServerKeys>,
        policy: TokenPolicy,
        limits: &ServiceLimits,
        protection: crate::protection::ProtectionPolicy,
        clock: SharedClock,
    ) -> Result<Arc<Self>, JwtError> {
        let verified = moka::sync::Cache::builder()
            .max_capacity(limits.token_cache_entries)
            // Expiry and revocation are judged on every hit; the TTL only
            // bounds how long a forgotten entry occupies memory.
            .time_to_live(Duration::from_secs(300))
            .build();
        let jwt = arc_swap::ArcSwap::from_pointee(codec(keys.jwt(), &policy)?);
        let tags = TokenTags::new(&keys.derived_key("tollgate token tags v1"), keys.untagged_until());
        Ok(Arc::new(Self {
            tags,
            known: known::KnownCredentials::new(),
            protection: crate::protection::Protection::new(protection),
            lockouts: guard::LockoutWriter::default(),
            upstream: std::sync::OnceLock::new(),
            cache_counts: cache_counts::CacheCounts::default(),
            tally: crate::tally::LoginTally::default(),
            store,
            jwt,
            access_keys: key_cache(limits),
            access_keys_by_id: key_cache(limits),
            api_keys: key_cache(limits),
            verified_jwts: moka::sync::Cache::builder()
                .max_capacity(limits.token_cache_entries)
                .time_to_live(Duration::from_secs(300))
                .build(),
            generation: std::sync::atomic::AtomicU64::new(0),
            usage: Arc::default(),
            passwords: PasswordVerifier::start(limits.password_workers, limits.password_queue),
            policy,
            keys,
            clock,
            verified,
        }))
    }

    /// `(cache, hits, misses)` since start.
    pub fn cache_counts(&self) -> Vec<(CacheName, u64, u64)> {
        self.cache_counts.read()
    }

    /// Now, by the clock this service was given.
    pub(crate) fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Reads which keys exist before the first login needs to know (a
    /// server calls this before it listens).
    pub async fn warm_up(&self) -> Result<(), StoreError> {
        self.known.catch_up(self.store.as_ref(), true).await.map(|_| ())
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn policy(&self) -> &TokenPolicy {
        &self.policy
    }

    /// This node's successful logins per contract today (the adapters
    /// record them, where they also count them for metrics).
    pub fn tally(&self) -> &crate::tally::LoginTally {
        &self.tally
    }

    /// Starts each new day of the login tally on time, every `every`.
    pub fn spawn_tally_keeper(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let service = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                service.tally.roll(service.now());
            }
        })
    }

    /// The JWT codec in force now. A guard, not a clone: every login and
    /// check reads it, and cloning the `Arc` is a write all cores contend for.
    pub(crate) fn codec(&self) -> arc_swap::Guard<Arc<JwtCodec>> {
        self.jwt.load()
    }

    /// Whether public signing keys are published (asymmetric algorithms).
    pub fn publishes_jwks(&self) -> bool {
        self.codec().algorithm().is_asymmetric()
    }

    /// The published public keys (RFC 7517), or `None` for HS384.
    pub fn jwks(&self) -> Option<serde_json::Value> {
        self.codec().jwks()
    }

    /// Re-reads the signing keys (after a rotation anywhere). HS384's secret
    /// does not change at run time.
    pub async fn reload_signing_keys(&self) -> Result<(), StoreError> {
        let algorithm = self.codec().algorithm();
        if !algorithm.is_asymmetric() {
            return Ok(());
        }
        let records = match self.keys.signing_keys(self.store.as_ref(), algorithm).await {
            Ok(records) => records,
            Err(crate::server_keys::ServerKeysError::Store(err)) => return Err(err),
            Err(err) => {
                tracing::error!(
                    error = %crate::error::report(&err),
                    "reloaded signing keys are unusable; keeping the current ones"
                );
                return Ok(());
            }
        };
        match codec(&JwtKeys::Asymmetric(algorithm, records), &self.policy) {
            Ok(fresh) => self.jwt.store(Arc::new(fresh)),
            Err(err) => tracing::error!(
                error = %crate::error::report(&err),
                "reloaded signing keys are unusable; keeping the current ones"
            ),
        }
        Ok(())
    }

    /// Forgets everything cached about tokens and principals, so the next
    /// check reads the database.
    pub fn forget_cached(&self) {
        self.verified.invalidate_all();
        self.access_keys.invalidate_all();
        self.access_keys_by_id.invalidate_all();
        self.api_keys.invalidate_all();
        // After the caches: a check that read the old generation may have
        // looked up old entries, and must not keep them under the new one.
        self.generation.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// Writes credentials' last-use times in the background every `every`.
    pub fn spawn_usage_flusher(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        self.usage.spawn_flusher(Arc::clone(&self.store) as Arc<dyn crate::store::CredentialStore>, every)
    }

    /// Writes pending last-use times now (on shutdown).
    pub async fn flush_usage(&self) {
        self.usage.flush(self.store.as_ref()).await;
    }

    /// Keeps caches current with changes made elsewhere (a CLI, another
    /// node): polls the store's change counter every `every`, and wakes at
    /// once when the store announces a change (PostgreSQL `LISTEN/NOTIFY`).
    ///
    /// While the database is unreachable the caches are kept: nothing can be
    /// revoked without it, and what was valid stays valid. Once it answers
    /// again everything cached is dropped, since other nodes may have changed
    /// things meanwhile.
    pub fn spawn_change_watcher(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let service = Arc::clone(self);
        let announced = Arc::new(tokio::sync::Notify::new());
        service.store.announce_changes(Arc::clone(&announced));
        tokio::spawn(async move {
            let mut seen = None;
            let mut stale = false;
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    () = announced.notified() => {}
                }
                match service.store.change_counter().await {
                    Ok(now) => {
                        if stale || seen.is_some_and(|seen| seen != now) {
                            service.forget_cached();
                            if let Err(err) = service.known.catch_up(service.store.as_ref(), true).await {
                                tracing::warn!(error = %crate::error::report(&err), "could not learn new keys");
                            }
                            if let Err(err) = service.reload_signing_keys().await {
                                tracing::warn!(error = %crate::error::report(&err), "could not reload signing keys");
                            }
                        }
                        seen = Some(now);
                        stale = false;
                    }
                    Err(err) => {
                        if !stale {
                            tracing::warn!(
                                error = %crate::error::report(&err),
                                "database unreachable; serving from caches until it returns"
                            );
                        }
                        stale = true;
                    }
                }
            }
        })
    }

    /// Deletes expired tokens in bounded batches, forever.
    pub fn spawn_sweeper(self: &Arc<Self>, every: Duration, batch: i64) -> tokio::task::JoinHandle<()> {
        let store = Arc::clone(&self.store);
        let clock = Arc::clone(&self.clock);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let mut deleted = 0;
                loop {
                    match store.sweep_expired(clock.now(), batch).await {
                        Ok(swept) => {
                            deleted += swept.deleted;
                            if !swept.more {
                                break;
                            }
                        }
                        Err(err) => {
                            tracing::warn!(error = %crate::error::report(&err), "sweeping expired tokens failed");
                            break;
                        }
                    }
                }
                if deleted > 0 {
                    tracing::debug!(deleted, "swept expired tokens");
                }
            }
        })
    }
}

/// A key just created through this node's management plane.
#[derive(Debug, Clone, Copy)]
pub enum CreatedKey<'a> {
    /// An API key, by its keyed hash.
    ApiKey(&'a [u8; 32]),
    /// An access key, by its public `accessKey`.
    AccessKey(&'a str),
}

/// What a management change must reach at once on this node: the login
/// service's caches and counts (other nodes follow the change counter and
/// the database).
#[async_trait::async_trait]
pub trait CacheControl: Send + Sync {
    fn forget_cached(&self);
    /// Signing keys were added: publish and use them as stored now.
    async fn signing_keys_changed(&self);
    /// A key was created: logins with it must work at once.
    fn key_created(&self, key: CreatedKey<'_>);
    /// The names this node counts failed logins for, unknown ones included.
    fn counted_names(&self) -> Vec<(String, crate::protection::LockState)>;
    /// Forgets this node's count and lock of a name.
    fn forget_name(&self, name: &str);
}

#[async_trait::async_trait]
impl CacheControl for LoginService {
    fn forget_cached(&self) {
        LoginService::forget_cached(self);
    }

    async fn signing_keys_changed(&self) {
        if let Err(err) = self.reload_signing_keys().await {
            tracing::warn!(error = %crate::error::report(&err), "could not reload signing keys");
        }
    }

    fn counted_names(&self) -> Vec<(String, crate::protection::LockState)> {
        LoginService::counted_names(self)
    }

    fn forget_name(&self, name: &str) {
        LoginService::forget_name(self, name);
    }

    fn key_created(&self, key: CreatedKey<'_>) {
        match key {
            CreatedKey::ApiKey(hash) => self.known.learn(known::KeyKind::ApiKey, hash),
            CreatedKey::AccessKey(key) => self.known.learn(known::KeyKind::AccessKey, key.as_bytes()),
        }
    }
}
