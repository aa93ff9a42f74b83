//! ASP.NET (Core) Identity's password hashes: the base64 blob of
//! `PasswordHasher<TUser>`, format V2 (marker 0x00) and V3 (marker 0x01).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use crate::digests::{DigestAlgorithm, MAX_PBKDF2_WORK};
use crate::error::LegacyHashError;
use crate::record::{Fields, hash_only};

pub(crate) const FORMAT: &str = "aspnet-identity";

/// Longest V3 subkey accepted, in bytes (Identity writes 32).
pub const MAX_ASPNET_SUBKEY_BYTES: usize = 1024;
/// V3 refuses salts and subkeys under 128 bits.
const MIN_V3_BYTES: usize = 16;
/// V2: PBKDF2-HMAC-SHA1, 1000 iterations, 128-bit salt, 256-bit subkey.
const V2_SALT: usize = 16;
const V2_SUBKEY: usize = 32;
const V2_ITERATIONS: u32 = 1000;

/// A parsed ASP.NET Identity hash.
#[derive(Clone, PartialEq, Eq)]
pub struct AspNetIdentity {
    hash: String,
    version: u8,
    prf: DigestAlgorithm,
    iterations: u32,
    salt: Vec<u8>,
    subkey: Vec<u8>,
}

impl AspNetIdentity {
    pub(crate) fn from_record(record: &Map<String, Value>) -> Result<Self, LegacyHashError> {
        let hash = Fields::new(FORMAT, record, &["format", "hash"])?.hash()?;
        let malformed = |reason| LegacyHashError::Malformed { format: FORMAT, reason };
        let blob = STANDARD.decode(hash).map_err(|_| malformed("the hash is not standard padded base64"))?;
        let parsed = match blob.first() {
            Some(0x00) => {
                if blob.len() != 1 + V2_SALT + V2_SUBKEY {
                    return Err(malformed("a V2 hash (marker 0x00) is exactly 49 bytes"));
                }
                Self {
                    hash: hash.to_owned(),
                    version: 2,
                    prf: DigestAlgorithm::Sha1,
                    iterations: V2_ITERATIONS,
                    salt: blob[1..1 + V2_SALT].to_vec(),
                    subkey: blob[1 + V2_SALT..].to_vec(),
                }
            }
            Some(0x01) => parse_v3(hash, &blob)?,
            _ => return Err(malformed("unknown format marker: expected 0x00 (V2) or 0x01 (V3)")),
        };
        Ok(parsed)
    }

    pub(crate) fn to_record(&self) -> Map<String, Value> {
        hash_only(FORMAT, &self.hash)
    }

    pub(crate) fn matches(&self, password: &[u8]) -> bool {
        self.prf.pbkdf2_matches(password, &self.salt, self.iterations, &self.subkey)
    }
}

/// Marker, then big-endian u32s PRF, iteration count and salt length, the
/// salt, and the subkey filling the rest.
fn parse_v3(hash: &str, blob: &[u8]) -> Result<AspNetIdentity, LegacyHashError> {
    let malformed = |reason| LegacyHashError::Malformed { format: FORMAT, reason };
    let word =
        |at: usize| -> Option<u32> { Some(u32::from_be_bytes(blob.get(at..at + 4)?.try_into().ok()?)) };
    let (Some(prf), Some(iterations), Some(salt_len)) = (word(1), word(5), word(9)) else {
        return Err(malformed("a V3 hash (marker 0x01) is shorter than its 13-byte header"));
    };
    let prf = match prf {
        0 => DigestAlgorithm::Sha1,
        1 => DigestAlgorithm::Sha256,
        2 => DigestAlgorithm::Sha512,
        _ => {
            return Err(malformed(
                "unknown V3 PRF: expected 0 (HMAC-SHA1), 1 (HMAC-SHA256) or 2 (HMAC-SHA512)",
            ));
        }
    };
    let salt_len = usize::try_from(salt_len).unwrap_or(usize::MAX);
    let salt = blob
        .get(13..)
        .and_then(|rest| rest.get(..salt_len))
        .ok_or_else(|| malformed("the V3 salt runs past the end"))?;
    let subkey = &blob[13 + salt.len()..];
    if salt.len() < MIN_V3_BYTES || subkey.len() < MIN_V3_BYTES {
        return Err(malformed("V3 salt and subkey must each be at least 128 bits"));
    }
    if subkey.len() > MAX_ASPNET_SUBKEY_BYTES {
        return Err(malformed("the V3 subkey is longer than 1024 bytes"));
    }
    let max_iterations = MAX_PBKDF2_WORK / prf.pbkdf2_work(1, subkey.len());
    if !(1..=max_iterations).contains(&u64::from(iterations)) {
        return Err(LegacyHashError::OutOfRange {
            format: FORMAT,
            what: "V3 iterations (at this subkey length)",
            value: u64::from(iterations),
            min: 1,
            max: max_iterations,
        });
    }
    Ok(AspNetIdentity {
        hash: hash.to_owned(),
        version: 3,
        prf,
        iterations,
        salt: salt.to_vec(),
        subkey: subkey.to_vec(),
    })
}

impl fmt::Debug for AspNetIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AspNetIdentity")
            .field("version", &self.version)
            .field("prf", &self.prf.name())
            .field("iterations", &self.iterations)
            .finish()
    }
}
