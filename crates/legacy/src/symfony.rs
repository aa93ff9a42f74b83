//! Symfony's password hashers: the native/sodium ones (bcrypt with Symfony's
//! pre-hash, argon2, sha-crypt) and the legacy MessageDigest and PBKDF2 ones,
//! each verified the way Symfony's own `verify()` does.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};
use sha2::{Digest, Sha512};
use zeroize::Zeroizing;

use crate::argon2_hash::Argon2Hash;
use crate::bcrypt_hash::BcryptHash;
use crate::digests::{DIGEST_NAMES, DigestAlgorithm, MAX_PBKDF2_WORK, equal};
use crate::error::{LegacyHashError, name_for_message};
use crate::record::{Fields, hash_only, in_range};
use crate::sha_crypt_hash::ShaCryptHash;

pub(crate) const NATIVE: &str = "symfony-native";
pub(crate) const MESSAGE_DIGEST: &str = "symfony-message-digest";
pub(crate) const PBKDF2: &str = "symfony-pbkdf2";

/// Symfony's `PasswordHasherInterface::MAX_PASSWORD_LENGTH`: every Symfony
/// hasher's `verify()` answers false above it.
pub const SYMFONY_MAX_PASSWORD_BYTES: usize = 4096;
/// Most MessageDigest iterations accepted (Symfony's default is 5000).
pub const MAX_MESSAGE_DIGEST_ITERATIONS: u64 = 1_000_000;
/// Longest PBKDF2 output accepted, in bytes (Symfony's default is 40).
pub const MAX_PBKDF2_LENGTH: u64 = 1024;

/// bcrypt hashes only the first 72 bytes and (in PHP) stops at a NUL.
const BCRYPT_MAX_BYTES: usize = 72;

/// What Symfony's `auto`, `native` and `sodium` hashers stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SymfonyNative {
    kind: NativeKind,
}

#[derive(Clone, PartialEq, Eq, Debug)]
enum NativeKind {
    Bcrypt(BcryptHash),
    Argon2(Argon2Hash),
    ShaCrypt(ShaCryptHash),
}

impl SymfonyNative {
    pub(crate) fn from_record(record: &Map<String, Value>) -> Result<Self, LegacyHashError> {
        let hash = Fields::new(NATIVE, record, &["format", "hash"])?.hash()?;
        let kind = if hash.starts_with("$argon") {
            NativeKind::Argon2(Argon2Hash::parse(hash, NATIVE)?)
        } else if hash.starts_with("$2") {
            NativeKind::Bcrypt(BcryptHash::parse(hash, NATIVE)?)
        } else if hash.starts_with("$5$") || hash.starts_with("$6$") {
            NativeKind::ShaCrypt(ShaCryptHash::parse(hash, NATIVE)?)
        } else {
            return Err(LegacyHashError::Malformed {
                format: NATIVE,
                reason: "not a bcrypt ($2y$), argon2 ($argon2id$) or sha-crypt ($5$, $6$) hash",
            });
        };
        Ok(Self { kind })
    }

    pub(crate) fn to_record(&self) -> Map<String, Value> {
        let hash = match &self.kind {
            NativeKind::Bcrypt(hash) => hash.as_str(),
            NativeKind::Argon2(hash) => hash.as_str(),
            NativeKind::ShaCrypt(hash) => hash.as_str(),
        };
        hash_only(NATIVE, hash)
    }

    /// NativePasswordHasher::verify and SodiumPasswordHasher::verify (they
    /// agree): an empty password never matches; for a bcrypt hash, a
    /// password longer than 72 bytes or holding a NUL is replaced by
    /// `base64_encode(hash('sha512', $password, true))` first, as `hash()`
    /// did before storing it.
    pub(crate) fn matches(&self, password: &[u8]) -> bool {
        if password.is_empty() || password.len() > SYMFONY_MAX_PASSWORD_BYTES {
            return false;
        }
        match &self.kind {
            NativeKind::Bcrypt(hash) => {
                if password.len() > BCRYPT_MAX_BYTES || password.contains(&0) {
                    let prehashed = Zeroizing::new(STANDARD.encode(Sha512::digest(password)));
                    hash.matches_like_php(prehashed.as_bytes())
                } else {
                    hash.matches_like_php(password)
                }
            }
            // sodium_crypto_pwhash_str_verify and password_verify both take
            // the whole password, NULs included.
            NativeKind::Argon2(hash) => hash.matches(password),
            NativeKind::ShaCrypt(hash) => hash.matches(password),
        }
    }
}

