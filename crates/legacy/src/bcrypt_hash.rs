//! bcrypt hashes (`$2a$`, `$2b$`, `$2y$`): parsing, the `$2x$` refusal, and
//! verification with the password bytes each legacy framework handed to
//! bcrypt.

use std::fmt;

use base64::Engine as _;

use crate::digests::until_nul;
use crate::error::LegacyHashError;

/// Highest bcrypt cost accepted. bcrypt allows 31, but each step doubles the
/// work: cost 18 already takes 15–20 s of one core, and no web login was
/// ever configured above it (PHP's default is 10, 12 since 8.4).
pub const MAX_BCRYPT_COST: u32 = 18;
const MIN_BCRYPT_COST: u32 = 4;

/// A parsed bcrypt hash.
#[derive(Clone, PartialEq, Eq)]
pub struct BcryptHash {
    hash: String,
    cost: u32,
}

impl BcryptHash {
    pub(crate) fn parse(hash: &str, format: &'static str) -> Result<Self, LegacyHashError> {
        let malformed = |reason| LegacyHashError::Malformed { format, reason };
        if hash.starts_with("$2x$") {
            return Err(LegacyHashError::Bcrypt2x { format });
        }
        let rest = ["$2a$", "$2b$", "$2y$"]
            .iter()
            .find_map(|prefix| hash.strip_prefix(prefix))
            .ok_or_else(|| malformed("not a bcrypt hash: expected $2a$, $2b$ or $2y$"))?
            .as_bytes();
        // Two cost digits, `$`, 22 characters of salt, 31 of checksum.
        let shaped = rest.len() == 56 && rest[..2].iter().all(u8::is_ascii_digit) && rest[2] == b'$';
        if !shaped {
            return Err(malformed("a bcrypt hash is $2y$, two cost digits, $ and 53 characters"));
        }
        let cost = u32::from(rest[0] - b'0') * 10 + u32::from(rest[1] - b'0');
        if !(MIN_BCRYPT_COST..=MAX_BCRYPT_COST).contains(&cost) {
            return Err(LegacyHashError::OutOfRange {
                format,
                what: "bcrypt cost",
                value: u64::from(cost),
                min: u64::from(MIN_BCRYPT_COST),
                max: u64::from(MAX_BCRYPT_COST),
            });
        }
        // Strict decoding also refuses stray low bits in the last character,
        // which crypt_blowfish would rewrite: such a hash never matched in PHP.
        let salt = bcrypt::BASE_64.decode(&rest[3..25]);
        let checksum = bcrypt::BASE_64.decode(&rest[25..]);
        if !matches!((salt, checksum), (Ok(salt), Ok(sum)) if salt.len() == 16 && sum.len() == 23) {
            return Err(malformed("the bcrypt salt or checksum is not canonical bcrypt base64"));
        }
        Ok(Self { hash: hash.to_owned(), cost })
    }

    /// The hash as imported.
    pub(crate) fn as_str(&self) -> &str {
        &self.hash
    }

    /// The cost (log2 of the rounds).
    pub fn cost(&self) -> u32 {
        self.cost
    }

    /// `2a`, `2b` or `2y`.
    pub fn variant(&self) -> &str {
        self.hash.get(1..3).unwrap_or_default()
    }

    /// bcrypt over `password` as given: the first 72 bytes count.
    pub(crate) fn matches(&self, password: &[u8]) -> bool {
        bcrypt::verify(password, &self.hash).unwrap_or(false)
    }

    /// PHP's `password_verify()`: crypt_blowfish reads the password as a C
    /// string, so it ends at the first NUL (php-src's null-bcrypt.phpt:
    /// `password_verify("a\0", hash_of("a"))` is true).
    pub(crate) fn matches_like_php(&self, password: &[u8]) -> bool {
        self.matches(until_nul(password))
    }
}

impl fmt::Debug for BcryptHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BcryptHash").field("variant", &self.variant()).field("cost", &self.cost).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHP_RASMUS: &str = "$2a$07$usesomesillystringfore2uDLvp1Ii2e./U9C8sBjqp8I90dH6hi";

    #[test]
    fn parses_cost_and_variant() {
        let hash = BcryptHash::parse(PHP_RASMUS, "bcrypt").expect("a valid hash");
        assert_eq!((hash.variant(), hash.cost()), ("2a", 7));
    }

    #[test]
    fn refuses_what_bcrypt_never_wrote() {
        for bad in [
            "$2a$07$usesomesillystringfore2uDLvp1Ii2e./U9C8sBjqp8I90dH6h",
            "$2a$7$usesomesillystringfore2uDLvp1Ii2e./U9C8sBjqp8I90dH6hi",
            "$2c$07$usesomesillystringfore2uDLvp1Ii2e./U9C8sBjqp8I90dH6hi",
            "$2a$07$usesomesillystringfore2uDLvp1Ii2e./U9C8sBjqp8I90dH6h!",
            // The salt's last character carries stray low bits.
            "$2a$07$usesomesillystringforf2uDLvp1Ii2e./U9C8sBjqp8I90dH6hi",
            "$2a$07$usesomesillystringfore2uDLvp1Ii2e./U9C8sBjqp8I90dH6hé",
        ] {
            assert!(
                matches!(BcryptHash::parse(bad, "bcrypt"), Err(LegacyHashError::Malformed { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn caps_the_cost() {
        let slow = "$2a$19$usesomesillystringfore2uDLvp1Ii2e./U9C8sBjqp8I90dH6hi";
        assert!(matches!(
            BcryptHash::parse(slow, "bcrypt"),
            Err(LegacyHashError::OutOfRange { value: 19, max: 18, .. })
        ));
        let cheap = "$2a$03$usesomesillystringfore2uDLvp1Ii2e./U9C8sBjqp8I90dH6hi";
        assert!(matches!(
            BcryptHash::parse(cheap, "bcrypt"),
            Err(LegacyHashError::OutOfRange { value: 3, .. })
        ));
    }
}
