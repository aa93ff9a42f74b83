//! Contract B's login: a login name and an API key in, a short-lived opaque
//! token (a random UUID) out.

use std::ops::Deref;
use std::sync::Arc;

use super::known::KeyKind;
use super::{LoginContext, LoginService};
use crate::error::LoginError;
use crate::model::{ApiKeyLookup, TokenKind, TokenRecord};
use crate::secret::{ApiKey, PlainToken, TokenHash, decode_api_key};
use crate::time_util::add;
use crate::usage::UseNote;

/// An API key as the login cache keeps it: what the store said, and when
/// its use was last handed to the usage recorder.
pub struct CachedApiKey {
    key: ApiKeyLookup,
    use_noted: UseNote,
}

impl Deref for CachedApiKey {
    type Target = ApiKeyLookup;

    fn deref(&self) -> &ApiKeyLookup {
        &self.key
    }
}

/// A token issued for an API key.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: PlainToken,
    pub issued_at: time::OffsetDateTime,
    pub expires_at: time::OffsetDateTime,
    /// The lifetime, as the contract states it (`ExpireInSec`).
    pub lifetime: std::time::Duration,
}

impl LoginService {
    /// `MalformedKey` for a key that is not base64 of 16 bytes,
    /// `BadCredentials` for an unknown login or a key of someone else,
    /// `KeyNotUsable` for the holder's revoked or expired key.
    pub async fn login_with_api_key(
        &self,
        context: &LoginContext,
        login: &str,
        api_key: &ApiKey,
    ) -> Result<IssuedToken, LoginError> {
        self.guarded(context, self.api_key_login(context, login, api_key)).await
    }

    async fn api_key_login(
        &self,
        context: &LoginContext,
        login: &str,
        api_key: &ApiKey,
    ) -> Result<IssuedToken, LoginError> {
        let raw = zeroize::Zeroizing::new(decode_api_key(api_key.expose()).ok_or(LoginError::MalformedKey)?);
        let key_hash = self.keys.credential_hash(raw.as_ref());
        let key = match self.api_key_by_hash(&key_hash).await? {
            Some(key) => key,
            // A key not held here may be the legacy service's (lazy migration).
            None => match self.migrate_api_key(login, key_hash, context).await {
                None => return Err(LoginError::BadCredentials),
                Some(migrated) => {
                    migrated?;
                    self.api_key_by_hash(&key_hash).await?.ok_or(LoginError::BadCredentials)?
                }
            },
        };
        if key.principal.name != login || !key.principal.enabled {
            return Err(LoginError::BadCredentials);
        }
        let issued_at = self.now();
        if key.revoked || key.expires_at.is_some_and(|at| at <= issued_at) {
            return Err(LoginError::KeyNotUsable);
        }
        // The document fixes the token's format: a random (version 4) UUID,
        // here with a keyed tag in 26 of its random bits (token_tag.rs).
        let token = self.tags.apikey_token();
        key.use_noted.note(&self.usage, key.id, issued_at);
        // A token outlives neither its configured lifetime nor its key, and
        // `ExpireInSec` states what it really gets (whole seconds, rounded
        // down: never more than the truth).
        let configured_end = add(issued_at, self.policy.apikey_ttl);
        let (expires_at, lifetime) = match key.expires_at {
            Some(key_ends) if key_ends < configured_end => (key_ends, (key_ends - issued_at).unsigned_abs()),
            _ => (configured_end, self.policy.apikey_ttl),
        };
        self.store
            .insert_token(TokenRecord {
                hash: TokenHash::of(token.expose()),
                kind: TokenKind::ApiKey,
                principal_id: key.principal.id,
                session_id: None,
                credential_id: Some(key.id),
                issued_at,
                expires_at,
            })
            .await?;
        Ok(IssuedToken { token, issued_at, expires_at, lifetime })
    }

    /// The key with this keyed hash, from the cache when possible. A key
    /// nobody was given is refused without a lookup.
    async fn api_key_by_hash(&self, key_hash: &[u8; 32]) -> Result<Option<Arc<CachedApiKey>>, LoginError> {
        let cached = self.api_keys.get(key_hash);
        self.cache_counts.record(super::CacheName::ApiKeys, cached.is_some());
        if let Some(hit) = cached {
            return Ok(Some(hit));
        }
        if !self.known.may_exist(self.store.as_ref(), KeyKind::ApiKey, key_hash).await? {
            return Ok(None);
        }
        super::count_lookup("api_key");
        let Some(found) = self.store.find_api_key(key_hash).await? else { return Ok(None) };
        let found = Arc::new(CachedApiKey { key: found, use_noted: UseNote::default() });
        self.api_keys.insert(*key_hash, Arc::clone(&found));
        Ok(Some(found))
    }
}
