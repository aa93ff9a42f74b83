//! Bearer-token verification: who is this token, if anyone?

use std::sync::Arc;
use std::sync::atomic::Ordering;

use arc_swap::ArcSwapOption;

use super::LoginService;
use super::access_key_login::Client;
use crate::error::VerifyError;
use crate::jwt::{VerifiedClaims, looks_like_jwt};
use crate::model::{AccessKeyState, CredentialId, Identity, PrincipalId, TokenLookup};
use crate::secret::TokenHash;
use crate::time_util::from_millis;

/// What the verification cache keeps about a token.
pub type CachedToken = TokenLookup;

/// A JWT whose signature was checked: a signature stays valid, so later
/// checks only judge expiry and the state of its key.
pub(super) struct VerifiedJwt {
    claims: VerifiedClaims,
    state: ArcSwapOption<KeyState>,
}

pub(super) struct KeyState {
    generation: u64,
    key: Arc<Client>,
    jti_revoked: bool,
    /// Whom the token identifies while this state holds: built once, so a
    /// repeated check hands out the same answer instead of copying it.
    identity: Arc<Identity>,
}

impl LoginService {
    /// Checks a bearer token of any kind and returns whom it identifies.
    pub async fn verify_bearer(&self, token: &str) -> Result<Arc<Identity>, VerifyError> {
        if looks_like_jwt(token) {
            return self.verify_jwt(token).await;
        }
        let hash = TokenHash::of(token);
        let cached = self.verified.get(&hash);
        self.cache_counts.record(super::CacheName::Tokens, cached.is_some());
        let lookup = match cached {
            Some(hit) => hit,
            // A token that was not made here is refused without a lookup.
            None if !self.tags.may_be_ours(token, self.now()) => return Err(VerifyError::Unknown),
            None => {
                super::count_lookup("token");
                let found = self.store.find_token(&hash).await?.ok_or(VerifyError::Unknown)?;
                let found = Arc::new(found);
                self.verified.insert(hash, Arc::clone(&found));
                found
            }
        };
        judge(&lookup, self.now())
    }

    /// A JWT is checked statelessly (signature, algorithm, expiry) apart from
    /// the current state of the access key it names and of its holder.
    async fn verify_jwt(&self, token: &str) -> Result<Arc<Identity>, VerifyError> {
        let hash = TokenHash::of(token);
        let cached = self.verified_jwts.get(&hash);
        self.cache_counts.record(super::CacheName::Jwts, cached.is_some());
        let verified = match cached {
            // The signature was checked before; expiry is judged again below.
            Some(verified) => verified,
            None => {
                let claims = self.codec().verify(token).map_err(VerifyError::Invalid)?;
                let verified = Arc::new(VerifiedJwt { claims, state: ArcSwapOption::empty() });
                self.verified_jwts.insert(hash, Arc::clone(&verified));
                verified
            }
        };
        let claims = &verified.claims;
        let seconds = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        let now = self.now();
        match claims.judge_times(
            now.unix_timestamp(),
            seconds(self.policy.jwt_leeway),
            seconds(self.policy.accesskey_ttl),
        ) {
            Ok(()) => {}
            Err(crate::jwt::TimeClaimError::Expired) => return Err(VerifyError::Expired),
            Err(other) => return Err(VerifyError::TimeClaims(other)),
        }
        let state = self.key_state(&verified).await?;
        let key = &state.key;
        if key.principal.id != PrincipalId(claims.uid) {
            return Err(VerifyError::ClaimsMismatch);
        }
        if key.state.effective(key.expires_at, now) != AccessKeyState::Active {
            return Err(VerifyError::Revoked);
        }
        if !key.principal.enabled {
            return Err(VerifyError::PrincipalDisabled);
        }
        let issued_ms = issued_millis(claims.iat, claims.jti);
        let revoked_before = |at: Option<time::OffsetDateTime>| {
            at.is_some_and(|at| issued_ms <= crate::time_util::to_millis(at))
        };
        if state.jti_revoked
            || revoked_before(key.tokens_revoked_at)
            || revoked_before(key.principal.tokens_revoked_at)
        {
            return Err(VerifyError::Revoked);
        }
        key.use_noted.note(&self.usage, key.id, now);
        Ok(Arc::clone(&state.identity))
    }

    /// The access key a JWT names and whether its `jti` was revoked, kept in
    /// the token's cache entry until anything changes (a change bumps the
    /// generation), so a repeated check costs one cache lookup, not three.
    async fn key_state(&self, verified: &VerifiedJwt) -> Result<Arc<KeyState>, VerifyError> {
        // Read before looking anything up: a change after this point leaves
        // the entry with an older generation, so it is looked up again.
        let generation = self.generation.load(Ordering::Acquire);
        if let Some(state) = verified.state.load_full()
            && state.generation == generation
        {
            return Ok(state);
        }
        let claims = &verified.claims;
        let key = self.access_key_by_id(CredentialId(claims.ak)).await?.ok_or(VerifyError::Revoked)?;
        let jti_revoked = match claims.jti {
            Some(jti) => self.store.is_jwt_revoked(jti).await?,
            None => false,
        };
        let identity = Arc::new(Identity {
            principal_id: key.principal.id,
            name: key.principal.name.clone(),
            roles: claims.ar.clone(),
            realm: claims.realm.clone(),
            issued_at: from_millis(claims.iat.saturating_mul(1000)),
            expires_at: from_millis(claims.exp.saturating_mul(1000)),
            client_id: Some(key.access_key.clone()),
            token_id: claims.jti,
        });
        let state = Arc::new(KeyState { generation, key, jti_revoked, identity });
        verified.state.store(Some(Arc::clone(&state)));
        Ok(state)
    }

