//! JWTs for contract C and OAuth 2.0: signing with the header bytes the
//! contract shows (HS384) or with a `kid` (ES256, EdDSA, RS256), and
//! verification with `jsonwebtoken` restricted to the one configured
//! algorithm (so `alg: none` and algorithm confusion fail).

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac as _};
use jsonwebtoken::{DecodingKey, EncodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha384;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::signing_keys::{SigningAlgorithm, SigningKeyRecord};

/// The claims every token of one subject shares, in the contract's order:
/// `uid`, `ar`, `ak`, `realm`, then the principal's attributes (`ca`, `cid`,
/// `domain`, …). Each token appends `iat`, `exp` and `jti` (so that one
/// token can be revoked).
#[derive(Debug, Serialize)]
pub struct SubjectClaims<'a> {
    pub uid: Uuid,
    pub ar: &'a [String],
    pub ak: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm: Option<&'a str>,
    #[serde(flatten)]
    pub attributes: &'a BTreeMap<String, String>,
}

/// A subject's claims made ready to sign many tokens: a login then encodes
/// and hashes only its own `iat`, `exp` and `jti`, about 80 bytes, instead
/// of the whole payload (the constant head is three of HS384's five
/// SHA-512 blocks, plus its JSON and base64).
pub struct SigningTemplate {
    /// base64url of the payload's head, as far as whole 3-byte groups go
    /// (so that what follows encodes independently).
    head_b64: String,
    /// The head's last 0-2 bytes, encoded with each token's own claims.
    carry: Vec<u8>,
    /// HS384: the MAC state after `header.head_b64`, and which codec's
    /// secret it holds.
    mac: Option<(u64, Hmac<Sha384>)>,
}

/// What verification reads back; other claims are ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct VerifiedClaims {
    pub uid: Uuid,
    pub ak: Uuid,
    #[serde(default)]
    pub ar: Vec<String>,
    #[serde(default)]
    pub realm: Option<String>,
    pub iat: i64,
    pub exp: i64,
    #[serde(default)]
    pub nbf: Option<i64>,
    #[serde(default)]
    pub jti: Option<Uuid>,
}

impl VerifiedClaims {
    /// RFC 8725's checks of the time claims, at `now` (Unix seconds): not
    /// expired, not issued in the future, already valid (`nbf`), and not
    /// meant to live longer than Tollgate issues tokens for — a correctly
    /// signed token that breaks these was not made by this service's rules
    /// (a leaked key, a bug) and is refused. `leeway` forgives clock skew
    /// between nodes.
    pub fn judge_times(&self, now: i64, leeway: i64, longest_lifetime: i64) -> Result<(), TimeClaimError> {
        if self.exp.saturating_add(leeway) < now {
            return Err(TimeClaimError::Expired);
        }
        if self.iat > now.saturating_add(leeway) {
            return Err(TimeClaimError::IssuedInTheFuture);
        }
        if self.nbf.is_some_and(|nbf| nbf > now.saturating_add(leeway)) {
            return Err(TimeClaimError::NotYetValid);
        }
        if self.exp.saturating_sub(self.iat) > longest_lifetime {
            return Err(TimeClaimError::LivesTooLong);
        }
        Ok(())
    }
}

/// Which time claim a JWT broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimeClaimError {
    #[error("expired")]
    Expired,
    #[error("issued in the future (iat)")]
    IssuedInTheFuture,
    #[error("not valid yet (nbf)")]
    NotYetValid,
    #[error("lifetime (exp - iat) longer than the configured one")]
    LivesTooLong,
}

