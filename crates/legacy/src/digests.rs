//! The message digests legacy hashers were configured with (MD5 to SHA-512),
//! as plain iterated digests and as PBKDF2's PRF, plus the constant-time
//! comparison every verifier ends with.

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Most PBKDF2 work accepted: iterations times output blocks (one block is
/// one digest length of output). Ten million HMAC-SHA-512 rounds take a few
/// seconds of one core; Django's and .NET's current defaults (1.2 M and
/// 100 k, one block) are far below.
pub const MAX_PBKDF2_WORK: u64 = 10_000_000;

/// A digest algorithm by the name PHP's `hash_algos()` (and so Symfony's
/// configuration) gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DigestAlgorithm {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

/// The names accepted, for error messages.
pub(crate) const DIGEST_NAMES: &str = "md5, sha1, sha224, sha256, sha384, sha512";

impl DigestAlgorithm {
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "md5" => Self::Md5,
            "sha1" => Self::Sha1,
            "sha224" => Self::Sha224,
            "sha256" => Self::Sha256,
            "sha384" => Self::Sha384,
            "sha512" => Self::Sha512,
            _ => return None,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Md5 => "md5",
            Self::Sha1 => "sha1",
            Self::Sha224 => "sha224",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// Output length in bytes.
    pub(crate) fn output_len(self) -> usize {
        match self {
            Self::Md5 => 16,
            Self::Sha1 => 20,
            Self::Sha224 => 28,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// `digest = H(salted)`, then `iterations - 1` times
    /// `digest = H(digest ‖ salted)`: Symfony's MessageDigestPasswordHasher.
    pub(crate) fn stretch(self, salted: &[u8], iterations: u32) -> Zeroizing<Vec<u8>> {
        match self {
            Self::Md5 => stretch_with::<Md5>(salted, iterations),
            Self::Sha1 => stretch_with::<Sha1>(salted, iterations),
            Self::Sha224 => stretch_with::<Sha224>(salted, iterations),
            Self::Sha256 => stretch_with::<Sha256>(salted, iterations),
            Self::Sha384 => stretch_with::<Sha384>(salted, iterations),
            Self::Sha512 => stretch_with::<Sha512>(salted, iterations),
        }
    }

    /// PBKDF2 with HMAC over this digest, filling `out`.
    pub(crate) fn pbkdf2(self, password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
        match self {
            Self::Md5 => pbkdf2::pbkdf2_hmac::<Md5>(password, salt, iterations, out),
            Self::Sha1 => pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, out),
            Self::Sha224 => pbkdf2::pbkdf2_hmac::<Sha224>(password, salt, iterations, out),
            Self::Sha256 => pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, out),
            Self::Sha384 => pbkdf2::pbkdf2_hmac::<Sha384>(password, salt, iterations, out),
            Self::Sha512 => pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, iterations, out),
        }
    }

    /// Derives `expected.len()` bytes with PBKDF2 and compares them to
    /// `expected` in constant time.
    pub(crate) fn pbkdf2_matches(
        self,
        password: &[u8],
        salt: &[u8],
        iterations: u32,
        expected: &[u8],
    ) -> bool {
        let mut derived = Zeroizing::new(vec![0u8; expected.len()]);
        self.pbkdf2(password, salt, iterations, &mut derived);
        equal(&derived, expected)
    }

    /// PBKDF2 work for `len` bytes of output: iterations times blocks.
    pub(crate) fn pbkdf2_work(self, iterations: u64, len: usize) -> u64 {
        let blocks = len.div_ceil(self.output_len()) as u64;
        iterations.saturating_mul(blocks)
    }
}

fn stretch_with<D: Digest>(salted: &[u8], iterations: u32) -> Zeroizing<Vec<u8>> {
    let mut digest = D::digest(salted);
    for _ in 1..iterations {
        let mut hasher = D::new();
        hasher.update(&digest);
        hasher.update(salted);
        digest = hasher.finalize();
    }
    Zeroizing::new(digest.to_vec())
}

/// Constant-time equality (lengths are not secret).
pub(crate) fn equal(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// The bytes of `password` up to its first NUL: what C's `crypt()` (PHP's
/// included) sees of a password.
pub(crate) fn until_nul(password: &[u8]) -> &[u8] {
    match password.iter().position(|&b| b == 0) {
        Some(end) => &password[..end],
        None => password,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_lengths_match_the_digests() {
        for name in DIGEST_NAMES.split(", ") {
            let algorithm = DigestAlgorithm::from_name(name).expect("a listed name");
            assert_eq!(algorithm.name(), name);
            assert_eq!(algorithm.stretch(b"x", 1).len(), algorithm.output_len());
        }
        assert_eq!(DigestAlgorithm::from_name("SHA512"), None);
    }

    #[test]
    fn pbkdf2_work_counts_output_blocks() {
        assert_eq!(DigestAlgorithm::Sha512.pbkdf2_work(1000, 40), 1000);
        assert_eq!(DigestAlgorithm::Sha1.pbkdf2_work(1000, 32), 2000);
        assert_eq!(DigestAlgorithm::Sha256.pbkdf2_work(u64::MAX, 64), u64::MAX);
    }

    #[test]
    fn nul_cuts_a_password_as_crypt_does() {
        assert_eq!(until_nul(b"a\0b"), b"a");
        assert_eq!(until_nul(b"ab"), b"ab");
        assert_eq!(until_nul(b"\0"), b"");
    }
}
