//! Secrets the server generates for itself once and keeps in the database,
//! so that every process and node sharing it agrees on them.

use std::fmt;

use zeroize::Zeroizing;

use crate::error::StoreError;
use crate::secret::{fill_random, keyed_hash};
use crate::store::Store;

/// The key of the keyed hashes under which credentials are stored.
const CREDENTIAL_PEPPER: &str = "credential_pepper";
/// The HMAC key of JWTs when the configuration names none.
const JWT_SECRET: &str = "jwt_hs384_secret";

pub struct ServerKeys {
    credential_pepper: Zeroizing<Vec<u8>>,
    jwt_secret: Zeroizing<Vec<u8>>,
}

impl ServerKeys {
    /// Loads the server's secrets, creating them on first start (exactly
    /// once, even when several processes start together). `jwt_secret` is
    /// the configured HMAC key, if any; without one a 64-byte key is
    /// generated and kept in the database, so every node shares it.
    pub async fn load(store: &dyn Store, jwt_secret: Option<Vec<u8>>) -> Result<Self, StoreError> {
        let credential_pepper = Zeroizing::new(load_or_create(store, CREDENTIAL_PEPPER, 32).await?);
        let jwt_secret = match jwt_secret {
            Some(secret) => Zeroizing::new(secret),
            None => Zeroizing::new(load_or_create(store, JWT_SECRET, 64).await?),
        };
        Ok(Self { credential_pepper, jwt_secret })
    }

    /// The HMAC key that signs and verifies HS384 JWTs.
    pub fn jwt_secret(&self) -> &[u8] {
        &self.jwt_secret
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
