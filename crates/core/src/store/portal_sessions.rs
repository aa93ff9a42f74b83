//! Storage of the admin portal's sign-in sessions: only a hash of each
//! session id, so that a copy of the database signs nobody in.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::model::{Principal, PrincipalId};
use crate::secret::TokenHash;

/// A portal session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSessionRecord {
    /// SHA-256 of the session id the browser holds.
    pub id_hash: TokenHash,
    pub principal_id: PrincipalId,
    pub created_at: OffsetDateTime,
    /// The last request seen with it (to the minute: see `portal`).
    pub last_seen_at: OffsetDateTime,
}

#[async_trait]
pub trait PortalSessionStore: Send + Sync + 'static {
    async fn insert_portal_session(&self, record: &PortalSessionRecord) -> Result<(), StoreError>;
    /// The session and the principal it signs in, as they are now.
    async fn portal_session(
        &self,
        id_hash: &TokenHash,
    ) -> Result<Option<(PortalSessionRecord, Principal)>, StoreError>;
    /// Notes a request made with the session at `at`.
    async fn touch_portal_session(&self, id_hash: &TokenHash, at: OffsetDateTime) -> Result<(), StoreError>;
    /// Spends the one-time id of a form that makes a secret: `true` the
    /// first time, `false` when it is the session's last one spent (the
    /// same form sent again, as a reload does) or the session is gone.
    async fn spend_portal_form(&self, id_hash: &TokenHash, form: &str) -> Result<bool, StoreError>;
    /// Ends a session; `true` if there was one.
    async fn delete_portal_session(&self, id_hash: &TokenHash) -> Result<bool, StoreError>;
    /// Deletes up to `batch` sessions idle since before `idle_before` or
    /// started before `started_before`; how many.
    async fn sweep_portal_sessions(
        &self,
        idle_before: OffsetDateTime,
        started_before: OffsetDateTime,
        batch: i64,
    ) -> Result<u64, StoreError>;
}