#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error("cannot serialize the claims")]
    Claims(#[source] serde_json::Error),
    #[error("no signing key is in force")]
    NoSigningKey,
    #[error("cannot sign")]
    Sign(#[source] jsonwebtoken::errors::Error),
    /// Not a JWT at all (no decodable header).
    #[error("malformed token")]
    Malformed(#[source] jsonwebtoken::errors::Error),
    /// A `kid` where none belongs (HS384), none where one must be, or one
    /// that names no published key.
    #[error("unexpected, missing or unknown key id")]
    KeyId,
    /// Bad signature, wrong algorithm, expired, or claims of the wrong shape.
    #[error("token refused")]
    Refused(#[source] jsonwebtoken::errors::Error),
    #[error("unusable signing key {kid}")]
    Key {
        kid: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Why a stored key's public half is unusable.
#[derive(Debug, thiserror::Error)]
#[error("its JWK lacks `{0}`")]
struct MissingJwkField(&'static str);

/// One asymmetric key of the ring.
struct RingKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: Value,
    /// `base64url({"alg":…,"typ":"JWT","kid":…})`.
    header: String,
    signs_from: OffsetDateTime,
    /// When the last token it can have signed has expired.
    retires_at: Option<OffsetDateTime>,
}

/// Signs and verifies JWTs: one shared secret (HS384) or a ring of key pairs.
pub struct JwtCodec {
    /// Tells codecs apart, so a template's MAC state is only used with the
    /// secret it was made with.
    id: u64,
    algorithm: SigningAlgorithm,
    signer: Signer,
    validation: Validation,
}

/// What signs and verifies.
#[expect(
    clippy::large_enum_variant,
    reason = "one codec per process, read by every login and check: no indirection wanted"
)]
enum Signer {
    /// HS384: the HMAC state with the secret already absorbed (signing copies
    /// it instead of hashing the key again for every token), the key that
    /// verifies, and `base64url({"alg":"HS384","typ":"JWT"})`, exactly the
    /// seed's bytes.
    Hmac { keyed: Hmac<Sha384>, decoding: DecodingKey, header: String },
    /// Key pairs of an asymmetric algorithm, each with its `kid`.
    Ring(Vec<RingKey>),
}

/// Signature and algorithm are checked by `jsonwebtoken`; time-based
/// claims by the caller, against the core's clock (`exp` must be present).
fn validation(algorithm: SigningAlgorithm, leeway: Duration) -> Validation {
    let mut validation = Validation::new(algorithm.jwt_algorithm());
    validation.leeway = leeway.as_secs();
    validation.validate_aud = false;
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["exp"]);
    validation
}

fn next_codec_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

fn b64_header(header: &Value) -> String {
    URL_SAFE_NO_PAD.encode(header.to_string())
}

impl JwtCodec {
    pub fn hs384(secret: &[u8], leeway: Duration) -> Self {
        #[expect(clippy::expect_used, reason = "HMAC takes keys of any length")]
        let keyed = Hmac::new_from_slice(secret).expect("HMAC takes keys of any length");
        Self {
            id: next_codec_id(),
            algorithm: SigningAlgorithm::Hs384,
            signer: Signer::Hmac {
                keyed,
                decoding: DecodingKey::from_secret(secret),
                header: URL_SAFE_NO_PAD.encode(br#"{"alg":"HS384","typ":"JWT"}"#),
            },
            validation: validation(SigningAlgorithm::Hs384, leeway),
        }
    }

    /// A ring of key pairs. `longest_token` (lifetime plus leeway) decides
    /// how long a replaced key stays published.
    pub fn asymmetric(
        algorithm: SigningAlgorithm,
        records: &[SigningKeyRecord],
        leeway: Duration,
        longest_token: Duration,
    ) -> Result<Self, JwtError> {
        let ring = key_lifetimes(records, algorithm, longest_token)
            .into_iter()
            .map(|(record, retires_at)| ring_key(record, retires_at))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            id: next_codec_id(),
            algorithm,
            signer: Signer::Ring(ring),
            validation: validation(algorithm, leeway),
        })
    }

    pub fn algorithm(&self) -> SigningAlgorithm {
        self.algorithm
    }

    fn ring(&self) -> &[RingKey] {
        match &self.signer {
            Signer::Ring(ring) => ring,
            Signer::Hmac { .. } => &[],
        }
    }

    /// The key that signs now: the newest whose time has come.
    fn current(&self, now: OffsetDateTime) -> Option<&RingKey> {
        self.ring()
            .iter()
            .filter(|k| k.signs_from <= now)
            .max_by(|a, b| (a.signs_from, &a.kid).cmp(&(b.signs_from, &b.kid)))
    }

    fn published(&self, now: OffsetDateTime) -> impl Iterator<Item = &RingKey> {
        self.ring().iter().filter(move |k| k.retires_at.is_none_or(|at| now < at))
    }

    /// Serializes, encodes and (HS384) hashes the constant head of a
    /// subject's tokens once.
    pub fn prepare(&self, subject: &SubjectClaims<'_>) -> Result<SigningTemplate, JwtError> {
        let mut head = serde_json::to_vec(subject).map_err(JwtError::Claims)?;
        // `{"uid":…}` becomes `{"uid":…,` for the per-token claims to follow
        // (a struct always serializes to an object).
        if let Some(last @ b'}') = head.last_mut() {
            *last = b',';
        }
        let aligned = head.len() - head.len() % 3;
        let head_b64 = URL_SAFE_NO_PAD.encode(&head[..aligned]);
        let mac = match &self.signer {
            Signer::Hmac { keyed, header, .. } => {
                let mut mac = keyed.clone();
                mac.update(header.as_bytes());
                mac.update(b".");
                mac.update(head_b64.as_bytes());
                Some((self.id, mac))
            }
            Signer::Ring(_) => None,
        };
        Ok(SigningTemplate { head_b64, carry: head[aligned..].to_vec(), mac })
    }

    /// One token from a subject's template: header, payload (the template's
    /// head, then `iat`, `exp`, `jti`), signature.
    pub fn sign(
        &self,
        template: &SigningTemplate,
        iat: i64,
        exp: i64,
        jti: Uuid,
    ) -> Result<String, JwtError> {
        let mut own = Vec::with_capacity(96);
        let mut uuid = Uuid::encode_buffer();
        own.extend_from_slice(&template.carry);
        own.extend_from_slice(b"\"iat\":");
        own.extend_from_slice(itoa::Buffer::new().format(iat).as_bytes());
        own.extend_from_slice(b",\"exp\":");
        own.extend_from_slice(itoa::Buffer::new().format(exp).as_bytes());
        own.extend_from_slice(b",\"jti\":\"");
        own.extend_from_slice(jti.hyphenated().encode_lower(&mut uuid).as_bytes());
        own.extend_from_slice(b"\"}");

        // One key for header and signature, even if a rotation comes due now.
        let ring_key = match &self.signer {
            Signer::Hmac { .. } => None,
            Signer::Ring(_) => Some(self.current(crate::time_util::now()).ok_or(JwtError::NoSigningKey)?),
        };
        let header = match (&self.signer, ring_key) {
            (Signer::Hmac { header, .. }, _) => header.as_str(),
            (Signer::Ring(_), Some(key)) => key.header.as_str(),
            (Signer::Ring(_), None) => return Err(JwtError::NoSigningKey),
        };
        let mut token =
            String::with_capacity(header.len() + template.head_b64.len() + own.len() * 4 / 3 + 100);
        token.push_str(header);
        token.push('.');
        token.push_str(&template.head_b64);
        let own_from = token.len();
        URL_SAFE_NO_PAD.encode_string(&own, &mut token);

        let signature = match (&self.signer, &template.mac, ring_key) {
            (Signer::Hmac { .. }, Some((codec, prepared)), _) if *codec == self.id => {
                let mut mac = prepared.clone();
                mac.update(&token.as_bytes()[own_from..]);
                URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
            }
            (Signer::Hmac { keyed, .. }, _, _) => {
                let mut mac = keyed.clone();
                mac.update(token.as_bytes());
                URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
            }
            (Signer::Ring(_), _, Some(key)) => {
                jsonwebtoken::crypto::sign(token.as_bytes(), &key.encoding, self.algorithm.jwt_algorithm())
                    .map_err(JwtError::Sign)?
            }
            (Signer::Ring(_), _, None) => return Err(JwtError::NoSigningKey),
        };
        token.push('.');
        token.push_str(&signature);
        Ok(token)
    }

    /// Checks signature and algorithm, and that `exp` is present; whether
    /// the token has expired is the caller's to judge, by its clock. HS384
    /// tokens carry no `kid`; others must name a published key.
    pub fn verify(&self, token: &str) -> Result<VerifiedClaims, JwtError> {
        let header = jsonwebtoken::decode_header(token).map_err(JwtError::Malformed)?;
        let key = match (&self.signer, header.kid.as_deref()) {
            (Signer::Hmac { decoding, .. }, None) => decoding,
            (Signer::Ring(_), Some(kid)) => {
                &self
                    .published(crate::time_util::now())
                    .find(|k| k.kid == kid)
                    .ok_or(JwtError::KeyId)?
                    .decoding
            }
            _ => return Err(JwtError::KeyId),
        };
        let data = jsonwebtoken::decode::<VerifiedClaims>(token, key, &self.validation)
            .map_err(JwtError::Refused)?;
        Ok(data.claims)
    }

    /// The public keys as a JWK Set (RFC 7517), or `None` for HS384.
    pub fn jwks(&self) -> Option<Value> {
        matches!(self.signer, Signer::Ring(_)).then(|| {
            let keys: Vec<&Value> = self.published(crate::time_util::now()).map(|k| &k.jwk).collect();
            json!({ "keys": keys })
        })
    }
}

/// The stored key that signs at `now`: the newest whose time has come (as
/// the codec picks it).
pub fn signing_key(records: &[SigningKeyRecord], now: OffsetDateTime) -> Option<&SigningKeyRecord> {
    records
        .iter()
        .filter(|k| k.signs_from <= now)
        .max_by(|a, b| (a.signs_from, &a.kid).cmp(&(b.signs_from, &b.kid)))
}

/// `algorithm`'s keys in the order they sign, each with the instant it
/// leaves the JWKS: `longest_token` after the next key starts signing (the
/// last token it can have signed has expired by then); `None` while it is
/// the newest.
pub fn key_lifetimes(
    records: &[SigningKeyRecord],
    algorithm: SigningAlgorithm,
    longest_token: Duration,
) -> Vec<(&SigningKeyRecord, Option<OffsetDateTime>)> {
    let mut sorted: Vec<&SigningKeyRecord> = records.iter().filter(|r| r.algorithm == algorithm).collect();
    sorted.sort_by(|a, b| (a.signs_from, &a.kid).cmp(&(b.signs_from, &b.kid)));
    let retirements = sorted
        .iter()
        .skip(1)
        .map(|next| Some(crate::time_util::add(next.signs_from, longest_token)))
        .chain([None]);
    sorted.iter().copied().zip(retirements).collect()
}

fn ring_key(record: &SigningKeyRecord, retires_at: Option<OffsetDateTime>) -> Result<RingKey, JwtError> {
    let bad =
        |source: Box<dyn std::error::Error + Send + Sync>| JwtError::Key { kid: record.kid.clone(), source };
    let field = |name: &'static str| {
        record.public_jwk[name].as_str().ok_or_else(|| bad(Box::new(MissingJwkField(name))))
    };
    let (encoding, decoding) = match record.algorithm {
        SigningAlgorithm::Es256 => (
            EncodingKey::from_ec_der(&record.private_der),
            DecodingKey::from_ec_components(field("x")?, field("y")?).map_err(|e| bad(Box::new(e)))?,
        ),
        SigningAlgorithm::EdDsa => (
            EncodingKey::from_ed_der(&record.private_der),
            DecodingKey::from_ed_components(field("x")?).map_err(|e| bad(Box::new(e)))?,
        ),
        SigningAlgorithm::Rs256 => (
            EncodingKey::from_rsa_der(&record.private_der),
            DecodingKey::from_rsa_components(field("n")?, field("e")?).map_err(|e| bad(Box::new(e)))?,
        ),
        SigningAlgorithm::Hs384 => {
            return Err(bad(Box::new(MissingJwkField("kty (HS384 keys are not key pairs)"))));
        }
    };
    let header = b64_header(&json!({ "alg": record.algorithm.as_str(), "typ": "JWT", "kid": record.kid }));
    Ok(RingKey {
        kid: record.kid.clone(),
        encoding,
        decoding,
        jwk: record.public_jwk.clone(),
        header,
        signs_from: record.signs_from,
        retires_at,
    })
}

