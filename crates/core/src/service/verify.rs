//! Bearer-token verification: who is this token, if anyone?

use std::sync::Arc;

use super::LoginService;
use crate::error::VerifyError;
use crate::model::{Identity, TokenLookup};
use crate::secret::TokenHash;
use crate::time_util::now;

/// What the verification cache keeps about a token.
pub type CachedToken = TokenLookup;

impl LoginService {
    /// Checks an opaque bearer token and returns whom it identifies.
    pub async fn verify_bearer(&self, token: &str) -> Result<Identity, VerifyError> {
        let hash = TokenHash::of(token);
        let lookup = match self.verified.get(&hash) {
            Some(hit) => hit,
            None => {
                let found = self.store.find_token(&hash).await?.ok_or(VerifyError::Unknown)?;
                let found = Arc::new(found);
                self.verified.insert(hash, Arc::clone(&found));
                found
            }
        };
        judge(&lookup)
    }
}

fn judge(token: &TokenLookup) -> Result<Identity, VerifyError> {
    if token.revoked || token.principal.tokens_revoked_at.is_some_and(|at| token.issued_at <= at) {
        return Err(VerifyError::Revoked);
    }
    if !token.principal.enabled {
        return Err(VerifyError::PrincipalDisabled);
    }
    // Opaque tokens end exactly at their expiry: no leeway.
    let now = now();
    if now >= token.expires_at || token.credential_expires_at.is_some_and(|at| now >= at) {
        return Err(VerifyError::Expired);
    }
    Ok(Identity::of(&token.principal, token.expires_at))
}
