//! Revocation: one token, or every token of a principal.

use super::LoginService;
use crate::error::StoreError;
use crate::model::PrincipalId;
use crate::secret::TokenHash;
use crate::time_util::now;

impl LoginService {
    /// Revokes an access token, or the whole session of a refresh token.
    /// `false` if no stored token matches.
    pub async fn revoke_token(&self, token: &str) -> Result<bool, StoreError> {
        let revoked = self.store.revoke_token(&TokenHash::of(token), now()).await?;
        self.forget_cached();
        Ok(revoked)
    }

    pub async fn revoke_principal_tokens(&self, id: PrincipalId) -> Result<(), StoreError> {
        self.store.revoke_principal_tokens(id, now()).await?;
        self.forget_cached();
        Ok(())
    }
}
