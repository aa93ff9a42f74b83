//! SHA-crypt (`$5$` SHA-256, `$6$` SHA-512; Drepper's scheme used by glibc's
//! and PHP's `crypt()`), with and without `rounds=`.

use std::fmt;

use sha_crypt::{Sha256Params, Sha512Params, sha256_crypt_b64, sha512_crypt_b64};

use crate::digests::{equal, until_nul};
use crate::error::LegacyHashError;
use crate::record::canonical_decimal;

/// Most `rounds=` accepted. The scheme allows 999,999,999; the highest
/// defaults in use are passlib's 656,000 (SHA-512) and 535,000 (SHA-256).
/// The work also grows with the password's length, so the cap is kept low.
pub const MAX_SHA_CRYPT_ROUNDS: u32 = 1_000_000;
/// Fewest rounds: crypt raises anything lower to 1000 and writes
/// `rounds=1000`, so a lower number was never written by it.
const MIN_ROUNDS: u32 = 1000;
/// Rounds when the hash has no `rounds=`.
const DEFAULT_ROUNDS: u32 = 5000;
/// crypt uses at most 16 bytes of salt and writes back only those.
const MAX_SALT_BYTES: usize = 16;

/// A parsed SHA-crypt hash.
#[derive(Clone, PartialEq, Eq)]
pub struct ShaCryptHash {
    hash: String,
    sha512: bool,
    rounds: Option<u32>,
    salt: String,
    checksum: String,
}

impl ShaCryptHash {
    pub(crate) fn parse(hash: &str, format: &'static str) -> Result<Self, LegacyHashError> {
        let malformed = |reason| LegacyHashError::Malformed { format, reason };
        let (sha512, rest) = if let Some(rest) = hash.strip_prefix("$5$") {
            (false, rest)
        } else if let Some(rest) = hash.strip_prefix("$6$") {
            (true, rest)
        } else {
            return Err(malformed("not a sha-crypt hash: expected $5$ or $6$"));
        };
        let (rounds, rest) = match rest.strip_prefix("rounds=") {
            Some(rest) => {
                let (digits, rest) =
                    rest.split_once('$').ok_or_else(|| malformed("rounds= is not followed by $"))?;
                let rounds = canonical_decimal(digits)
                    .ok_or_else(|| malformed("rounds= must be a plain decimal number"))?;
                if !(u64::from(MIN_ROUNDS)..=u64::from(MAX_SHA_CRYPT_ROUNDS)).contains(&rounds) {
                    return Err(LegacyHashError::OutOfRange {
                        format,
                        what: "sha-crypt rounds",
                        value: rounds,
                        min: u64::from(MIN_ROUNDS),
                        max: u64::from(MAX_SHA_CRYPT_ROUNDS),
                    });
                }
                (u32::try_from(rounds).ok(), rest)
            }
            None => (None, rest),
        };
        let (salt, checksum) =
            rest.split_once('$').ok_or_else(|| malformed("a sha-crypt hash ends in $salt$checksum"))?;
        if salt.len() > MAX_SALT_BYTES {
            return Err(malformed("the sha-crypt salt is longer than 16 bytes, which crypt never writes"));
        }
        let expected_len = if sha512 { 86 } else { 43 };
        let crypt_alphabet = |b: u8| b.is_ascii_alphanumeric() || b == b'.' || b == b'/';
        if checksum.len() != expected_len || !checksum.bytes().all(crypt_alphabet) {
            return Err(malformed("the sha-crypt checksum is not 43 ($5$) or 86 ($6$) crypt characters"));
        }
        Ok(Self {
            hash: hash.to_owned(),
            sha512,
            rounds,
            salt: salt.to_owned(),
            checksum: checksum.to_owned(),
        })
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.hash
    }

    /// The rounds used (5000 when the hash has no `rounds=`).
    pub fn rounds(&self) -> u32 {
        self.rounds.unwrap_or(DEFAULT_ROUNDS)
    }

    /// `$5$` (SHA-256) or `$6$` (SHA-512).
    pub fn is_sha512(&self) -> bool {
        self.sha512
    }

    /// crypt(3) reads the password as a C string: it ends at the first NUL.
    pub(crate) fn matches(&self, password: &[u8]) -> bool {
        let password = until_nul(password);
        let rounds = self.rounds() as usize;
        let computed = if self.sha512 {
            Sha512Params::new(rounds)
                .ok()
                .and_then(|p| sha512_crypt_b64(password, self.salt.as_bytes(), &p).ok())
        } else {
            Sha256Params::new(rounds)
                .ok()
                .and_then(|p| sha256_crypt_b64(password, self.salt.as_bytes(), &p).ok())
        };
        computed.is_some_and(|computed| equal(computed.as_bytes(), self.checksum.as_bytes()))
    }
}

impl fmt::Debug for ShaCryptHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShaCryptHash")
            .field("scheme", &if self.sha512 { "$6$" } else { "$5$" })
            .field("rounds", &self.rounds())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_and_without_rounds() {
        let plain =
            ShaCryptHash::parse("$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", "sha-crypt")
                .expect("valid");
        assert_eq!((plain.is_sha512(), plain.rounds()), (false, 5000));
        let explicit = ShaCryptHash::parse(
            "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA",
            "sha-crypt",
        )
        .expect("valid");
        assert_eq!(explicit.rounds(), 10000);
    }

    #[test]
    fn refuses_what_crypt_never_wrote() {
        let sum = "3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA";
        for bad in [
            format!("$5$rounds=010000$saltstringsaltst${sum}"),
            format!("$5$rounds=$saltstringsaltst${sum}"),
            format!("$5$saltstringsaltstring${sum}"),
            format!("$5$saltstringsaltst${sum}x"),
            format!("$6$saltstringsaltst${sum}"),
            format!("$5$saltstringsaltst{sum}"),
            format!("$1$saltstringsaltst${sum}"),
        ] {
            assert!(
                matches!(ShaCryptHash::parse(&bad, "sha-crypt"), Err(LegacyHashError::Malformed { .. })),
                "{bad}"
            );
        }
        for rounds in ["999", "1000001"] {
            let bad = format!("$5$rounds={rounds}$saltstringsaltst${sum}");
            assert!(matches!(
                ShaCryptHash::parse(&bad, "sha-crypt"),
                Err(LegacyHashError::OutOfRange { .. })
            ));
        }
    }
}
