//! Secrets the server generates for itself once and keeps in the database,
//! so that every process and node sharing it agrees on them.

use std::fmt;

use zeroize::Zeroizing;

use crate::error::StoreError;
use crate::secret::{fill_random, keyed_hash};
use crate::store::Store;

/// The key of the keyed hashes under which credentials are stored.
const CREDENTIAL_PEPPER: &str = "credential_pepper";

pub struct ServerKeys {
    credential_pepper: Zeroizing<Vec<u8>>,
}

impl ServerKeys {
    /// Loads the server's secrets, creating them on first start (exactly
    /// once, even when several processes start together).
    pub async fn load(store: &dyn Store) -> Result<Self, StoreError> {
        Ok(Self { credential_pepper: Zeroizing::new(load_or_create(store, CREDENTIAL_PEPPER, 32).await?) })
    }

    /// The keyed hash (HMAC-SHA256) a credential secret is stored as.
    pub fn credential_hash(&self, secret: &[u8]) -> [u8; 32] {
        keyed_hash(&self.credential_pepper, secret)
    }
}

impl fmt::Debug for ServerKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerKeys(..)")
    }
}

pub(crate) async fn load_or_create(store: &dyn Store, name: &str, len: usize) -> Result<Vec<u8>, StoreError> {
    let mut candidate = vec![0u8; len];
    fill_random(&mut candidate);
    store.server_secret(name, candidate).await
}
