//! Storage of the audit trail.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::audit::{AuditEvent, AuditQuery, AuditRecord};
use crate::error::StoreError;

#[async_trait]
pub trait AuditStore: Send + Sync + 'static {
    async fn record_audit(&self, event: &AuditEvent) -> Result<(), StoreError>;
    /// Newest first (by write order).
    async fn list_audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError>;
    /// Deletes up to `batch` events older than `before`; how many.
    async fn sweep_audit(&self, before: OffsetDateTime, batch: i64) -> Result<u64, StoreError>;
}
