//! Storage of tokens: contract A's sessions and refresh tokens, opaque access
//! tokens (as hashes), revocations, and the sweep of expired ones.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::StoreError;
use crate::model::{RefreshLookup, RefreshRecord, SessionRecord, TokenLookup, TokenRecord};
use crate::secret::TokenHash;

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
pub trait TokenStore: Send + Sync + 'static {
    /// Durably stores a new session; returns only once committed.
    async fn insert_session(&self, new: NewSession) -> Result<(), StoreError>;
    /// Durably stores an access token; returns only once committed.
    async fn insert_token(&self, token: TokenRecord) -> Result<(), StoreError>;
    async fn find_token(&self, hash: &TokenHash) -> Result<Option<TokenLookup>, StoreError>;
    async fn find_refresh(&self, hash: &TokenHash) -> Result<Option<RefreshLookup>, StoreError>;
    /// Spends `rotation.spent` and stores its successor, atomically. `false`
    /// if the token was spent already (another request won the race).
    async fn rotate_refresh(&self, rotation: Rotation) -> Result<bool, StoreError>;

    /// Revokes one access token, or the whole session of a refresh token.
    /// `true` if the hash named a token.
    async fn revoke_token(&self, hash: &TokenHash, at: OffsetDateTime) -> Result<bool, StoreError>;
    async fn revoke_session(&self, session: Uuid, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Remembers `jti` as revoked until `expires_at` (when the token would
    /// have died anyway).
    async fn revoke_jwt(&self, jti: Uuid, expires_at: OffsetDateTime) -> Result<(), StoreError>;
    async fn is_jwt_revoked(&self, jti: Uuid) -> Result<bool, StoreError>;

    /// Whether any access or refresh token is stored (live or not).
    async fn holds_tokens(&self) -> Result<bool, StoreError>;

    /// Deletes tokens that expired before `before`, one bounded step of
    /// about `batch` rows per table; `more` says whether to call again.
    async fn sweep_expired(&self, before: OffsetDateTime, batch: i64) -> Result<Swept, StoreError>;
}
