//! Argon2 PHC strings (`$argon2id$`, `$argon2i$`, `$argon2d$`) as PHP,
//! libsodium, argon2-cffi and the reference implementation write them.

use std::fmt;

use argon2::password_hash::PasswordHash;
use argon2::{Algorithm, Argon2, Params, Version};
use zeroize::Zeroizing;

use crate::digests::equal;
use crate::error::LegacyHashError;

/// Most memory accepted, in KiB (2 GiB: RFC 9106's first recommended
/// setting).
pub const MAX_ARGON2_MEMORY_KIB: u32 = 2 * 1024 * 1024;
/// Most memory × passes accepted, in KiB (4 GiB·passes: libsodium's
/// "sensitive" limits, the heaviest preset anyone ships). This bounds the
/// time a verification takes whatever the split between `m` and `t`.
pub const MAX_ARGON2_WORK_KIB: u64 = 4 * 1024 * 1024;
/// Most lanes accepted.
pub const MAX_ARGON2_LANES: u32 = 255;
/// argon2 refuses shorter salts.
const MIN_SALT_BYTES: usize = 8;

/// A parsed Argon2 hash.
#[derive(Clone, PartialEq, Eq)]
pub struct Argon2Hash {
    phc: String,
    algorithm: Algorithm,
    version: Version,
    m_cost: u32,
    t_cost: u32,
    p_cost: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl Argon2Hash {
    pub(crate) fn parse(phc: &str, format: &'static str) -> Result<Self, LegacyHashError> {
        let malformed = |reason| LegacyHashError::Malformed { format, reason };
        let parsed = PasswordHash::new(phc)
            .map_err(|_| malformed("not an argon2 PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash)"))?;
        let algorithm = match parsed.algorithm.as_str() {
            "argon2id" => Algorithm::Argon2id,
            "argon2i" => Algorithm::Argon2i,
            "argon2d" => Algorithm::Argon2d,
            _ => return Err(malformed("not an argon2 hash: expected $argon2id$, $argon2i$ or $argon2d$")),
        };
        // The reference implementation reads a missing `v=` as version 1.0
        // (0x10): hashes from before `v=` existed, like Django's oldest.
        let version = match parsed.version {
            None | Some(0x10) => Version::V0x10,
            Some(0x13) => Version::V0x13,
            Some(_) => return Err(malformed("the argon2 version must be v=16 or v=19")),
        };
        let (mut m_cost, mut t_cost, mut p_cost) = (None, None, None);
        for (name, value) in parsed.params.iter() {
            let slot = match name.as_str() {
                "m" => &mut m_cost,
                "t" => &mut t_cost,
                "p" => &mut p_cost,
                _ => return Err(malformed("argon2 parameters other than m, t and p are not supported")),
            };
            let value = value.decimal().map_err(|_| malformed("argon2 m, t and p must be whole numbers"))?;
            if slot.replace(value).is_some() {
                return Err(malformed("an argon2 parameter is given twice"));
            }
        }
        let (Some(m_cost), Some(t_cost), Some(p_cost)) = (m_cost, t_cost, p_cost) else {
            return Err(malformed("an argon2 hash needs m, t and p"));
        };
        check_range(format, "argon2 memory (KiB)", m_cost, 1, MAX_ARGON2_MEMORY_KIB)?;
        check_range(format, "argon2 lanes", p_cost, 1, MAX_ARGON2_LANES)?;
        let max_passes = u32::try_from(MAX_ARGON2_WORK_KIB / u64::from(m_cost)).unwrap_or(u32::MAX);
        check_range(format, "argon2 passes (at this memory)", t_cost, 1, max_passes)?;
        let salt = parsed.salt.ok_or_else(|| malformed("the argon2 hash has no salt"))?;
        let mut salt_buffer = [0u8; 64];
        let salt = salt
            .decode_b64(&mut salt_buffer)
            .map_err(|_| malformed("the argon2 salt is not base64 without padding"))?
            .to_vec();
        if salt.len() < MIN_SALT_BYTES {
            return Err(malformed("the argon2 salt is shorter than 8 bytes"));
        }
        let hash =
            parsed.hash.ok_or_else(|| malformed("the argon2 hash has no hash part"))?.as_bytes().to_vec();
        Params::new(m_cost, t_cost, p_cost, Some(hash.len()))
            .map_err(|_| malformed("argon2 parameters out of range (m must be at least 8 × p)"))?;
        Ok(Self { phc: phc.to_owned(), algorithm, version, m_cost, t_cost, p_cost, salt, hash })
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.phc
    }

    /// `argon2id`, `argon2i` or `argon2d`.
    pub fn algorithm(&self) -> &'static str {
        match self.algorithm {
            Algorithm::Argon2d => "argon2d",
            Algorithm::Argon2i => "argon2i",
            Algorithm::Argon2id => "argon2id",
        }
    }

