//! Secrets the server generates for itself once and keeps in the database,
//! so that every process and node sharing it agrees on them.

use std::fmt;

use zeroize::Zeroizing;

use crate::error::StoreError;
use crate::secret::{JwtSecret, fill_random, keyed_hash};
use crate::signing_keys::{KeyGenerationError, SigningAlgorithm, SigningKeyRecord, generate};
use crate::store::KeyStore;

/// The key of the keyed hashes under which credentials are stored.
const CREDENTIAL_PEPPER: &str = "credential_pepper";
/// The HMAC key of JWTs when the configuration names none.
const JWT_SECRET: &str = "jwt_hs384_secret";

pub struct ServerKeys {
    credential_pepper: Zeroizing<Vec<u8>>,
    jwt: JwtKeys,
}

/// What JWTs are signed with.
#[derive(Clone)]
pub enum JwtKeys {
    /// HS384's shared secret.
    Hmac(JwtSecret),
    /// Key pairs of an asymmetric algorithm, as stored.
    Asymmetric(SigningAlgorithm, Vec<SigningKeyRecord>),
}

impl ServerKeys {
    /// Loads the server's secrets, creating them on first start (exactly
    /// once, even when several processes start together). For HS384,
    /// `jwt_secret` is the configured key, if any; without one a 64-byte key
    /// is generated and kept in the database, so every node shares it. For
    /// the asymmetric algorithms, a first key pair is generated if none is
    /// stored.
    pub async fn load(
        store: &dyn KeyStore,
        algorithm: SigningAlgorithm,
        jwt_secret: Option<JwtSecret>,
    ) -> Result<Self, ServerKeysError> {
        let credential_pepper = Zeroizing::new(load_or_create(store, CREDENTIAL_PEPPER, 32).await?);
        let jwt = match (algorithm, jwt_secret) {
            (SigningAlgorithm::Hs384, Some(secret)) => JwtKeys::Hmac(secret),
            (SigningAlgorithm::Hs384, None) => {
                JwtKeys::Hmac(JwtSecret::new(load_or_create(store, JWT_SECRET, 64).await?))
            }
            (algorithm, _) => JwtKeys::Asymmetric(algorithm, signing_keys(store, algorithm).await?),
        };
        Ok(Self { credential_pepper, jwt })
    }

    pub fn jwt(&self) -> &JwtKeys {
        &self.jwt
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

pub(crate) async fn load_or_create(
    store: &dyn KeyStore,
    name: &str,
    len: usize,
) -> Result<Vec<u8>, StoreError> {
    let mut candidate = vec![0u8; len];
    fill_random(&mut candidate);
    store.server_secret(name, candidate).await
}

#[derive(Debug, thiserror::Error)]
pub enum ServerKeysError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Generation(#[from] KeyGenerationError),
    #[error("the key generation task stopped")]
    Task(#[source] tokio::task::JoinError),
}

/// The stored key pairs of `algorithm`, creating a first one if there is
/// none. Nodes racing here may each store one; all are published and every
/// node signs with the same (newest, then highest kid), so that is harmless.
pub async fn signing_keys(
    store: &dyn KeyStore,
    algorithm: SigningAlgorithm,
) -> Result<Vec<SigningKeyRecord>, ServerKeysError> {
    let keys = store.signing_keys(algorithm).await?;
    if !keys.is_empty() {
        return Ok(keys);
    }
    let first = tokio::task::spawn_blocking(move || generate(algorithm, crate::time_util::now()))
        .await
        .map_err(ServerKeysError::Task)??;
    store.insert_signing_key(&first).await?;
    Ok(store.signing_keys(algorithm).await?)
}
