//! JWTs for contract C (and later OAuth 2.0): signing with the header bytes
//! the contract shows, verification with `jsonwebtoken` restricted to the one
//! configured algorithm (so `alg: none` and algorithm confusion fail).

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
}

/// Signs and verifies HS384 JWTs with one key.
pub struct JwtCodec {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// `base64url({"alg":"HS384","typ":"JWT"})`, exactly the seed's bytes.
    header: String,
}

impl JwtCodec {
    pub fn hs384(secret: &[u8], leeway_secs: u64) -> Self {
        let mut validation = Validation::new(Algorithm::HS384);
        validation.leeway = leeway_secs;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            header: URL_SAFE_NO_PAD.encode(br#"{"alg":"HS384","typ":"JWT"}"#),
        }
    }

    pub fn sign(&self, claims: &AccessClaims<'_>) -> Result<String, JwtError> {
        let payload = serde_json::to_vec(claims).map_err(|e| JwtError::Sign(e.to_string()))?;
        let mut token = String::with_capacity(self.header.len() + payload.len() * 4 / 3 + 70);
        token.push_str(&self.header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(payload, &mut token);
        let signature = jsonwebtoken::crypto::sign(token.as_bytes(), &self.encoding, Algorithm::HS384)
            .map_err(|e| JwtError::Sign(e.to_string()))?;
        token.push('.');
        token.push_str(&signature);
        Ok(token)
    }

    /// Checks signature, algorithm and `exp` (with the configured leeway).
    /// A token naming a key id is refused: HS384 tokens carry none.
    pub fn verify(&self, token: &str) -> Result<VerifiedClaims, JwtError> {
        let data = jsonwebtoken::decode::<VerifiedClaims>(token, &self.decoding, &self.validation)
            .map_err(|e| JwtError::Invalid(e.to_string()))?;
        if data.header.kid.is_some() {
            return Err(JwtError::Invalid("unknown key id".into()));
        }
        Ok(data.claims)
    }
}

/// Does this bearer token look like a JWT (three dot-separated parts)?
pub fn looks_like_jwt(token: &str) -> bool {
    token.bytes().filter(|&b| b == b'.').count() == 2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec() -> JwtCodec {
        JwtCodec::hs384(&[7u8; 64], 0)
    }

    fn claims(attributes: &BTreeMap<String, String>, roles: &[String]) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        codec()
            .sign(&AccessClaims {
                uid: Uuid::nil(),
                ar: roles,
                ak: Uuid::nil(),
                realm: Some("Partner"),
                attributes,
                iat: now,
                exp: now + 3600,
                jti: Uuid::nil(),
            })
            .expect("sign")
    }

    #[test]
    fn the_header_and_claim_order_are_the_contracts() {
        let attributes =
            BTreeMap::from([("domain".to_owned(), "/p".to_owned()), ("ca".to_owned(), "c".to_owned())]);
        let token = claims(&attributes, &["Partner".to_owned()]);
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
        assert!(codec().verify(&token).is_ok());
    }

    #[test]
    fn tampered_none_and_other_keys_are_refused() {
        let token = claims(&BTreeMap::new(), &[]);
        let other = JwtCodec::hs384(&[8u8; 64], 0);
        assert!(other.verify(&token).is_err());
        let (head, rest) = token.split_once('.').expect("dot");
        let none = format!("{}.{}", URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#), rest);
        assert!(codec().verify(&none).is_err());
        let hs256 = format!("{}.{}", URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#), rest);
        assert!(codec().verify(&hs256).is_err());
        assert!(codec().verify(&format!("{head}.{rest}x")).is_err());
        assert!(codec().verify(&token[..token.len() - 5]).is_err());
    }
}
