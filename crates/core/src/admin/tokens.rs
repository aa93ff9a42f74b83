//! Operator revocations: one token, every token of a principal, every token
//! issued with one key.

use super::api_keys::parse_id;
use super::{AdminError, AdminService};
use crate::context::AdminContext;
use crate::jwt::looks_like_jwt;
use crate::model::{CredentialId, Principal};
use crate::secret::TokenHash;
use crate::time_util::from_millis;

impl AdminService {
    /// Revokes any token: an access token, a refresh token (its whole
    /// session) or a JWT (by its `jti`, if correctly signed and unexpired).
    /// `false` if no token matched.
    pub async fn revoke_token(&self, context: &AdminContext, token: &str) -> Result<bool, AdminError> {
        let token = token.trim();
        let revoked = if looks_like_jwt(token) {
            let codec = self.codec().await?;
            match codec.verify(token) {
                Ok(claims) => match claims.jti {
                    Some(jti)
                        if claims.exp.saturating_mul(1000) > crate::time_util::to_millis(self.now()) =>
                    {
                        self.store.revoke_jwt(jti, from_millis(claims.exp.saturating_mul(1000))).await?;
                        true
                    }
                    _ => false,
                },
                Err(_) => false,
            }
        } else {
            self.store.revoke_token(&TokenHash::of(token), self.now()).await?
        };
        if revoked {
            self.changed();
            self.audit(context, "token.revoke", "token", None).await;
        }
        Ok(revoked)
    }

    /// Voids every token the principal holds now.
    pub async fn revoke_principal_tokens(
        &self,
        context: &AdminContext,
        name: &str,
    ) -> Result<Principal, AdminError> {
        let principal = self.find_principal(name).await?;
        self.store.revoke_principal_tokens(principal.id, self.now()).await?;
        self.changed();
        self.audit(context, "token.revoke", &principal.name, None).await;
        Ok(principal)
    }

    /// Voids every token issued with the key so far; the key stays usable.
    /// `key` is an API key's or access key's id, or an access key's 40-hex
    /// `accessKey` (as `accesskey set-state` takes it).
    pub async fn revoke_key_tokens(
        &self,
        context: &AdminContext,
        key: &str,
    ) -> Result<CredentialId, AdminError> {
        let id = match parse_id(key) {
            Ok(id) => id,
            Err(_) => self.find_access_key(key).await?.id,
        };
        if !self.store.revoke_credential_tokens(id, self.now()).await? {
            return Err(AdminError::NoSuchKey(key.to_owned()));
        }
        self.changed();
        self.audit(context, "token.revoke", &id.to_string(), None).await;
        Ok(id)
    }

    /// The codec that checks this deployment's JWTs, with the signing keys
    /// stored now (a rotation may have added one since start-up).
    async fn codec(&self) -> Result<crate::jwt::JwtCodec, AdminError> {
        let keys = match self.keys.jwt() {
            crate::server_keys::JwtKeys::Hmac(secret) => crate::server_keys::JwtKeys::Hmac(secret.clone()),
            crate::server_keys::JwtKeys::Asymmetric(algorithm, _) => crate::server_keys::JwtKeys::Asymmetric(
                *algorithm,
                self.keys.signing_keys(self.store.as_ref(), *algorithm).await.map_err(AdminError::Keys)?,
            ),
        };
        crate::login::codec(&keys, &self.policy).map_err(AdminError::Signing)
    }
}