/// Does this bearer token look like a JWT (three dot-separated parts)?
pub fn looks_like_jwt(token: &str) -> bool {
    // memchr skips to each dot (~20 ns for a C token); counting every byte
    // into a usize compiled to a 4-bytes-a-step loop ten times slower.
    memchr::memchr_iter(b'.', token.as_bytes()).take(3).count() == 2
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing_keys::generate;

    #[test]
    fn a_jwt_is_told_by_exactly_two_dots() {
        for (token, jwt) in
            [("a.b.c", true), ("..", true), ("a.b", false), ("a.b.c.d", false), ("", false), ("abc", false)]
        {
            assert_eq!(looks_like_jwt(token), jwt, "{token:?}");
        }
    }

    fn sign_with(codec: &JwtCodec) -> String {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let attributes =
            BTreeMap::from([("domain".to_owned(), "/p".to_owned()), ("ca".to_owned(), "c".to_owned())]);
        let template = codec
            .prepare(&SubjectClaims {
                uid: Uuid::nil(),
                ar: &["Partner".to_owned()],
                ak: Uuid::nil(),
                realm: Some("Partner"),
                attributes: &attributes,
            })
            .expect("prepare");
        codec.sign(&template, now, now + 3600, Uuid::nil()).expect("sign")
    }

    /// The whole payload, serialized in one go: what a template must give.
    #[derive(Serialize)]
    struct WholeClaims<'a> {
        #[serde(flatten)]
        subject: SubjectClaims<'a>,
        iat: i64,
        exp: i64,
        jti: Uuid,
    }

    #[test]
    fn templates_give_the_payload_serde_gives_whatever_the_head_length() {
        let codec = hs();
        let roles = ["Partner".to_owned(), "PartnerAdmin".to_owned()];
        // Three lengths of the head modulo 3, with and without a realm, and
        // characters JSON must escape.
        for domain in ["/p", "/pa", "/par", "é\"\\\n"] {
            for realm in [None, Some("Partner")] {
                let attributes = BTreeMap::from([("domain".to_owned(), domain.to_owned())]);
                let subject = SubjectClaims {
                    uid: Uuid::new_v4(),
                    ar: &roles,
                    ak: Uuid::new_v4(),
                    realm,
                    attributes: &attributes,
                };
                let jti = Uuid::new_v4();
                let token = codec
                    .sign(&codec.prepare(&subject).expect("prepare"), 1_700_000_000, 1_700_003_600, jti)
                    .expect("sign");
                let expected =
                    serde_json::to_vec(&WholeClaims { subject, iat: 1_700_000_000, exp: 1_700_003_600, jti })
                        .expect("json");
                let payload = URL_SAFE_NO_PAD.decode(token.split('.').nth(1).expect("payload")).expect("b64");
                assert_eq!(String::from_utf8_lossy(&payload), String::from_utf8_lossy(&expected));
                // The signature is HS384 over the whole signing input.
                let (input, signature) = token.rsplit_once('.').expect("signature");
                let mut mac = Hmac::<Sha384>::new_from_slice(&[7u8; 64]).expect("key");
                mac.update(input.as_bytes());
                assert_eq!(signature, URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
            }
        }
    }

    #[test]
    fn a_template_made_by_another_codec_signs_with_this_ones_secret() {
        let attributes = BTreeMap::new();
        let subject = SubjectClaims {
            uid: Uuid::nil(),
            ar: &[],
            ak: Uuid::nil(),
            realm: None,
            attributes: &attributes,
        };
        let other = JwtCodec::hs384(&[8u8; 64], Duration::ZERO);
        let template = other.prepare(&subject).expect("prepare");
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let token = hs().sign(&template, now, now + 60, Uuid::nil()).expect("sign");
        assert!(hs().verify(&token).is_ok());
        assert!(other.verify(&token).is_err());
    }

    fn hs() -> JwtCodec {
        JwtCodec::hs384(&[7u8; 64], Duration::ZERO)
    }

    #[test]
    fn the_header_and_claim_order_are_the_contracts() {
        let token = sign_with(&hs());
        let mut parts = token.split('.');
        assert_eq!(parts.next(), Some("eyJhbGciOiJIUzM4NCIsInR5cCI6IkpXVCJ9"));
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(parts.next().expect("payload")).expect("b64"))
            .expect("utf8");
        let order: Vec<usize> =
            ["\"uid\"", "\"ar\"", "\"ak\"", "\"realm\"", "\"ca\"", "\"domain\"", "\"iat\"", "\"exp\""]
                .iter()
                .map(|k| payload.find(k).expect(k))
                .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{payload}");
        assert!(hs().verify(&token).is_ok());
    }

    #[test]
    fn tampered_none_and_other_keys_are_refused() {
        let token = sign_with(&hs());
        assert!(JwtCodec::hs384(&[8u8; 64], Duration::ZERO).verify(&token).is_err());
        let (head, rest) = token.split_once('.').expect("dot");
        let none = format!("{}.{}", URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#), rest);
        assert!(hs().verify(&none).is_err());
        let hs256 = format!("{}.{}", URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#), rest);
        assert!(hs().verify(&hs256).is_err());
        assert!(hs().verify(&format!("{head}.{rest}x")).is_err());
    }

    #[test]
    fn every_asymmetric_algorithm_signs_and_verifies_with_its_kid() {
        for algorithm in [SigningAlgorithm::Es256, SigningAlgorithm::EdDsa, SigningAlgorithm::Rs256] {
            let key = generate(algorithm, OffsetDateTime::now_utc()).expect("generate");
            let codec = JwtCodec::asymmetric(
                algorithm,
                std::slice::from_ref(&key),
                Duration::ZERO,
                Duration::from_secs(60),
            )
            .expect("ring");
            let token = sign_with(&codec);
            let header: Value = serde_json::from_slice(
                &URL_SAFE_NO_PAD.decode(token.split('.').next().expect("h")).expect("b64"),
            )
            .expect("json");
            assert_eq!(header, json!({ "alg": algorithm.as_str(), "typ": "JWT", "kid": key.kid }));
            assert!(codec.verify(&token).is_ok(), "{algorithm:?}");
            assert_eq!(codec.jwks().expect("jwks")["keys"][0]["kid"], json!(key.kid));
            // An HS384 codec does not accept it, and vice versa.
            assert!(hs().verify(&token).is_err());
            assert!(codec.verify(&sign_with(&hs())).is_err());
        }
    }

    #[test]
    fn a_rotated_key_is_published_before_it_signs_and_kept_until_its_tokens_expire() {
        let now = OffsetDateTime::now_utc();
        let old = generate(SigningAlgorithm::Es256, now - time::Duration::hours(1)).expect("old");
        let new = generate(SigningAlgorithm::Es256, now + time::Duration::minutes(10)).expect("new");
        let ring = [old.clone(), new.clone()];
        let codec =
            JwtCodec::asymmetric(SigningAlgorithm::Es256, &ring, Duration::ZERO, Duration::from_secs(60))
                .expect("ring");
        let jwks = codec.jwks().expect("jwks");
        assert_eq!(
            jwks["keys"].as_array().expect("keys").len(),
            2,
            "the new key is published before it signs"
        );

        assert!(sign_with(&codec).contains('.'));
        assert_eq!(codec.current(now).map(|k| k.kid.as_str()), Some(old.kid.as_str()));
        let later = now + time::Duration::minutes(11);
        assert_eq!(codec.current(later).map(|k| k.kid.as_str()), Some(new.kid.as_str()));
        assert_eq!(codec.published(later).count(), 1, "old key retired after its last token expired");
    }
}
