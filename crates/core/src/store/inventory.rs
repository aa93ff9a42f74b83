//! What the admin portal's overview counts: principals and keys, read in a
//! few aggregate queries (never every row into memory).

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::error::StoreError;

/// Counts over the whole database at one instant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    pub principals: u64,
    pub disabled_principals: u64,
    /// Principals whose password is stored in a format other than argon2id
    /// (imported, waiting for their first login to be rehashed).
    pub legacy_passwords: u64,
    /// API keys by state (`active`, `expired`, `revoked`), as they stand.
    pub api_keys: Vec<(String, u64)>,
    /// Access keys by state (`pending`, `active`, `expired`, `revoked`).
    pub access_keys: Vec<(String, u64)>,
    /// Usable keys (either kind) whose expiry falls within the horizon.
    pub expiring: u64,
    /// The first of them, soonest first.
    pub expiring_first: Vec<ExpiringKey>,
}

/// A key that stops working soon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiringKey {
    /// `apikey` or `accesskey`.
    pub kind: &'static str,
    /// The key's id.
    pub id: uuid::Uuid,
    /// The access key's public `accessKey`; none for an API key.
    pub access_key: Option<String>,
    pub principal_id: crate::model::PrincipalId,
    pub principal: String,
    pub expires_at: OffsetDateTime,
}

#[async_trait]
pub trait InventoryStore: Send + Sync + 'static {
    /// Counts at `now`; keys expiring after `now` and at or before
    /// `horizon` are counted, and the first `list` of them listed.
    async fn inventory(
        &self,
        now: OffsetDateTime,
        horizon: OffsetDateTime,
        list: u32,
    ) -> Result<Inventory, StoreError>;
}
