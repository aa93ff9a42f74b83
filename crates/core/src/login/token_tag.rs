//! Keyed tags inside opaque tokens, so that a forged or random token is
//! refused without a database lookup (DESIGN.md §7: a flood of random bearer
//! tokens costs no database work).
//!
//! Every opaque token Tollgate issues keeps its documented shape, and part
//! of it is a keyed hash (under a key derived from the credential pepper,
//! the same on every node) of the rest:
//!
//! - contract A access tokens: 32 × `[a-z0-9]`: 25 random characters
//!   (129 bits) and a 7-character tag (36 bits);
//! - refresh tokens: 64 hex characters: 48 random (192 bits) and a 16-character
//!   tag (64 bits);
//! - contract B tokens: a version-4 UUID: 96 random bits and a 26-bit tag in
//!   its 122 free bits (the document fixes the UUID form; §1 B allows 96).
//!
//! A token that does not carry a valid tag was not made here — unless it
//! comes from before tags (an upgraded database): those are still looked up
//! until the last of them has expired (`untagged_until`).

use hmac::{Hmac, Mac as _};
use sha2::Sha256;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::secret::{PlainToken, fill_random};

const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const A_RANDOM: usize = 25;
const A_TAG: usize = 7;
const REFRESH_RANDOM: usize = 48;
const REFRESH_TAG: usize = 16;
/// The low bits of a B token's UUID that hold its tag.
const B_TAG_BITS: u32 = 26;
/// The UUID's version and variant bits: fixed, neither random nor tag.
const UUID_FIXED: u128 = (0xF << 76) | (0x3 << 62);

/// Makes and checks tags.
#[derive(Clone)]
pub struct TokenTags {
    mac: Hmac<Sha256>,
    /// Untagged tokens may exist until then (issued before tags).
    untagged_until: Option<OffsetDateTime>,
}

impl TokenTags {
    pub fn new(key: &[u8; 32], untagged_until: Option<OffsetDateTime>) -> Self {
        #[expect(clippy::expect_used, reason = "HMAC takes keys of any length")]
        let mac = Hmac::new_from_slice(key).expect("HMAC takes any key length");
        Self { mac, untagged_until }
    }

    fn tag(&self, kind: u8, body: &[u8]) -> u64 {
        let mut mac = self.mac.clone();
        mac.update(&[kind]);
        mac.update(body);
        let digest = mac.finalize().into_bytes();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(first)
    }

    /// A new contract A access token.
    pub fn access_token(&self) -> PlainToken {
        let mut token = crate::secret::random_alphanumeric(A_RANDOM);
        let tag = self.tag(b'a', token.as_bytes());
        push_base36(&mut token, tag, A_TAG);
        PlainToken::new(token)
    }

    /// A new refresh token.
    pub fn refresh_token(&self) -> PlainToken {
        let mut token = crate::secret::random_hex(REFRESH_RANDOM / 2);
        let tag = self.tag(b'r', token.as_bytes());
        token.push_str(&format!("{tag:0REFRESH_TAG$x}"));
        PlainToken::new(token)
    }

    /// A new contract B token: a version-4 UUID.
    pub fn apikey_token(&self) -> PlainToken {
        let mut raw = [0u8; 16];
        fill_random(&mut raw);
        let random = u128::from_be_bytes(raw) & !UUID_FIXED & !b_tag_mask();
        let with_version = random | (0x4 << 76) | (0x2 << 62);
        let tag = u128::from(self.tag(b'b', &with_version.to_be_bytes())) & b_tag_mask();
        PlainToken::new(Uuid::from_u128(with_version | tag).hyphenated().to_string())
    }

    /// Whether `token` may be one of ours and is worth looking up: it
    /// carries a valid tag, or untagged tokens may still be alive.
    pub fn may_be_ours(&self, token: &str, now: OffsetDateTime) -> bool {
        self.valid(token) || (self.untagged_until.is_some_and(|until| now < until) && shaped(token))
    }

