//! Server-generated secrets: how they are made (OS randomness, at least 128
//! bits), how they are kept (SHA-256 only), and how they are compared
//! (constant time).

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use rand::TryRngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Fills `buf` from the operating system's CSPRNG.
///
/// A machine whose OS cannot hand out randomness cannot issue secrets at all;
/// there is nothing sensible to fall back to, so this aborts the request's
/// task loudly rather than issuing something guessable.
pub fn fill_random(buf: &mut [u8]) {
    #[expect(clippy::expect_used, reason = "no safe fallback exists for a failing OS RNG")]
    OsRng.try_fill_bytes(buf).expect("the operating system's random number generator failed");
}

/// `len` characters of `[a-z0-9]`, uniformly drawn (contract A's token shape).
pub fn random_alphanumeric(len: usize) -> String {
    const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        fill_random(&mut buf);
        // Rejection sampling: 252 = 7 * 36, so bytes below it map uniformly.
        for &b in buf.iter().filter(|&&b| b < 252) {
            if out.len() == len {
                break;
            }
            out.push(char::from(ALPHABET[usize::from(b % 36)]));
        }
    }
    out
}

/// `bytes` random bytes as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    fill_random(&mut buf);
    hex::encode(buf)
}

/// A new API key (contract B): 16 random bytes, standard base64 with
/// padding, like the document's `hDn/LFXIPESM036W+s7VKg==`.
pub fn new_api_key() -> String {
    use base64::Engine as _;
    let mut raw = [0u8; 16];
    fill_random(&mut raw);
    base64::engine::general_purpose::STANDARD.encode(raw)
}

/// The 16 bytes of a well-formed API key, or `None`.
pub fn decode_api_key(key: &str) -> Option<[u8; 16]> {
    use base64::Engine as _;
    // 16 bytes are exactly 24 base64 characters; checking first keeps
    // absurdly long input away from the decoder.
    if key.len() != 24 {
        return None;
    }
    base64::engine::general_purpose::STANDARD.decode(key).ok()?.try_into().ok()
}

/// A new access key (contract C): 40 lowercase hex characters (160 bits).
pub fn new_access_key() -> String {
    random_hex(20)
}

/// A new access-key secret: 36 random bytes as 48 base64 characters.
pub fn new_access_secret() -> String {
    use base64::Engine as _;
    let mut raw = [0u8; 36];
    fill_random(&mut raw);
    base64::engine::general_purpose::STANDARD.encode(raw)
}

/// The SHA-256 of a token: the only form in which tokens are stored.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    pub fn of(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for TokenHash {
    // Only a prefix: enough to correlate log lines, useless to an attacker.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({}…)", hex::encode(&self.0[..4]))
    }
}

/// Constant-time equality for secrets of equal or unequal length.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// HMAC-SHA256 of `message` under `key`: the keyed hash for secrets that are
/// looked up by another identifier (API keys, access-key secrets).
pub fn keyed_hash(key: &[u8], message: &[u8]) -> [u8; 32] {
    #[expect(clippy::expect_used, reason = "HMAC accepts keys of any length")]
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Seals `plaintext` so that only the holder of `token` can open it.
///
/// The refresh grace period must hand a retrying client the very pair it was
/// already given, yet the server keeps no token in plain text. So the
/// successor pair is encrypted under a key derived from the *old* refresh
/// token, which only its holder knows; the database holds SHA-256(token),
/// from which the key cannot be derived.
pub fn seal_for_token(token: &str, plaintext: &[u8]) -> Vec<u8> {
    let cipher = ChaCha20Poly1305::new(&sealing_key(token));
    let mut nonce = [0u8; 12];
    fill_random(&mut nonce);
    let mut out = nonce.to_vec();
    // Encryption with a fresh key and nonce cannot fail for short inputs.
    if let Ok(ct) = cipher.encrypt(Nonce::from_slice(&nonce), plaintext) {
        out.extend_from_slice(&ct);
    }
    out
}

/// Opens what [`seal_for_token`] sealed; `None` if it was not sealed for this
/// token or was tampered with.
pub fn open_for_token(token: &str, sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < 12 {
        return None;
    }
    let (nonce, ct) = sealed.split_at(12);
    ChaCha20Poly1305::new(&sealing_key(token)).decrypt(Nonce::from_slice(nonce), ct).ok()
}

fn sealing_key(token: &str) -> Key {
    Key::from(keyed_hash(b"tollgate refresh successor v1", token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphanumeric_tokens_have_the_contract_shape() {
        let t = random_alphanumeric(32);
        assert_eq!(t.len(), 32);
        assert!(t.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        assert_ne!(t, random_alphanumeric(32));
    }

    #[test]
    fn api_keys_are_base64_of_16_bytes() {
        let key = new_api_key();
        assert_eq!(key.len(), 24);
        assert!(decode_api_key(&key).is_some());
        assert!(decode_api_key("hDn/LFXIPESM036W+s7VKg==").is_some());
        assert!(decode_api_key("hDn/LFXIPESM036W+s7VKg=").is_none());
        assert!(decode_api_key("hDn/LFXIPESM036W+s7VK===").is_none());
        assert!(decode_api_key("not base64 at all!!!!!!!").is_none());
        assert!(decode_api_key("aGVsbG8=").is_none());
    }

    #[test]
    fn sealed_successor_opens_only_with_its_token() {
        let sealed = seal_for_token("old-refresh", b"new pair");
        assert_eq!(open_for_token("old-refresh", &sealed).as_deref(), Some(&b"new pair"[..]));
        assert_eq!(open_for_token("another", &sealed), None);
    }
}
