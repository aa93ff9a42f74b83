//! Storage of the server's own key material: generated secrets (credential
//! pepper, HS384 key) and asymmetric signing keys.

use async_trait::async_trait;

use crate::error::StoreError;
use crate::signing_keys::{SigningAlgorithm, SigningKeyRecord};

#[async_trait]
pub trait KeyStore: Send + Sync + 'static {
    /// Stores a key (and tells every process's caches); `false` if its kid exists.
    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> Result<bool, StoreError>;
    /// Every stored key of `algorithm`, oldest first.
    async fn signing_keys(&self, algorithm: SigningAlgorithm) -> Result<Vec<SigningKeyRecord>, StoreError>;
    /// The secret stored under `name`, storing `candidate` first if there is
    /// none. Every process (and node) racing here ends up with the same one.
    async fn server_secret(&self, name: &str, candidate: Vec<u8>) -> Result<Vec<u8>, StoreError>;
}