    fn valid(&self, token: &str) -> bool {
        let bytes = token.as_bytes();
        match bytes.len() {
            32 if bytes.iter().all(|b| ALPHABET.contains(b)) => {
                let mut expected = String::with_capacity(A_TAG);
                push_base36(&mut expected, self.tag(b'a', &bytes[..A_RANDOM]), A_TAG);
                crate::secret::constant_time_eq(&bytes[A_RANDOM..], expected.as_bytes())
            }
            64 if bytes.iter().all(u8::is_ascii_hexdigit) => {
                let expected = format!("{:0REFRESH_TAG$x}", self.tag(b'r', &bytes[..REFRESH_RANDOM]));
                crate::secret::constant_time_eq(&bytes[REFRESH_RANDOM..], expected.as_bytes())
            }
            36 => match Uuid::try_parse(token) {
                Ok(uuid) if uuid.get_version_num() == 4 => {
                    let value = uuid.as_u128();
                    let tag =
                        u128::from(self.tag(b'b', &(value & !b_tag_mask()).to_be_bytes())) & b_tag_mask();
                    crate::secret::constant_time_eq(&(value & b_tag_mask()).to_be_bytes(), &tag.to_be_bytes())
                }
                _ => false,
            },
            _ => false,
        }
    }
}

fn b_tag_mask() -> u128 {
    (1u128 << B_TAG_BITS) - 1
}

/// Whether `token` has the shape of a token Tollgate issues at all.
fn shaped(token: &str) -> bool {
    let bytes = token.as_bytes();
    match bytes.len() {
        32 => bytes.iter().all(|b| ALPHABET.contains(b)),
        64 => bytes.iter().all(u8::is_ascii_hexdigit),
        36 => Uuid::try_parse(token).is_ok(),
        _ => false,
    }
}

/// `digits` base-36 digits of `value`.
fn push_base36(out: &mut String, mut value: u64, digits: usize) {
    for _ in 0..digits {
        out.push(char::from(ALPHABET[usize::try_from(value % 36).unwrap_or(0)]));
        value /= 36;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(untagged_until: Option<OffsetDateTime>) -> TokenTags {
        TokenTags::new(&[9; 32], untagged_until)
    }

    #[test]
    fn issued_tokens_keep_their_documented_shape_and_carry_a_valid_tag() {
        let now = OffsetDateTime::now_utc();
        let tags = tags(None);
        for _ in 0..200 {
            let a = tags.access_token();
            assert_eq!(a.expose().len(), 32);
            assert!(a.expose().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
            let refresh = tags.refresh_token();
            assert_eq!(refresh.expose().len(), 64);
            assert!(refresh.expose().bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
            let b = tags.apikey_token();
            let uuid = Uuid::parse_str(b.expose()).expect("uuid");
            assert_eq!((uuid.get_version_num(), uuid.get_variant()), (4, uuid::Variant::RFC4122));
            for token in [a.expose(), refresh.expose(), b.expose()] {
                assert!(tags.may_be_ours(token, now), "{token}");
            }
        }
    }

    #[test]
    fn forged_random_and_other_keys_tokens_are_refused_without_a_lookup() {
        let now = OffsetDateTime::now_utc();
        let ours = tags(None);
        let theirs = TokenTags::new(&[8; 32], None);
        for token in [theirs.access_token(), theirs.refresh_token(), theirs.apikey_token()] {
            assert!(!ours.may_be_ours(token.expose(), now), "{token:?}");
        }
        for random in [
            crate::secret::random_alphanumeric(32),
            crate::secret::random_hex(32),
            Uuid::new_v4().to_string(),
            "bench-token-1".to_owned(),
            String::new(),
        ] {
            assert!(!ours.may_be_ours(&random, now), "{random}");
        }
        // A flipped character breaks the tag.
        let mut token = ours.access_token().expose().to_owned();
        let last = if token.ends_with('a') { "b" } else { "a" };
        token.replace_range(31..32, last);
        assert!(!ours.may_be_ours(&token, now));
    }

    #[test]
    fn untagged_tokens_of_an_upgraded_database_are_looked_up_until_they_have_expired() {
        let now = OffsetDateTime::now_utc();
        let upgraded = tags(Some(now + time::Duration::days(30)));
        let legacy = crate::secret::random_alphanumeric(32);
        assert!(upgraded.may_be_ours(&legacy, now));
        assert!(!upgraded.may_be_ours("not a token", now));
        assert!(!upgraded.may_be_ours(&legacy, now + time::Duration::days(31)));
    }
}
