//! What the portal's overview shows of the whole deployment.

use super::{AdminError, AdminService};
use crate::store::Inventory;

impl AdminService {
    /// Principals and keys counted now; keys that stop working within
    /// `within` are counted, and the first `list` of them listed.
    pub async fn inventory(&self, within: std::time::Duration, list: u32) -> Result<Inventory, AdminError> {
        let now = self.now();
        Ok(self.store.inventory(now, crate::time_util::add(now, within), list).await?)
    }
}
