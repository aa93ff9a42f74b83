//! Storage of API keys (contract B) and access keys (contract C, OAuth 2.0
//! clients): only keyed hashes of their secrets.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::model::{
    AccessKeyInfo, AccessKeyLookup, AccessKeyRecord, AccessKeyState, ApiKeyInfo, ApiKeyLookup, ApiKeyRecord,
    CredentialId, PrincipalId,
};

/// Keys created since some instant: what the login service's filters of
/// existing keys learn from.
#[derive(Debug, Clone, Default)]
pub struct CreatedCredentials {
    /// API keys' keyed hashes.
    pub api_key_hashes: Vec<[u8; 32]>,
    /// Access keys' public `accessKey`s.
    pub access_keys: Vec<String>,
    /// The newest creation time among them.
    pub newest: Option<OffsetDateTime>,
}

#[async_trait]
pub trait CredentialStore: Send + Sync + 'static {
    /// Every key created at or after `since` (every key at all: `None`).
    async fn credentials_created_since(
        &self,
        since: Option<OffsetDateTime>,
    ) -> Result<CreatedCredentials, StoreError>;
    /// Stores a new key; `false` if a key with that hash exists already.
    async fn insert_api_key(&self, key: ApiKeyRecord) -> Result<bool, StoreError>;
    async fn find_api_key(&self, key_hash: &[u8; 32]) -> Result<Option<ApiKeyLookup>, StoreError>;
    async fn list_api_keys(&self, principal: PrincipalId) -> Result<Vec<ApiKeyInfo>, StoreError>;
    /// Revokes a key (and so every token issued with it); `false` if unknown.
    async fn revoke_api_key(&self, id: CredentialId, at: OffsetDateTime) -> Result<bool, StoreError>;
    /// Voids every token issued with the key (API key or access key) so far,
    /// leaving the key usable. `false` if no such key.
    async fn revoke_credential_tokens(
        &self,
        id: CredentialId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Stores a new key; `false` if its id or access key exists already.
    async fn insert_access_key(&self, key: AccessKeyRecord) -> Result<bool, StoreError>;
    async fn find_access_key(&self, access_key: &str) -> Result<Option<AccessKeyLookup>, StoreError>;
    async fn find_access_key_by_id(&self, id: CredentialId) -> Result<Option<AccessKeyLookup>, StoreError>;
    /// Every key, or one principal's.
    async fn list_access_keys(
        &self,
        principal: Option<PrincipalId>,
    ) -> Result<Vec<AccessKeyInfo>, StoreError>;
    /// One key as listed.
    async fn access_key_info(&self, id: CredentialId) -> Result<Option<AccessKeyInfo>, StoreError>;
    /// Sets when the key expires (never: `None`); `false` if no such key.
    async fn set_access_key_expiry(
        &self,
        id: CredentialId,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError>;
    /// Replaces a key's legacy secret hash `from` with the keyed hash, unless
    /// another login did first; `true` if this call replaced it.
    async fn upgrade_access_secret(
        &self,
        id: CredentialId,
        from: &str,
        secret_hash: [u8; 32],
    ) -> Result<bool, StoreError>;
    /// Moves a key to `state` unless it is revoked (final); `false` then.
    async fn set_access_key_state(&self, id: CredentialId, state: AccessKeyState)
    -> Result<bool, StoreError>;

    /// Records when credentials (API keys, access keys) were last used
    /// (batched by the caller, off the request path).
    async fn touch_credentials(&self, used: &[(CredentialId, OffsetDateTime)]) -> Result<(), StoreError>;
}
