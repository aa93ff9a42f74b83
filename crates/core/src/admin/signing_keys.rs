//! Operator actions on asymmetric signing keys: staged rotation, and each
//! key's state as the server sees it.

use time::OffsetDateTime;

use super::{AdminError, AdminService, blocking};
use crate::context::AdminContext;
use crate::signing_keys::{SigningAlgorithm, SigningKeyRecord, generate};
use crate::time_util::add;

/// Where a signing key stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningKeyState {
    /// Published (in the JWKS), not signing yet.
    Pending,
    /// Signing new tokens (and checking them).
    Signing,
    /// Replaced, still checking the tokens it signed until they expire.
    Published,
    /// Replaced, and gone from the JWKS once its last token expired.
    Retired,
}

impl SigningKeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            SigningKeyState::Pending => "pending",
            SigningKeyState::Signing => "signing",
            SigningKeyState::Published => "published",
            SigningKeyState::Retired => "retired",
        }
    }
}

/// A signing key and its state now; never its material.
#[derive(Debug, Clone)]
pub struct SigningKeyStatus {
    pub kid: String,
    pub algorithm: SigningAlgorithm,
    /// Unknown for a configured HMAC secret.
    pub created_at: Option<OffsetDateTime>,
    pub signs_from: Option<OffsetDateTime>,
    pub state: SigningKeyState,
}

impl SigningKeyStatus {
    fn at(
        key: &SigningKeyRecord,
        retires_at: Option<OffsetDateTime>,
        signing_kid: Option<&str>,
        now: OffsetDateTime,
    ) -> Self {
        let state = if retires_at.is_some_and(|at| at <= now) {
            SigningKeyState::Retired
        } else if key.signs_from > now {
            SigningKeyState::Pending
        } else if signing_kid == Some(key.kid.as_str()) {
            SigningKeyState::Signing
        } else {
            SigningKeyState::Published
        };
        Self {
            kid: key.kid.clone(),
            algorithm: key.algorithm,
            created_at: Some(key.created_at),
            signs_from: Some(key.signs_from),
            state,
        }
    }
}

impl AdminService {
    /// Generates a new key pair, published at once and signing only after
    /// `delay` (default: the configured rotation delay), so that relying
    /// parties' JWKS caches learn it first. The replaced key stays published
    /// until its last token has expired.
    pub async fn rotate_signing_key(
        &self,
        context: &AdminContext,
        delay: Option<std::time::Duration>,
    ) -> Result<SigningKeyStatus, AdminError> {
        let algorithm = self.signing.algorithm;
        if !algorithm.is_asymmetric() {
            return Err(AdminError::Unsupported(
                "HS384 signs with a shared secret, which has no public half to publish: rotate it by \
                 changing jwt.secret (tokens signed with the old one stop working), or use ES256, EdDSA \
                 or RS256"
                    .into(),
            ));
        }
        // The key being replaced must exist first (a rotation on first start).
        self.keys.ensure_signing_keys(self.store.as_ref(), algorithm).await.map_err(AdminError::Keys)?;
        let signs_from = add(self.now(), delay.unwrap_or(self.signing.rotation_delay));
        let key =
            blocking(move || generate(algorithm, signs_from)).await?.map_err(AdminError::KeyGeneration)?;
        self.keys.insert_signing_key(self.store.as_ref(), &key).await.map_err(AdminError::Keys)?;
        self.changed();
        if let Some(caches) = &self.caches {
            caches.signing_keys_changed().await;
        }
        self.audit(context, "keys.rotate", &key.kid, None).await;
        Ok(SigningKeyStatus::at(&key, None, None, self.now()))
    }

    /// Every key in use: the HMAC secret (HS384), or every stored key of
    /// the configured algorithm, oldest first, with the server's own rule
    /// for when a replaced key leaves the JWKS.
    pub async fn list_signing_keys(&self) -> Result<Vec<SigningKeyStatus>, AdminError> {
        let algorithm = self.signing.algorithm;
        if let crate::server_keys::JwtKeys::Hmac(secret) = self.keys.jwt() {
            return Ok(vec![SigningKeyStatus {
                kid: secret.fingerprint(),
                algorithm,
                created_at: None,
                signs_from: None,
                state: SigningKeyState::Signing,
            }]);
        }
        let keys = self.store.signing_keys(algorithm).await?;
        let longest_token = self.policy.accesskey_ttl + self.policy.jwt_leeway;
        let now = self.now();
        let signing = crate::jwt::signing_key(&keys, now).map(|key| key.kid.clone());
        Ok(crate::jwt::key_lifetimes(&keys, algorithm, longest_token)
            .into_iter()
            .map(|(key, retires_at)| SigningKeyStatus::at(key, retires_at, signing.as_deref(), now))
            .collect())
    }
}
