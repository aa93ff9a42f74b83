//! Operator actions on asymmetric signing keys: staged rotation.

use std::time::Duration;

use super::AdminError;
use crate::signing_keys::{SigningAlgorithm, SigningKeyRecord, generate};
use crate::store::Store;
use crate::time_util::{add, now};

/// Generates a new key pair of `algorithm`, published at once and signing
/// only after `delay`, so that relying parties' JWKS caches learn it first.
/// The replaced key stays published until its last token has expired.
pub async fn rotate_signing_key(
    store: &dyn Store,
    algorithm: SigningAlgorithm,
    delay: Duration,
) -> Result<SigningKeyRecord, AdminError> {
    if !algorithm.is_asymmetric() {
        return Err(AdminError::Invalid(
            "HS384 signs with a shared secret, which has no public half to publish: rotate it by changing \
             jwt.secret (tokens signed with the old one stop working), or use ES256, EdDSA or RS256"
                .into(),
        ));
    }
    let key = tokio::task::spawn_blocking(move || generate(algorithm, add(now(), delay)))
        .await
        .map_err(|e| AdminError::Invalid(e.to_string()))?
        .map_err(|e| AdminError::Invalid(e.to_string()))?;
    store.insert_signing_key(&key).await?;
    Ok(key)
}

/// Every stored key of `algorithm`, oldest first.
pub async fn list_signing_keys(
    store: &dyn Store,
    algorithm: SigningAlgorithm,
) -> Result<Vec<SigningKeyRecord>, AdminError> {
    Ok(store.signing_keys(algorithm).await?)
}
