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

/// The claims Tollgate signs, in the contract's order: `uid`, `ar`, `ak`,
/// `realm`, the principal's attributes (`ca`, `cid`, `domain`, …), `iat`,
/// `exp`, then `jti` (so that one token can be revoked).
#[derive(Debug, Serialize)]
pub struct AccessClaims<'a> {
    pub uid: Uuid,
    pub ar: &'a [String],
    pub ak: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm: Option<&'a str>,
    #[serde(flatten)]
    pub attributes: &'a BTreeMap<String, String>,
    pub iat: i64,
    pub exp: i64,
    pub jti: Uuid,
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
    pub jti: Option<Uuid>,
}

#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error("cannot sign: {0}")]
    Sign(String),
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("unusable signing key {kid}: {reason}")]
    Key { kid: String, reason: String },
}

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
    algorithm: SigningAlgorithm,
    /// The HMAC state with the secret already absorbed (signing copies it
    /// instead of hashing the key again for every token), and the key that
    /// verifies.
    hmac: Option<(Hmac<Sha384>, DecodingKey)>,
    ring: Vec<RingKey>,
    validation: Validation,
    /// `base64url({"alg":"HS384","typ":"JWT"})`, exactly the seed's bytes.
    hmac_header: String,
}

fn validation(algorithm: SigningAlgorithm, leeway: Duration) -> Validation {
    let mut validation = Validation::new(algorithm.jwt_algorithm());
    validation.leeway = leeway.as_secs();
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp"]);
    validation
}

fn b64_header(header: &Value) -> String {
    URL_SAFE_NO_PAD.encode(header.to_string())
}

