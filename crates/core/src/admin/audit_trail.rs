//! Reading the audit trail.

use super::{AdminError, AdminService};
use crate::audit::{AuditQuery, AuditRecord};

/// Most events one page holds.
pub const MAX_PAGE: u32 = 1000;

impl AdminService {
    /// Events newest first, filtered as `query` says (a page of at most
    /// [`MAX_PAGE`]).
    pub async fn audit_events(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, AdminError> {
        let query = AuditQuery { limit: query.limit.clamp(1, MAX_PAGE), ..query.clone() };
        Ok(self.store.list_audit(&query).await?)
    }
}