    /// Memory (KiB), passes and lanes.
    pub fn params(&self) -> (u32, u32, u32) {
        (self.m_cost, self.t_cost, self.p_cost)
    }

    pub(crate) fn matches(&self, password: &[u8]) -> bool {
        let Ok(params) = Params::new(self.m_cost, self.t_cost, self.p_cost, Some(self.hash.len())) else {
            return false;
        };
        let mut out = Zeroizing::new(vec![0u8; self.hash.len()]);
        Argon2::new(self.algorithm, self.version, params)
            .hash_password_into(password, &self.salt, &mut out)
            .is_ok()
            && equal(&out, &self.hash)
    }
}

fn check_range(
    format: &'static str,
    what: &'static str,
    value: u32,
    min: u32,
    max: u32,
) -> Result<(), LegacyHashError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(LegacyHashError::OutOfRange {
            format,
            what,
            value: u64::from(value),
            min: u64::from(min),
            max: u64::from(max),
        })
    }
}

impl fmt::Debug for Argon2Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Argon2Hash")
            .field("algorithm", &self.algorithm())
            .field("version", &(self.version as u32))
            .field("m", &self.m_cost)
            .field("t", &self.t_cost)
            .field("p", &self.p_cost)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_version_is_1_0() {
        let old = Argon2Hash::parse(
            "$argon2i$m=256,t=2,p=2$c29tZXNhbHQ$tsEVYKap1h6scGt5ovl9aLRGOqOth+AMB+KwHpDFZPs",
            "argon2",
        )
        .expect("valid");
        assert_eq!(old.version, Version::V0x10);
    }

    #[test]
    fn refuses_odd_parameters() {
        let tail = "c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4";
        for bad in [
            format!("$argon2id$v=19$m=256,t=2$${tail}"),
            format!("$argon2id$v=19$m=256,t=2,p=1,keyid=AAAA${tail}"),
            format!("$argon2id$v=18$m=256,t=2,p=1${tail}"),
            format!("$argon2x$v=19$m=256,t=2,p=1${tail}"),
            format!("$argon2id$v=19$m=8,t=2,p=2${tail}"),
            "$argon2id$v=19$m=256,t=2,p=1$c29tZQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4".to_owned(),
            "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ".to_owned(),
        ] {
            assert!(
                matches!(Argon2Hash::parse(&bad, "argon2"), Err(LegacyHashError::Malformed { .. })),
                "{bad}"
            );
        }
        for bad in [
            format!("$argon2id$v=19$m=4194304,t=1,p=1${tail}"),
            format!("$argon2id$v=19$m=1048576,t=5,p=1${tail}"),
            format!("$argon2id$v=19$m=65536,t=0,p=1${tail}"),
            format!("$argon2id$v=19$m=65536,t=1,p=256${tail}"),
        ] {
            assert!(
                matches!(Argon2Hash::parse(&bad, "argon2"), Err(LegacyHashError::OutOfRange { .. })),
                "{bad}"
            );
        }
    }
}
