//! Secrets: the types that carry them (so that no `Debug` or `Display`
//! ever prints one), how the server makes them (OS randomness, at least 128
//! bits), how they are kept (SHA-256 or a keyed hash only), and how they are
//! compared (constant time).

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use rand::TryRngCore;
use rand::rngs::OsRng;
use secrecy::{ExposeSecret as _, SecretBox, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A text secret: zeroed when dropped, `[redacted]` when printed. What it
/// holds is reached only through `expose`, where it goes on the wire, into
/// a hash or into a comparison.
macro_rules! text_secret {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(SecretString);

        impl $name {
            pub fn new(text: impl Into<String>) -> Self {
                Self(SecretString::from(text.into()))
            }

            /// The secret itself.
            pub fn expose(&self) -> &str {
                self.0.expose_secret()
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                Self::new(text)
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                Self::new(text)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("[redacted]")
            }
        }
    };
}

text_secret!(
    /// A password, as a client presents it or an operator sets it.
    Password
);
text_secret!(
    /// A contract B API key in plain text: presented at login, or shown once
    /// when issued.
    ApiKey
);
text_secret!(
    /// An access key's secret in plain text (contract C, OAuth 2.0 client
    /// secret): presented at login, or shown once when created.
    AccessSecret
);
text_secret!(
    /// A token handed to a client (opaque access and refresh tokens, JWTs).
    PlainToken
);
text_secret!(
    /// The id of an admin portal session, as the browser's cookie holds it.
    PortalSessionId
);

/// The HMAC key of HS384 JWTs: configured, or generated and kept in the
/// database.
#[derive(Clone)]
pub struct JwtSecret(std::sync::Arc<SecretBox<[u8]>>);

impl JwtSecret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(std::sync::Arc::new(SecretBox::new(bytes.into_boxed_slice())))
    }

    pub fn expose(&self) -> &[u8] {
        self.0.expose_secret()
    }

    /// A name for the secret that operators can compare between nodes
    /// (`hs-` and 16 hex digits of a domain-separated SHA-256): HS384 tokens
    /// carry no `kid`, yet the admin API lists the key in use. It tells
    /// nothing about a secret of at least 48 bytes.
    pub fn fingerprint(&self) -> String {
        use sha2::Digest as _;
        let digest = sha2::Sha256::new()
            .chain_update(b"tollgate jwt secret fingerprint\0")
            .chain_update(self.expose())
            .finalize();
        format!("hs-{}", hex::encode(&digest[..8]))
    }
}

impl fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtSecret([redacted])")
    }
}

impl fmt::Display for JwtSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

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
pub fn new_api_key() -> ApiKey {
    use base64::Engine as _;
    let mut raw = zeroize::Zeroizing::new([0u8; 16]);
    fill_random(raw.as_mut());
    ApiKey::new(base64::engine::general_purpose::STANDARD.encode(raw.as_ref()))
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
pub fn new_access_secret() -> AccessSecret {
    use base64::Engine as _;
    let mut raw = zeroize::Zeroizing::new([0u8; 36]);
    fill_random(raw.as_mut());
    AccessSecret::new(base64::engine::general_purpose::STANDARD.encode(raw.as_ref()))
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
    fn no_secret_type_prints_its_secret() {
        let shown = [
            (format!("{:?}", Password::new("hunter2-pass")), format!("{}", Password::new("hunter2-pass"))),
            (
                format!("{:?}", ApiKey::new("hDn/LFXIPESM036W+s7VKg==")),
                format!("{}", ApiKey::new("hDn/LFXIPESM036W+s7VKg==")),
            ),
            (
                format!("{:?}", AccessSecret::new("79bPqahzbeYuIgyod1GB")),
                format!("{}", AccessSecret::new("79bPqahzbeYuIgyod1GB")),
            ),
            (
                format!("{:?}", PlainToken::new("apraol02n3fhzj1w")),
                format!("{}", PlainToken::new("apraol02n3fhzj1w")),
            ),
            (
                format!("{:?}", JwtSecret::new(b"jwt-secret-bytes".to_vec())),
                format!("{}", JwtSecret::new(b"jwt-secret-bytes".to_vec())),
            ),
        ];
        for (secret, (debug, display)) in
            ["hunter2", "hDn/LFX", "79bPqah", "apraol0", "jwt-secret"].iter().zip(shown)
        {
            assert!(!debug.contains(secret) && debug.contains("redacted"), "{debug}");
            assert!(!display.contains(secret) && display.contains("redacted"), "{display}");
        }
        // Generated ones too, inside the structures that carry them.
        let key = new_api_key();
        assert!(!format!("{key:?} {key}").contains(key.expose()));
        let secret = new_access_secret();
        assert!(!format!("{secret:?} {secret}").contains(secret.expose()));
    }

    #[test]
    fn api_keys_are_base64_of_16_bytes() {
        let key = new_api_key();
        let key = key.expose();
        assert_eq!(key.len(), 24);
        assert!(decode_api_key(key).is_some());
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
