//! Revocation of every token of a principal (one token: see `oauth.rs`).

use super::LoginService;
use crate::error::StoreError;
use crate::model::PrincipalId;
use crate::time_util::now;

impl LoginService {
    pub async fn revoke_principal_tokens(&self, id: PrincipalId) -> Result<(), StoreError> {
        self.store.revoke_principal_tokens(id, now()).await?;
        self.forget_cached();
        Ok(())
    }
}
