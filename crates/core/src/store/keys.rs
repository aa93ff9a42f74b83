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
    /// Every server secret, as stored (to seal them anew).
    async fn server_secrets(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError>;
    /// Stores `value` as secret `name`, replacing what is there (the same
    /// material, sealed anew).
    async fn replace_server_secret(&self, name: &str, value: &[u8]) -> Result<(), StoreError>;
    /// Stores `private_der` as the private half of key `kid` (the same key,
    /// sealed anew).
    async fn replace_signing_key_private(&self, kid: &str, private_der: &[u8]) -> Result<(), StoreError>;
}
