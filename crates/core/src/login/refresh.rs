//! Refresh-token rotation with reuse detection.
//!
//! Every refresh token is single use. Presenting a spent one means two
//! parties hold it, so the whole session (every refresh token and access
//! token descended from that login) is revoked at once. The optional grace
//! period forgives one case: a client that lost the response and retries
//! within the grace gets the very same successor pair again.

use serde::{Deserialize, Serialize};

use zeroize::Zeroizing;

use super::{LoginContext, LoginService, SessionTokens};
use crate::error::LoginError;
use crate::model::RefreshLookup;
use crate::secret::{PlainToken, TokenHash, open_for_token, seal_for_token};
use crate::store::Rotation;
use crate::time_util::{add, from_millis, to_millis};

#[derive(Serialize, Deserialize)]
struct SealedPair {
    token: String,
    refresh_token: String,
    issued_at_ms: i64,
    expires_at_ms: i64,
}

impl Drop for SealedPair {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.token);
        zeroize::Zeroize::zeroize(&mut self.refresh_token);
    }
}

impl LoginService {
    pub async fn refresh_session(
        &self,
        context: &LoginContext,
        refresh_token: &str,
    ) -> Result<SessionTokens, LoginError> {
        self.guarded(context, self.refresh(refresh_token)).await
    }

    async fn refresh(&self, refresh_token: &str) -> Result<SessionTokens, LoginError> {
        if !self.tags.may_be_ours(refresh_token, self.now()) {
            return Err(LoginError::BadCredentials);
        }
        let hash = TokenHash::of(refresh_token);
        super::count_lookup("refresh_token");
        let Some(found) = self.store.find_refresh(&hash).await? else {
            return Err(LoginError::BadCredentials);
        };
        let at = self.now();
        if found.session_revoked
            || !found.principal.enabled
            || found.principal.tokens_revoked_at.is_some_and(|r| found.issued_at <= r)
        {
            return Err(LoginError::BadCredentials);
        }
        if found.spent_at.is_some() {
            return self.respond_to_reuse(refresh_token, &found).await;
        }
        if at >= found.expires_at {
            return Err(LoginError::BadCredentials);
        }

        let (tokens, token, refresh) = self.mint_pair(&found.principal, found.session_id, at);
        let successor = (!self.policy.refresh_grace.is_zero()).then(|| {
            let pair = SealedPair {
                token: tokens.token.expose().to_owned(),
                refresh_token: tokens.refresh_token.expose().to_owned(),
                issued_at_ms: to_millis(tokens.issued_at),
                expires_at_ms: to_millis(tokens.expires_at),
            };
            seal_for_token(refresh_token, &Zeroizing::new(serde_json::to_vec(&pair).unwrap_or_default()))
        });
        let rotation = Rotation { spent: hash, spent_at: at, token, refresh, successor };
        if self.store.rotate_refresh(rotation).await? {
            return Ok(tokens);
        }
        // Another request spent it between our read and our write.
        match self.store.find_refresh(&hash).await? {
            Some(again) => self.respond_to_reuse(refresh_token, &again).await,
            None => Err(LoginError::BadCredentials),
        }
    }

    async fn respond_to_reuse(
        &self,
        refresh_token: &str,
        found: &RefreshLookup,
    ) -> Result<SessionTokens, LoginError> {
        let spent_at = found.spent_at.unwrap_or(found.issued_at);
        let within_grace =
            self.now() <= add(spent_at, self.policy.refresh_grace) && !self.policy.refresh_grace.is_zero();
        if within_grace {
            let pair = found
                .successor
                .as_deref()
                .and_then(|sealed| open_for_token(refresh_token, sealed))
                .and_then(|plain| serde_json::from_slice::<SealedPair>(&Zeroizing::new(plain)).ok());
            if let Some(pair) = pair {
                return Ok(SessionTokens {
                    token: PlainToken::new(pair.token.as_str()),
                    refresh_token: PlainToken::new(pair.refresh_token.as_str()),
                    issued_at: from_millis(pair.issued_at_ms),
                    expires_at: from_millis(pair.expires_at_ms),
                });
            }
        }
        tracing::warn!(session = %found.session_id, principal = %found.principal.name,
            "spent refresh token presented again; revoking its whole session");
        self.store.revoke_session(found.session_id, self.now()).await?;
        let details = serde_json::json!({ "session": found.session_id.to_string() });
        self.audit_system_event("refresh.reuse", &found.principal.name, Some(details));
        self.forget_cached();
        Err(LoginError::BadCredentials)
    }
}
