//! Secrets the server generates for itself once and keeps in the database,
//! so that every process and node sharing it agrees on them — sealed under
//! the master key when one is configured (see `master_key.rs`), so that a
//! copy of the database alone mints nothing.

use std::fmt;
use std::sync::Arc;

use zeroize::Zeroizing;

use crate::error::StoreError;
use crate::master_key::{MasterKey, SealError, is_sealed};
use crate::secret::{JwtSecret, fill_random, keyed_hash};
use crate::signing_keys::{KeyGenerationError, SigningAlgorithm, SigningKeyRecord, generate};
use crate::store::{KeyStore, Store};

/// The key of the keyed hashes under which credentials are stored.
const CREDENTIAL_PEPPER: &str = "credential_pepper";
/// The HMAC key of JWTs when the configuration names none.
const JWT_SECRET: &str = "jwt_hs384_secret";
/// Until when tokens without a keyed tag (issued before tags) may be alive
/// (Unix milliseconds; 0: never, the database held no token when tags came).
const UNTAGGED_UNTIL: &str = "untagged_tokens_until";

pub struct ServerKeys {
    credential_pepper: Zeroizing<Vec<u8>>,
    jwt: JwtKeys,
    vault: Vault,
    untagged_until: Option<time::OffsetDateTime>,
}

/// What JWTs are signed with.
#[derive(Clone)]
pub enum JwtKeys {
    /// HS384's shared secret.
    Hmac(JwtSecret),
    /// Key pairs of an asymmetric algorithm, as stored (private halves
    /// opened).
    Asymmetric(SigningAlgorithm, Vec<SigningKeyRecord>),
}

/// Key material opened: the plain bytes, and what to store instead if it
/// must be sealed now.
type Opened = (Zeroizing<Vec<u8>>, Option<Vec<u8>>);

/// How key material is kept in the database: sealed under the master key,
/// or (without one) as it is.
#[derive(Clone, Default)]
pub struct Vault {
    master: Option<Arc<MasterKey>>,
}

impl Vault {
    pub fn sealed_with(master: Option<MasterKey>) -> Self {
        Self { master: master.map(Arc::new) }
    }

    /// What to store for `plain`, kept at `label`.
    fn seal(&self, label: &str, plain: &[u8]) -> Vec<u8> {
        match &self.master {
            Some(master) => master.seal(label, plain),
            None => plain.to_vec(),
        }
    }

    /// Opens what is stored at `label`, and says whether to store it sealed
    /// instead (plain material found while a master key is configured, from
    /// before it was).
    fn open(&self, label: &str, stored: Vec<u8>) -> Result<Opened, ServerKeysError> {
        let failed = |source| ServerKeysError::Sealed { label: label.to_owned(), source };
        match (&self.master, is_sealed(&stored)) {
            (Some(master), true) => Ok((master.open(label, &stored).map_err(failed)?, None)),
            (Some(master), false) => {
                let sealed = master.seal(label, &stored);
                Ok((Zeroizing::new(stored), Some(sealed)))
            }
            (None, true) => Err(ServerKeysError::NoMasterKey { label: label.to_owned() }),
            (None, false) => Ok((Zeroizing::new(stored), None)),
        }
    }
}

impl ServerKeys {
    /// Loads the server's secrets, creating them on first start (exactly
    /// once, even when several processes start together). For HS384,
    /// `jwt_secret` is the configured key, if any; without one a 64-byte key
    /// is generated and kept in the database, so every node shares it. For
    /// the asymmetric algorithms, a first key pair is generated if none is
    /// stored. With a master key, what is stored is sealed (and what was
    /// stored plain before the key was configured is sealed now).
    /// `longest_token` is the longest any token lives: tokens issued before
    /// tags (an upgraded database) are looked up until it has passed.
    pub async fn load(
        store: &dyn Store,
        algorithm: SigningAlgorithm,
        jwt_secret: Option<JwtSecret>,
        vault: Vault,
        longest_token: std::time::Duration,
    ) -> Result<Self, ServerKeysError> {
        let credential_pepper = load_or_create(store, &vault, CREDENTIAL_PEPPER, 32).await?;
        let untagged_until = untagged_until(store, &vault, longest_token).await?;
        let jwt = match (algorithm, jwt_secret) {
            (SigningAlgorithm::Hs384, Some(secret)) => JwtKeys::Hmac(secret),
            (SigningAlgorithm::Hs384, None) => {
                JwtKeys::Hmac(JwtSecret::new(load_or_create(store, &vault, JWT_SECRET, 64).await?.to_vec()))
            }
            (algorithm, _) => {
                JwtKeys::Asymmetric(algorithm, ensure_signing_keys(store, &vault, algorithm).await?)
            }
        };
        Ok(Self { credential_pepper, jwt, vault, untagged_until })
    }

