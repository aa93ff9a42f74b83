//! Bearer-token verification: who is this token, if anyone?

use std::sync::Arc;

use super::LoginService;
use crate::error::VerifyError;
use crate::jwt::looks_like_jwt;
use crate::model::{AccessKeyLookup, AccessKeyState, CredentialId, Identity, PrincipalId, TokenLookup};
use crate::secret::TokenHash;
use crate::time_util::{from_millis, now};

/// What the verification cache keeps about a token.
pub type CachedToken = TokenLookup;

impl LoginService {
    /// Checks a bearer token of any kind and returns whom it identifies.
    pub async fn verify_bearer(&self, token: &str) -> Result<Identity, VerifyError> {
        if looks_like_jwt(token) {
            return self.verify_jwt(token).await;
        }
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

    /// A JWT is checked statelessly (signature, algorithm, expiry) apart from
    /// the current state of the access key it names and of its holder.
    async fn verify_jwt(&self, token: &str) -> Result<Identity, VerifyError> {
        let hash = TokenHash::of(token);
        let claims = match self.verified_jwts.get(&hash) {
            // The signature was checked before; expiry is judged again below.
            Some(claims) => claims,
            None => {
                let claims = Arc::new(
                    self.codec().verify(token).map_err(|err| VerifyError::Invalid(err.to_string()))?,
                );
                self.verified_jwts.insert(hash, Arc::clone(&claims));
                claims
            }
        };
        let leeway = i64::try_from(self.policy.jwt_leeway.as_secs()).unwrap_or(i64::MAX);
        if claims.exp.saturating_add(leeway) < now().unix_timestamp() {
            return Err(VerifyError::Expired);
        }
        let key = self.access_key_by_id(CredentialId(claims.ak)).await?.ok_or(VerifyError::Revoked)?;
        if key.principal.id != PrincipalId(claims.uid) {
            return Err(VerifyError::Invalid("uid does not match the access key".into()));
        }
        let now = now();
        if key.state.effective(key.expires_at, now) != AccessKeyState::Active {
            return Err(VerifyError::Revoked);
        }
        if !key.principal.enabled {
            return Err(VerifyError::PrincipalDisabled);
        }
        // `iat` has whole seconds: a token issued in the very second of a
        // revocation counts as revoked (erring towards refusal).
        let issued_ms = claims.iat.saturating_mul(1000);
        let revoked_before = |at: Option<time::OffsetDateTime>| {
            at.is_some_and(|at| issued_ms <= crate::time_util::to_millis(at))
        };
        if revoked_before(key.tokens_revoked_at) || revoked_before(key.principal.tokens_revoked_at) {
            return Err(VerifyError::Revoked);
        }
        if let Some(jti) = claims.jti
            && self.is_jwt_revoked(jti).await?
        {
            return Err(VerifyError::Revoked);
        }
        self.usage.record(key.id, now);
        Ok(Identity {
            principal_id: key.principal.id,
            name: key.principal.name.clone(),
            roles: claims.ar.clone(),
            realm: claims.realm.clone(),
            attributes: key.principal.attributes.clone(),
            issued_at: from_millis(issued_ms),
            expires_at: from_millis(claims.exp.saturating_mul(1000)),
            client_id: Some(key.access_key.clone()),
            token_id: claims.jti,
        })
    }

    /// Whether a JWT was revoked on its own; answers are cached until the
    /// next change anywhere (revocations bump the change counter).
    async fn is_jwt_revoked(&self, jti: uuid::Uuid) -> Result<bool, VerifyError> {
        if let Some(revoked) = self.revoked_jtis.get(&jti) {
            return Ok(revoked);
        }
        let revoked = self.store.is_jwt_revoked(jti).await?;
        self.revoked_jtis.insert(jti, revoked);
        Ok(revoked)
    }

    pub(super) async fn access_key_by_id(
        &self,
        id: CredentialId,
    ) -> Result<Option<Arc<AccessKeyLookup>>, VerifyError> {
        if let Some(hit) = self.access_keys_by_id.get(&id.0) {
            return Ok(Some(hit));
        }
        let Some(found) = self.store.find_access_key_by_id(id).await? else { return Ok(None) };
        let found = Arc::new(found);
        self.access_keys_by_id.insert(id.0, Arc::clone(&found));
        Ok(Some(found))
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
    Ok(Identity::of(&token.principal, token.issued_at, token.expires_at))
}