impl fmt::Debug for SymfonyNative {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            NativeKind::Bcrypt(hash) => hash.fmt(f),
            NativeKind::Argon2(hash) => hash.fmt(f),
            NativeKind::ShaCrypt(hash) => hash.fmt(f),
        }
    }
}

/// How a Symfony legacy hasher wrote its bytes (`encode_as_base64`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Encoding {
    Base64,
    Hex,
}

impl Encoding {
    fn read(fields: &Fields<'_>, format: &'static str) -> Result<Self, LegacyHashError> {
        match fields.optional_str("encoding")? {
            None | Some("base64") => Ok(Self::Base64),
            Some("hex") => Ok(Self::Hex),
            Some(other) => Err(LegacyHashError::Unsupported {
                format,
                what: "encoding",
                name: name_for_message(other),
                supported: "base64, hex",
            }),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Base64 => "base64",
            Self::Hex => "hex",
        }
    }

    /// Symfony wrote `base64_encode()` (padded, standard alphabet) or
    /// `bin2hex()` (lowercase; uppercase is taken too, as a hand-made export
    /// might have it).
    fn decode(self, text: &str, format: &'static str) -> Result<Vec<u8>, LegacyHashError> {
        let decoded = match self {
            Self::Base64 => STANDARD.decode(text).ok(),
            Self::Hex => hex::decode(text).ok(),
        };
        decoded.ok_or(LegacyHashError::Malformed {
            format,
            reason: match self {
                Self::Base64 => "the hash is not standard padded base64 (is \"encoding\" right?)",
                Self::Hex => "the hash is not hexadecimal (is \"encoding\" right?)",
            },
        })
    }
}

fn read_algorithm(fields: &Fields<'_>, format: &'static str) -> Result<DigestAlgorithm, LegacyHashError> {
    match fields.optional_str("algorithm")? {
        None => Ok(DigestAlgorithm::Sha512),
        Some(name) => DigestAlgorithm::from_name(name).ok_or(LegacyHashError::Unsupported {
            format,
            what: "algorithm",
            name: name_for_message(name),
            supported: DIGEST_NAMES,
        }),
    }
}

/// Symfony's MessageDigestPasswordHasher.
#[derive(Clone, PartialEq, Eq)]
pub struct SymfonyMessageDigest {
    hash: String,
    expected: Vec<u8>,
    salt: Option<String>,
    algorithm: DigestAlgorithm,
    iterations: u32,
    encoding: Encoding,
}

impl SymfonyMessageDigest {
    pub(crate) fn from_record(record: &Map<String, Value>) -> Result<Self, LegacyHashError> {
        const ALLOWED: &[&str] = &["format", "hash", "salt", "algorithm", "iterations", "encoding"];
        let fields = Fields::new(MESSAGE_DIGEST, record, ALLOWED)?;
        let hash = fields.hash()?;
        let salt = fields.optional_str("salt")?;
        if salt.is_some_and(|salt| salt.contains(['{', '}'])) {
            return Err(LegacyHashError::Malformed {
                format: MESSAGE_DIGEST,
                reason: "the salt holds { or }, which Symfony refuses to hash with",
            });
        }
        let algorithm = read_algorithm(&fields, MESSAGE_DIGEST)?;
        let iterations = fields.optional_u64("iterations")?.unwrap_or(5000);
        let iterations =
            in_range(MESSAGE_DIGEST, "iterations", iterations, 1, MAX_MESSAGE_DIGEST_ITERATIONS)?;
        let encoding = Encoding::read(&fields, MESSAGE_DIGEST)?;
        let expected = encoding.decode(hash, MESSAGE_DIGEST)?;
        if expected.len() != algorithm.output_len() {
            return Err(LegacyHashError::Malformed {
                format: MESSAGE_DIGEST,
                reason: "the hash's length is not the algorithm's digest length",
            });
        }
        Ok(Self {
            hash: hash.to_owned(),
            expected,
            salt: salt.map(str::to_owned),
            algorithm,
            iterations,
            encoding,
        })
    }

