//! What OAuth 2.0 adds on top of the logins: introspection (RFC 7662) and
//! revocation (RFC 7009) of any kind of token, on behalf of a client.

use std::sync::Arc;

use super::LoginService;
use crate::error::{StoreError, VerifyError};
use crate::jwt::looks_like_jwt;
use crate::model::{AccessKeyLookup, Identity, PrincipalId};
use crate::secret::TokenHash;

/// The client's guess at what a token is (`token_type_hint`); only a hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKindHint {
    AccessToken,
    RefreshToken,
}

/// What introspection reveals of an active token.
#[derive(Debug, Clone)]
pub struct Introspection {
    pub identity: Arc<Identity>,
    pub is_refresh_token: bool,
}

impl LoginService {
    /// The token's identity if it is active now, whatever its kind: opaque
    /// access tokens (contracts A, B), JWTs (contract C, client credentials)
    /// and contract A refresh tokens.
    pub async fn introspect(
        &self,
        token: &str,
        hint: Option<TokenKindHint>,
    ) -> Result<Option<Introspection>, StoreError> {
        let as_refresh = || async {
            Ok::<_, StoreError>(
                self.active_refresh(token)
                    .await?
                    .map(|identity| Introspection { identity, is_refresh_token: true }),
            )
        };
        if hint == Some(TokenKindHint::RefreshToken)
            && let Some(found) = as_refresh().await?
        {
            return Ok(Some(found));
        }
        match self.verify_bearer(token).await {
            Ok(identity) => return Ok(Some(Introspection { identity, is_refresh_token: false })),
            Err(VerifyError::Store(err)) => return Err(err),
            Err(_) => {}
        }
        if hint != Some(TokenKindHint::RefreshToken) && !looks_like_jwt(token) {
            return as_refresh().await;
        }
        Ok(None)
    }

    async fn active_refresh(&self, token: &str) -> Result<Option<Arc<Identity>>, StoreError> {
        if !self.tags.may_be_ours(token, self.now()) {
            return Ok(None);
        }
        let Some(found) = self.store.find_refresh(&TokenHash::of(token)).await? else { return Ok(None) };
        let revoked = found.session_revoked
            || found.principal.tokens_revoked_at.is_some_and(|at| found.issued_at <= at)
            || !found.principal.enabled;
        if found.spent_at.is_some() || revoked || self.now() >= found.expires_at {
            return Ok(None);
        }
        Ok(Some(Arc::new(Identity::of(&found.principal, found.issued_at, found.expires_at))))
    }

    /// RFC 7009 on behalf of `client`: revokes the token if it belongs to the
    /// client's own principal. Unknown tokens and tokens of others are left
    /// alone without saying which (the answer is the same either way).
    pub async fn revoke_as_client(&self, client: &AccessKeyLookup, token: &str) -> Result<bool, StoreError> {
        self.revoke_owned_by(Some(client.principal.id), token).await
    }

    async fn revoke_owned_by(&self, owner: Option<PrincipalId>, token: &str) -> Result<bool, StoreError> {
        let owned = |principal: PrincipalId| owner.is_none_or(|owner| owner == principal);
        let at = self.now();
        let revoked = if looks_like_jwt(token) {
            match self.verify_bearer(token).await {
                Ok(identity) => match *identity {
                    Identity { principal_id, token_id: Some(jti), expires_at, .. } if owned(principal_id) => {
                        self.store.revoke_jwt(jti, expires_at).await?;
                        true
                    }
                    _ => false,
                },
                Err(VerifyError::Store(err)) => return Err(err),
                Err(_) => false,
            }
        } else if !self.tags.may_be_ours(token, at) {
            false
        } else {
            let hash = TokenHash::of(token);
            if let Some(found) = self.store.find_token(&hash).await? {
                owned(found.principal.id) && self.store.revoke_token(&hash, at).await?
            } else if let Some(found) = self.store.find_refresh(&hash).await? {
                owned(found.principal.id) && {
                    self.store.revoke_session(found.session_id, at).await?;
                    true
                }
            } else {
                false
            }
        };
        if revoked {
            self.forget_cached();
        }
        Ok(revoked)
    }
}