    pub(super) async fn access_key_by_id(
        &self,
        id: CredentialId,
    ) -> Result<Option<Arc<Client>>, VerifyError> {
        let cached = self.access_keys_by_id.get(&id.0);
        self.cache_counts.record(super::CacheName::AccessKeys, cached.is_some());
        if let Some(hit) = cached {
            return Ok(Some(hit));
        }
        let Some(found) = self.store.find_access_key_by_id(id).await? else { return Ok(None) };
        let found = Arc::new(Client::new(found));
        self.access_keys_by_id.insert(id.0, Arc::clone(&found));
        Ok(Some(found))
    }
}

fn judge(token: &TokenLookup, now: time::OffsetDateTime) -> Result<Arc<Identity>, VerifyError> {
    if token.revoked || token.principal.tokens_revoked_at.is_some_and(|at| token.issued_at <= at) {
        return Err(VerifyError::Revoked);
    }
    if !token.principal.enabled {
        return Err(VerifyError::PrincipalDisabled);
    }
    // Opaque tokens end exactly at their expiry: no leeway.
    if now >= token.expires_at || token.credential_expires_at.is_some_and(|at| now >= at) {
        return Err(VerifyError::Expired);
    }
    Ok(Arc::new(Identity::of(&token.principal, token.issued_at, token.expires_at)))
}

/// When a JWT was issued: to the millisecond when its `jti` says so (version
/// 7, within the second of `iat`), else the start of `iat`'s whole second,
/// which counts a token of a revocation's very second as revoked (erring
/// towards refusal). Claims are read only after the signature checked out.
fn issued_millis(iat: i64, jti: Option<uuid::Uuid>) -> i64 {
    let second = iat.saturating_mul(1000);
    let Some(jti) = jti.filter(|jti| jti.get_version_num() == 7) else { return second };
    let b = jti.as_bytes();
    let millis = i64::from_be_bytes([0, 0, b[0], b[1], b[2], b[3], b[4], b[5]]);
    if (second..second + 1000).contains(&millis) { millis } else { second }
}

#[cfg(test)]
mod time_claim_tests {
    use crate::jwt::{TimeClaimError, VerifiedClaims};

    fn claims(iat: i64, exp: i64, nbf: Option<i64>) -> VerifiedClaims {
        VerifiedClaims {
            uid: uuid::Uuid::nil(),
            ak: uuid::Uuid::nil(),
            ar: Vec::new(),
            realm: None,
            iat,
            exp,
            nbf,
            jti: None,
        }
    }

    #[test]
    fn time_claims_are_judged_with_the_leeway() {
        let (now, leeway, ttl) = (1_000_000, 5, 3600);
        assert_eq!(claims(now, now + ttl, None).judge_times(now, leeway, ttl), Ok(()));
        assert_eq!(claims(now + 5, now + 5 + ttl, Some(now + 5)).judge_times(now, leeway, ttl), Ok(()));
        assert_eq!(
            claims(now - ttl - 6, now - 6, None).judge_times(now, leeway, ttl),
            Err(TimeClaimError::Expired)
        );
        assert_eq!(
            claims(now + 6, now + 6 + ttl, None).judge_times(now, leeway, ttl),
            Err(TimeClaimError::IssuedInTheFuture)
        );
        assert_eq!(
            claims(now, now + ttl, Some(now + 6)).judge_times(now, leeway, ttl),
            Err(TimeClaimError::NotYetValid)
        );
        assert_eq!(
            claims(now, now + 10 * 365 * 86_400, None).judge_times(now, leeway, ttl),
            Err(TimeClaimError::LivesTooLong)
        );
    }
}

#[cfg(test)]
mod issued_tests {
    use super::issued_millis;

    #[test]
    fn a_version_7_jti_gives_the_millisecond_within_iats_second() {
        let v7 = |ms: u64| Some(uuid::Builder::from_unix_timestamp_millis(ms, &[9; 10]).into_uuid());
        assert_eq!(issued_millis(1_700_000_000, v7(1_700_000_000_734)), 1_700_000_000_734);
        // Outside the second of `iat`, or not version 7: the second's start.
        assert_eq!(issued_millis(1_700_000_000, v7(1_700_000_001_000)), 1_700_000_000_000);
        assert_eq!(issued_millis(1_700_000_000, Some(uuid::Uuid::new_v4())), 1_700_000_000_000);
        assert_eq!(issued_millis(1_700_000_000, None), 1_700_000_000_000);
    }
}
