//! The narrow storage interface the core needs. One implementation per
//! database lives in the `tollgate-store` crate; the core never sees SQL.

use std::sync::Arc;

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::StoreError;
use crate::model::{
    AccessKeyInfo, AccessKeyLookup, AccessKeyRecord, AccessKeyState, ApiKeyInfo, ApiKeyLookup, ApiKeyRecord,
    CredentialId, NewPrincipal, Principal, PrincipalId, RefreshLookup, RefreshRecord, SessionRecord,
    TokenLookup, TokenRecord,
};
use crate::secret::TokenHash;
use crate::signing_keys::{SigningAlgorithm, SigningKeyRecord};

/// A new login of contract A: its session, first access token and first
/// refresh token, written together.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub session: SessionRecord,
    pub token: TokenRecord,
    pub refresh: RefreshRecord,
}

/// A refresh rotation: the spent token and the pair that replaces it.
#[derive(Debug, Clone)]
pub struct Rotation {
    pub spent: TokenHash,
    pub spent_at: OffsetDateTime,
    pub token: TokenRecord,
    pub refresh: RefreshRecord,
    /// The new pair sealed for the holder of the spent token (grace period).
    pub successor: Option<Vec<u8>>,
}

/// One step of sweeping expired tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub deleted: u64,
    /// There may be more to sweep now (call again).
    pub more: bool,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Is the database reachable right now?
    async fn ping(&self) -> Result<(), StoreError>;

    // --- principals ---------------------------------------------------------
    async fn create_principal(&self, new: NewPrincipal) -> Result<Principal, StoreError>;
    /// Creates the principal unless one of that name exists; `true` if created.
    /// Safe when several processes seed the same database at once.
    async fn create_principal_if_absent(&self, new: NewPrincipal) -> Result<bool, StoreError>;
    async fn principal_by_name(&self, name: &str) -> Result<Option<Principal>, StoreError>;
    /// The principal and its password hash (if it has a password).
    async fn password_of(&self, name: &str) -> Result<Option<(Principal, Option<String>)>, StoreError>;
    async fn list_principals(&self) -> Result<Vec<Principal>, StoreError>;
    async fn set_enabled(&self, id: PrincipalId, enabled: bool) -> Result<(), StoreError>;
    async fn set_password(&self, id: PrincipalId, phc: Option<String>) -> Result<(), StoreError>;
    async fn remove_principal(&self, id: PrincipalId) -> Result<(), StoreError>;

    // --- tokens -------------------------------------------------------------
    /// Durably stores a new session; returns only once committed.
    async fn insert_session(&self, new: NewSession) -> Result<(), StoreError>;
    /// Durably stores an access token; returns only once committed.
    async fn insert_token(&self, token: TokenRecord) -> Result<(), StoreError>;
    async fn find_token(&self, hash: &TokenHash) -> Result<Option<TokenLookup>, StoreError>;
    async fn find_refresh(&self, hash: &TokenHash) -> Result<Option<RefreshLookup>, StoreError>;
    /// Spends `rotation.spent` and stores its successor, atomically. `false`
    /// if the token was spent already (another request won the race).
    async fn rotate_refresh(&self, rotation: Rotation) -> Result<bool, StoreError>;

    // --- revocation ---------------------------------------------------------
    /// Revokes one access token, or the whole session of a refresh token.
    /// `true` if the hash named a token.
    async fn revoke_token(&self, hash: &TokenHash, at: OffsetDateTime) -> Result<bool, StoreError>;
    async fn revoke_session(&self, session: Uuid, at: OffsetDateTime) -> Result<(), StoreError>;
    async fn revoke_principal_tokens(&self, id: PrincipalId, at: OffsetDateTime) -> Result<(), StoreError>;

    // --- API keys (contract B) ---------------------------------------------
    /// Stores a new key; `false` if a key with that hash exists already.
    async fn insert_api_key(&self, key: ApiKeyRecord) -> Result<bool, StoreError>;
    async fn find_api_key(&self, key_hash: &[u8; 32]) -> Result<Option<ApiKeyLookup>, StoreError>;
    async fn list_api_keys(&self, principal: PrincipalId) -> Result<Vec<ApiKeyInfo>, StoreError>;
    /// Revokes a key (and so every token issued with it); `false` if unknown.
    async fn revoke_api_key(&self, id: CredentialId, at: OffsetDateTime) -> Result<bool, StoreError>;
    /// Voids every token issued with the key so far, leaving the key usable.
    /// `false` if no such key.
    async fn revoke_credential_tokens(
        &self,
        id: CredentialId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    // --- access keys (contract C, OAuth 2.0 clients) ----------------------
    /// Stores a new key; `false` if its id or access key exists already.
    async fn insert_access_key(&self, key: AccessKeyRecord) -> Result<bool, StoreError>;
    async fn find_access_key(&self, access_key: &str) -> Result<Option<AccessKeyLookup>, StoreError>;
    async fn find_access_key_by_id(&self, id: CredentialId) -> Result<Option<AccessKeyLookup>, StoreError>;
    /// Every key, or one principal's.
    async fn list_access_keys(
        &self,
        principal: Option<PrincipalId>,
    ) -> Result<Vec<AccessKeyInfo>, StoreError>;
    /// Moves a key to `state` unless it is revoked (final); `false` then.
    async fn set_access_key_state(&self, id: CredentialId, state: AccessKeyState)
    -> Result<bool, StoreError>;
    /// Records when credentials (API keys, access keys) were last used
    /// (batched by the caller, off the request path).
    async fn touch_credentials(&self, used: &[(CredentialId, OffsetDateTime)]) -> Result<(), StoreError>;

    // --- JWTs revoked one by one -------------------------------------------
    /// Remembers `jti` as revoked until `expires_at` (when the token would
    /// have died anyway).
    async fn revoke_jwt(&self, jti: Uuid, expires_at: OffsetDateTime) -> Result<(), StoreError>;
    async fn is_jwt_revoked(&self, jti: Uuid) -> Result<bool, StoreError>;

    // --- asymmetric JWT signing keys ----------------------------------------
    /// Stores a key (and tells every process's caches); `false` if its kid exists.
    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> Result<bool, StoreError>;
    /// Every stored key of `algorithm`, oldest first.
    async fn signing_keys(&self, algorithm: SigningAlgorithm) -> Result<Vec<SigningKeyRecord>, StoreError>;

    // --- server secrets -----------------------------------------------------
    /// The secret stored under `name`, storing `candidate` first if there is
    /// none. Every process (and node) racing here ends up with the same one.
    async fn server_secret(&self, name: &str, candidate: Vec<u8>) -> Result<Vec<u8>, StoreError>;

    /// A number that grows whenever something that caches must forget
    /// changes (revocations, disabled principals, key state changes). Nodes
    /// and processes sharing the database poll it to invalidate their caches.
    async fn change_counter(&self) -> Result<i64, StoreError>;

    /// Wakes `waiter` whenever another process announces a change (a
    /// backend that can push, like PostgreSQL's `LISTEN/NOTIFY`); others
    /// rely on polling `change_counter` and do nothing here.
    fn announce_changes(&self, waiter: Arc<tokio::sync::Notify>) {
        let _ = waiter;
    }

    /// Deletes tokens that expired before `before`, one bounded step of
    /// about `batch` rows per table; `more` says whether to call again.
    async fn sweep_expired(&self, before: OffsetDateTime, batch: i64) -> Result<Swept, StoreError>;
}