    /// Until when tokens without a keyed tag may still be alive.
    pub fn untagged_until(&self) -> Option<time::OffsetDateTime> {
        self.untagged_until
    }

    pub fn jwt(&self) -> &JwtKeys {
        &self.jwt
    }

    /// The keyed hash (HMAC-SHA256) a credential secret is stored as.
    pub fn credential_hash(&self, secret: &[u8]) -> [u8; 32] {
        keyed_hash(&self.credential_pepper, secret)
    }

    /// A key derived from the pepper for `purpose`: every node derives the
    /// same one, and it says nothing about the pepper.
    pub fn derived_key(&self, purpose: &str) -> [u8; 32] {
        keyed_hash(&self.credential_pepper, purpose.as_bytes())
    }

    /// Every stored key pair of `algorithm`, private halves opened.
    pub async fn signing_keys(
        &self,
        store: &dyn KeyStore,
        algorithm: SigningAlgorithm,
    ) -> Result<Vec<SigningKeyRecord>, ServerKeysError> {
        open_signing_keys(store, &self.vault, algorithm).await
    }

    /// The stored key pairs of `algorithm`, creating a first one if there
    /// is none.
    pub async fn ensure_signing_keys(
        &self,
        store: &dyn KeyStore,
        algorithm: SigningAlgorithm,
    ) -> Result<Vec<SigningKeyRecord>, ServerKeysError> {
        ensure_signing_keys(store, &self.vault, algorithm).await
    }

    /// Stores a new key pair, its private half sealed.
    pub async fn insert_signing_key(
        &self,
        store: &dyn KeyStore,
        key: &SigningKeyRecord,
    ) -> Result<bool, ServerKeysError> {
        insert_signing_key(store, &self.vault, key).await
    }
}

impl fmt::Debug for ServerKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerKeys(..)")
    }
}

fn secret_label(name: &str) -> String {
    format!("server_secrets/{name}")
}

fn signing_key_label(kid: &str) -> String {
    format!("signing_keys/{kid}")
}

async fn load_or_create(
    store: &dyn KeyStore,
    vault: &Vault,
    name: &str,
    len: usize,
) -> Result<Zeroizing<Vec<u8>>, ServerKeysError> {
    let mut candidate = Zeroizing::new(vec![0u8; len]);
    fill_random(&mut candidate);
    load_or_store(store, vault, name, &candidate).await
}

/// The value kept under `name`, storing `candidate` first if there is none
/// (once, whoever races here).
async fn load_or_store(
    store: &dyn KeyStore,
    vault: &Vault,
    name: &str,
    candidate: &[u8],
) -> Result<Zeroizing<Vec<u8>>, ServerKeysError> {
    let label = secret_label(name);
    let stored = store.server_secret(name, vault.seal(&label, candidate)).await?;
    let (plain, reseal) = vault.open(&label, stored)?;
    if let Some(sealed) = reseal {
        store.replace_server_secret(name, &sealed).await?;
        tracing::info!(secret = name, "key material sealed under the master key");
    }
    Ok(plain)
}

/// Decided once per database, when the first version with tags starts on
/// it: a database that holds tokens then may hold untagged ones for as long
/// as the longest token lives; a new one never does.
async fn untagged_until(
    store: &dyn Store,
    vault: &Vault,
    longest_token: std::time::Duration,
) -> Result<Option<time::OffsetDateTime>, ServerKeysError> {
    let now = crate::time_util::now();
    let candidate = if store.holds_tokens().await? {
        crate::time_util::to_millis(crate::time_util::add(now, longest_token))
    } else {
        0
    };
    let stored = load_or_store(store, vault, UNTAGGED_UNTIL, &candidate.to_be_bytes()).await?;
    let millis = <[u8; 8]>::try_from(&stored[..]).map(i64::from_be_bytes).unwrap_or(0);
    Ok((millis > 0).then(|| crate::time_util::from_millis(millis)).filter(|until| now < *until))
}

async fn open_signing_keys(
    store: &dyn KeyStore,
    vault: &Vault,
    algorithm: SigningAlgorithm,
) -> Result<Vec<SigningKeyRecord>, ServerKeysError> {
    let mut keys = store.signing_keys(algorithm).await?;
    for key in &mut keys {
        let label = signing_key_label(&key.kid);
        let stored = std::mem::take(&mut *key.private_der);
        let (plain, reseal) = vault.open(&label, stored)?;
        if let Some(sealed) = reseal {
            store.replace_signing_key_private(&key.kid, &sealed).await?;
            tracing::info!(kid = %key.kid, "signing key sealed under the master key");
        }
        key.private_der = plain;
    }
    Ok(keys)
}

