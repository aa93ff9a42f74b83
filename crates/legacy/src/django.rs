//! Django's encoded passwords (`algorithm$…`): PBKDF2 (SHA-256 and SHA-1),
//! argon2, bcrypt_sha256 and bcrypt, verified as `django.contrib.auth.hashers`
//! does.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::argon2_hash::Argon2Hash;
use crate::bcrypt_hash::BcryptHash;
use crate::digests::{DigestAlgorithm, MAX_PBKDF2_WORK};
use crate::error::{LegacyHashError, name_for_message};
use crate::record::{Fields, canonical_decimal, hash_only};

pub(crate) const FORMAT: &str = "django";
const SUPPORTED: &str = "pbkdf2_sha256, pbkdf2_sha1, argon2, bcrypt_sha256, bcrypt";

/// A parsed Django password.
#[derive(Clone, PartialEq, Eq)]
pub struct DjangoHash {
    hash: String,
    kind: DjangoKind,
}

#[derive(Clone, PartialEq, Eq)]
enum DjangoKind {
    Pbkdf2 { digest: DigestAlgorithm, iterations: u32, salt: String, expected: Vec<u8> },
    Argon2(Argon2Hash),
    BcryptSha256(BcryptHash),
    Bcrypt(BcryptHash),
}

impl DjangoHash {
    pub(crate) fn from_record(record: &Map<String, Value>) -> Result<Self, LegacyHashError> {
        let hash = Fields::new(FORMAT, record, &["format", "hash"])?.hash()?;
        let malformed = |reason| LegacyHashError::Malformed { format: FORMAT, reason };
        if hash.starts_with('!') {
            return Err(malformed("an unusable Django password (starting with !) matches no password"));
        }
        let (algorithm, rest) =
            hash.split_once('$').ok_or_else(|| malformed("not a Django password: expected algorithm$…"))?;
        let kind = match algorithm {
            "pbkdf2_sha256" => parse_pbkdf2(DigestAlgorithm::Sha256, rest)?,
            "pbkdf2_sha1" => parse_pbkdf2(DigestAlgorithm::Sha1, rest)?,
            // Django stores "argon2" + argon2-cffi's "$argon2id$v=19$…".
            "argon2" => DjangoKind::Argon2(Argon2Hash::parse(&hash["argon2".len()..], FORMAT)?),
            "bcrypt_sha256" => DjangoKind::BcryptSha256(BcryptHash::parse(rest, FORMAT)?),
            "bcrypt" => DjangoKind::Bcrypt(BcryptHash::parse(rest, FORMAT)?),
            other => {
                return Err(LegacyHashError::Unsupported {
                    format: FORMAT,
                    what: "Django algorithm",
                    name: name_for_message(other),
                    supported: SUPPORTED,
                });
            }
        };
        Ok(Self { hash: hash.to_owned(), kind })
    }

    pub(crate) fn to_record(&self) -> Map<String, Value> {
        hash_only(FORMAT, &self.hash)
    }

    pub(crate) fn matches(&self, password: &[u8]) -> bool {
        match &self.kind {
            DjangoKind::Pbkdf2 { digest, iterations, salt, expected } => {
                digest.pbkdf2_matches(password, salt.as_bytes(), *iterations, expected)
            }
            DjangoKind::Argon2(hash) => hash.matches(password),
            // bcrypt of the lowercase hex SHA-256 (BCryptSHA256PasswordHasher,
            // against bcrypt's 72-byte truncation).
            DjangoKind::BcryptSha256(hash) => {
                let hex = Zeroizing::new(hex::encode(Sha256::digest(password)));
                hash.matches(hex.as_bytes())
            }
            // pyca/bcrypt takes the password's bytes whole, NULs included.
            DjangoKind::Bcrypt(hash) => hash.matches(password),
        }
    }
}

/// `<iterations>$<salt>$<base64 of the derived key>`. Django re-encodes and
/// compares whole strings, so only the form it writes can match: canonical
/// iterations, a non-empty salt without `$`, padded base64 of one digest.
fn parse_pbkdf2(digest: DigestAlgorithm, rest: &str) -> Result<DjangoKind, LegacyHashError> {
    let malformed = |reason| LegacyHashError::Malformed { format: FORMAT, reason };
    let mut parts = rest.splitn(3, '$');
    let (Some(iterations), Some(salt), Some(encoded)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(malformed("a Django PBKDF2 hash is algorithm$iterations$salt$hash"));
    };
    let iterations =
        canonical_decimal(iterations).ok_or_else(|| malformed("iterations must be a plain decimal"))?;
    let max = MAX_PBKDF2_WORK / digest.pbkdf2_work(1, digest.output_len());
    if !(1..=max).contains(&iterations) {
        return Err(LegacyHashError::OutOfRange {
            format: FORMAT,
            what: "PBKDF2 iterations",
            value: iterations,
            min: 1,
            max,
        });
    }
    if salt.is_empty() {
        return Err(malformed("a Django PBKDF2 salt is never empty"));
    }
    let expected =
        STANDARD.decode(encoded).map_err(|_| malformed("the PBKDF2 hash is not standard padded base64"))?;
    if expected.len() != digest.output_len() {
        return Err(malformed("the PBKDF2 hash is not one digest long"));
    }
    Ok(DjangoKind::Pbkdf2 { digest, iterations: iterations as u32, salt: salt.to_owned(), expected })
}

impl fmt::Debug for DjangoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            DjangoKind::Pbkdf2 { digest, iterations, .. } => f
                .debug_struct("DjangoPbkdf2")
                .field("digest", &digest.name())
                .field("iterations", iterations)
                .finish(),
            DjangoKind::Argon2(hash) => f.debug_tuple("DjangoArgon2").field(hash).finish(),
            DjangoKind::BcryptSha256(hash) => f.debug_tuple("DjangoBcryptSha256").field(hash).finish(),
            DjangoKind::Bcrypt(hash) => f.debug_tuple("DjangoBcrypt").field(hash).finish(),
        }
    }
}
