//! Reading the audit trail.

use super::{AdminError, AdminService};
use crate::audit::{AuditQuery, AuditRecord};

/// Most events one page holds.
pub const MAX_PAGE: u32 = 1000;

impl AdminService {
    /// Events newest first, filtered as `query` says (a page of at most
    /// [`MAX_PAGE`], and one more to tell whether another page follows).
    pub async fn audit_events(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, AdminError> {
        let query = AuditQuery { limit: query.limit.clamp(1, MAX_PAGE + 1), ..query.clone() };
        Ok(self.store.list_audit(&query).await?)
    }
}

impl AdminService {
    /// Deletes audit rows older than `retention`, in bounded batches, every
    /// `every`, forever (as expired tokens are swept).
    pub fn spawn_audit_sweeper(
        self: &std::sync::Arc<Self>,
        retention: std::time::Duration,
        every: std::time::Duration,
        batch: i64,
    ) -> tokio::task::JoinHandle<()> {
        let admin = std::sync::Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let before = crate::time_util::sub(admin.now(), retention);
                loop {
                    match admin.store.sweep_audit(before, batch).await {
                        Ok(deleted) if deleted >= u64::try_from(batch).unwrap_or(u64::MAX) => continue,
                        Ok(_) => break,
                        Err(err) => {
                            tracing::warn!(error = %crate::error::report(&err), "sweeping old audit rows failed");
                            break;
                        }
                    }
                }
            }
        })
    }
}