async fn insert_signing_key(
    store: &dyn KeyStore,
    vault: &Vault,
    key: &SigningKeyRecord,
) -> Result<bool, ServerKeysError> {
    let mut stored = key.clone();
    stored.private_der = Zeroizing::new(vault.seal(&signing_key_label(&key.kid), &key.private_der));
    Ok(store.insert_signing_key(&stored).await?)
}

/// The stored key pairs of `algorithm`, creating a first one if there is
/// none. Nodes racing here may each store one; all are published and every
/// node signs with the same (newest, then highest kid), so that is harmless.
async fn ensure_signing_keys(
    store: &dyn KeyStore,
    vault: &Vault,
    algorithm: SigningAlgorithm,
) -> Result<Vec<SigningKeyRecord>, ServerKeysError> {
    let keys = open_signing_keys(store, vault, algorithm).await?;
    if !keys.is_empty() {
        return Ok(keys);
    }
    let first = tokio::task::spawn_blocking(move || generate(algorithm, crate::time_util::now()))
        .await
        .map_err(ServerKeysError::Task)??;
    insert_signing_key(store, vault, &first).await?;
    open_signing_keys(store, vault, algorithm).await
}

/// Seals every key material value again under `new`, opening it with `old`
/// (a rotation of the master key); values already under `new` are checked
/// and left alone, plain ones sealed. How many values were sealed anew.
pub async fn reseal(
    store: &dyn KeyStore,
    old: &MasterKey,
    new: &MasterKey,
) -> Result<usize, ServerKeysError> {
    let mut changed = 0;
    let failed = |label: &str| {
        let label = label.to_owned();
        move |source| ServerKeysError::Sealed { label, source }
    };
    for (name, stored) in store.server_secrets().await? {
        let label = secret_label(&name);
        let sealed = if is_sealed(&stored) {
            new.reseal(old, &label, &stored).map_err(failed(&label))?
        } else {
            Some(new.seal(&label, &stored))
        };
        if let Some(sealed) = sealed {
            store.replace_server_secret(&name, &sealed).await?;
            changed += 1;
        }
    }
    for algorithm in [SigningAlgorithm::Es256, SigningAlgorithm::EdDsa, SigningAlgorithm::Rs256] {
        for key in store.signing_keys(algorithm).await? {
            let label = signing_key_label(&key.kid);
            let sealed = if is_sealed(&key.private_der) {
                new.reseal(old, &label, &key.private_der).map_err(failed(&label))?
            } else {
                Some(new.seal(&label, &key.private_der))
            };
            if let Some(sealed) = sealed {
                store.replace_signing_key_private(&key.kid, &sealed).await?;
                changed += 1;
            }
        }
    }
    Ok(changed)
}

#[derive(Debug, thiserror::Error)]
pub enum ServerKeysError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Generation(#[from] KeyGenerationError),
    #[error("the key generation task stopped")]
    Task(#[source] tokio::task::JoinError),
    #[error(
        "key material in the database ({label}) is sealed under a master key, and none is configured: \
         set secrets.master_key_file (TOLLGATE_SECRETS__MASTER_KEY_FILE) to the key file that sealed it"
    )]
    NoMasterKey { label: String },
    #[error("cannot open the key material at {label}")]
    Sealed {
        label: String,
        #[source]
        source: SealError,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vault_seals_with_a_master_key_and_refuses_sealed_material_without_one() {
        let master = Vault::sealed_with(Some(MasterKey::from_bytes([3; 32])));
        let stored = master.seal("server_secrets/x", b"pepper");
        assert!(is_sealed(&stored));
        let (plain, reseal) = master.open("server_secrets/x", stored.clone()).expect("open");
        assert_eq!((&plain[..], reseal), (&b"pepper"[..], None));
        // Plain material from before the key was configured is sealed now.
        let (plain, reseal) = master.open("server_secrets/x", b"pepper".to_vec()).expect("plain");
        assert_eq!(&plain[..], b"pepper");
        assert!(reseal.is_some_and(|sealed| is_sealed(&sealed)));
        // Without the key, sealed material is an error naming the fix.
        let none = Vault::default();
        let err = none.open("server_secrets/x", stored).expect_err("refused");
        assert!(err.to_string().contains("secrets.master_key_file"), "{err}");
        // Another key is told apart from tampering.
        let other = Vault::sealed_with(Some(MasterKey::from_bytes([4; 32])));
        let sealed = master.seal("server_secrets/x", b"pepper");
        assert!(matches!(
            other.open("server_secrets/x", sealed),
            Err(ServerKeysError::Sealed { source: SealError::WrongKey { .. }, .. })
        ));
    }
}