impl JwtCodec {
    pub fn hs384(secret: &[u8], leeway: Duration) -> Self {
        Self {
            algorithm: SigningAlgorithm::Hs384,
            hmac: Some((
                Hmac::new_from_slice(secret).expect("HMAC takes keys of any length"),
                DecodingKey::from_secret(secret),
            )),
            ring: Vec::new(),
            validation: validation(SigningAlgorithm::Hs384, leeway),
            hmac_header: URL_SAFE_NO_PAD.encode(br#"{"alg":"HS384","typ":"JWT"}"#),
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
        let mut sorted: Vec<&SigningKeyRecord> =
            records.iter().filter(|r| r.algorithm == algorithm).collect();
        sorted.sort_by(|a, b| (a.signs_from, &a.kid).cmp(&(b.signs_from, &b.kid)));
        let mut ring = Vec::with_capacity(sorted.len());
        for (i, record) in sorted.iter().enumerate() {
            let retires_at =
                sorted.get(i + 1).map(|next| crate::time_util::add(next.signs_from, longest_token));
            ring.push(ring_key(record, retires_at)?);
        }
        Ok(Self {
            algorithm,
            hmac: None,
            ring,
            validation: validation(algorithm, leeway),
            hmac_header: String::new(),
        })
    }

    pub fn algorithm(&self) -> SigningAlgorithm {
        self.algorithm
    }

    /// The key that signs now: the newest whose time has come.
    fn current(&self, now: OffsetDateTime) -> Option<&RingKey> {
        self.ring
            .iter()
            .filter(|k| k.signs_from <= now)
            .max_by(|a, b| (a.signs_from, &a.kid).cmp(&(b.signs_from, &b.kid)))
    }

    fn published(&self, now: OffsetDateTime) -> impl Iterator<Item = &RingKey> {
        self.ring.iter().filter(move |k| k.retires_at.is_none_or(|at| now < at))
    }

    pub fn sign(&self, claims: &AccessClaims<'_>) -> Result<String, JwtError> {
        let payload = serde_json::to_vec(claims).map_err(|e| JwtError::Sign(e.to_string()))?;
        let signing_input = |header: &str| {
            let mut token = String::with_capacity(header.len() + payload.len() * 4 / 3 + 350);
            token.push_str(header);
            token.push('.');
            URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
            token
        };
        let (mut token, signature) = match &self.hmac {
            Some((keyed, _)) => {
                let token = signing_input(&self.hmac_header);
                let mut mac = keyed.clone();
                mac.update(token.as_bytes());
                (token, URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
            }
            None => {
                let key = self
                    .current(crate::time_util::now())
                    .ok_or_else(|| JwtError::Sign("no signing key".into()))?;
                let token = signing_input(&key.header);
                let signature = jsonwebtoken::crypto::sign(
                    token.as_bytes(),
                    &key.encoding,
                    self.algorithm.jwt_algorithm(),
                )
                .map_err(|e| JwtError::Sign(e.to_string()))?;
                (token, signature)
            }
        };
        token.push('.');
        token.push_str(&signature);
        Ok(token)
    }

    /// Checks signature, algorithm and `exp` (with the configured leeway).
    /// HS384 tokens carry no `kid`; others must name a published key.
    pub fn verify(&self, token: &str) -> Result<VerifiedClaims, JwtError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| JwtError::Invalid(e.to_string()))?;
        let key = match (&self.hmac, header.kid.as_deref()) {
            (Some((_, decoding)), None) => decoding,
            (None, Some(kid)) => {
                &self
                    .published(crate::time_util::now())
                    .find(|k| k.kid == kid)
                    .ok_or_else(|| JwtError::Invalid("unknown key id".into()))?
                    .decoding
            }
            _ => return Err(JwtError::Invalid("unexpected or missing key id".into())),
        };
        let data = jsonwebtoken::decode::<VerifiedClaims>(token, key, &self.validation)
            .map_err(|e| JwtError::Invalid(e.to_string()))?;
        Ok(data.claims)
    }

    /// The public keys as a JWK Set (RFC 7517), or `None` for HS384.
    pub fn jwks(&self) -> Option<Value> {
        self.hmac.is_none().then(|| {
            let keys: Vec<&Value> = self.published(crate::time_util::now()).map(|k| &k.jwk).collect();
            json!({ "keys": keys })
        })
    }
}

fn ring_key(record: &SigningKeyRecord, retires_at: Option<OffsetDateTime>) -> Result<RingKey, JwtError> {
    let bad = |reason: String| JwtError::Key { kid: record.kid.clone(), reason };
    let field = |name: &str| record.public_jwk[name].as_str().ok_or_else(|| bad(format!("JWK lacks {name}")));
    let (encoding, decoding) = match record.algorithm {
        SigningAlgorithm::Es256 => (
            EncodingKey::from_ec_der(&record.private_der),
            DecodingKey::from_ec_components(field("x")?, field("y")?).map_err(|e| bad(e.to_string()))?,
        ),
        SigningAlgorithm::EdDsa => (
            EncodingKey::from_ed_der(&record.private_der),
            DecodingKey::from_ed_components(field("x")?).map_err(|e| bad(e.to_string()))?,
        ),
        SigningAlgorithm::Rs256 => (
            EncodingKey::from_rsa_der(&record.private_der),
            DecodingKey::from_rsa_components(field("n")?, field("e")?).map_err(|e| bad(e.to_string()))?,
        ),
        SigningAlgorithm::Hs384 => return Err(bad("HS384 keys are not key pairs".into())),
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
    token.bytes().filter(|&b| b == b'.').count() == 2
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing_keys::generate;

    fn sign_with(codec: &JwtCodec) -> String {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let attributes =
            BTreeMap::from([("domain".to_owned(), "/p".to_owned()), ("ca".to_owned(), "c".to_owned())]);
        codec
            .sign(&AccessClaims {
                uid: Uuid::nil(),
                ar: &["Partner".to_owned()],
                ak: Uuid::nil(),
                realm: Some("Partner"),
                attributes: &attributes,
                iat: now,
                exp: now + 3600,
                jti: Uuid::nil(),
            })
            .expect("sign")
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