    pub(crate) fn to_record(&self) -> Map<String, Value> {
        let mut map = hash_only(MESSAGE_DIGEST, &self.hash);
        if let Some(salt) = &self.salt {
            map.insert("salt".to_owned(), Value::from(salt.as_str()));
        }
        map.insert("algorithm".to_owned(), Value::from(self.algorithm.name()));
        map.insert("iterations".to_owned(), Value::from(self.iterations));
        map.insert("encoding".to_owned(), Value::from(self.encoding.name()));
        map
    }

    pub(crate) fn matches(&self, password: &[u8]) -> bool {
        if password.len() > SYMFONY_MAX_PASSWORD_BYTES {
            return false;
        }
        let mut salted = Zeroizing::new(password.to_vec());
        // mergePasswordAndSalt() tests `!$salt`, and PHP holds "0" false
        // like "": both leave the password unsalted.
        if let Some(salt) = self.salt.as_deref().filter(|salt| !salt.is_empty() && *salt != "0") {
            salted.push(b'{');
            salted.extend_from_slice(salt.as_bytes());
            salted.push(b'}');
        }
        equal(&self.algorithm.stretch(&salted, self.iterations), &self.expected)
    }
}

impl fmt::Debug for SymfonyMessageDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SymfonyMessageDigest")
            .field("algorithm", &self.algorithm.name())
            .field("iterations", &self.iterations)
            .field("encoding", &self.encoding.name())
            .field("salted", &self.salt.is_some())
            .finish()
    }
}

/// Symfony's Pbkdf2PasswordHasher.
#[derive(Clone, PartialEq, Eq)]
pub struct SymfonyPbkdf2 {
    hash: String,
    expected: Vec<u8>,
    salt: String,
    algorithm: DigestAlgorithm,
    iterations: u32,
    encoding: Encoding,
}

impl SymfonyPbkdf2 {
    pub(crate) fn from_record(record: &Map<String, Value>) -> Result<Self, LegacyHashError> {
        const ALLOWED: &[&str] = &["format", "hash", "salt", "algorithm", "iterations", "length", "encoding"];
        let fields = Fields::new(PBKDF2, record, ALLOWED)?;
        let hash = fields.hash()?;
        // A null salt reaches hash_pbkdf2() as "".
        let salt = fields.optional_str("salt")?.unwrap_or_default();
        let algorithm = read_algorithm(&fields, PBKDF2)?;
        let iterations = fields.optional_u64("iterations")?.unwrap_or(1000);
        // `length` is hash_pbkdf2()'s: with raw output, bytes of derived key.
        let length = fields.optional_u64("length")?.unwrap_or(40);
        let length = in_range(PBKDF2, "length", length, 1, MAX_PBKDF2_LENGTH)? as usize;
        let max_iterations = MAX_PBKDF2_WORK / algorithm.pbkdf2_work(1, length);
        let iterations = in_range(PBKDF2, "iterations (at this length)", iterations, 1, max_iterations)?;
        let encoding = Encoding::read(&fields, PBKDF2)?;
        let expected = encoding.decode(hash, PBKDF2)?;
        if expected.len() != length {
            return Err(LegacyHashError::Malformed {
                format: PBKDF2,
                reason: "the hash does not hold \"length\" bytes (length counts raw bytes, before encoding)",
            });
        }
        Ok(Self { hash: hash.to_owned(), expected, salt: salt.to_owned(), algorithm, iterations, encoding })
    }

    pub(crate) fn to_record(&self) -> Map<String, Value> {
        let mut map = hash_only(PBKDF2, &self.hash);
        map.insert("salt".to_owned(), Value::from(self.salt.as_str()));
        map.insert("algorithm".to_owned(), Value::from(self.algorithm.name()));
        map.insert("iterations".to_owned(), Value::from(self.iterations));
        map.insert("length".to_owned(), Value::from(self.expected.len()));
        map.insert("encoding".to_owned(), Value::from(self.encoding.name()));
        map
    }

    pub(crate) fn matches(&self, password: &[u8]) -> bool {
        password.len() <= SYMFONY_MAX_PASSWORD_BYTES
            && self.algorithm.pbkdf2_matches(password, self.salt.as_bytes(), self.iterations, &self.expected)
    }
}

impl fmt::Debug for SymfonyPbkdf2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SymfonyPbkdf2")
            .field("algorithm", &self.algorithm.name())
            .field("iterations", &self.iterations)
            .field("length", &self.expected.len())
            .field("encoding", &self.encoding.name())
            .finish()
    }
}
