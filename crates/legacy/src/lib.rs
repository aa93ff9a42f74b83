//! Password hashes imported from the legacy systems (PHP/Symfony, ASP.NET
//! Identity, LoopBack/Node, Django): parsing them from an import record and
//! verifying a password against them exactly as the framework that wrote
//! them would (DESIGN.md §10).
//!
//! An import record carries a hash as a JSON object
//! `{"format": "...", "hash": "...", <the format's own fields>}`.
//! [`LegacyHash::from_record`] checks it (unknown fields and absurd cost
//! parameters are refused, naming the field; no error ever holds the hash),
//! [`LegacyHash::verify`] checks a password in constant time, and
//! [`LegacyHash::to_stored`] / [`LegacyHash::from_stored`] keep it in a text
//! column until the first successful login replaces it with argon2id.
//!
//! # Formats
//!
//! | `format` | `hash` holds | other fields \[default\] | verified like |
//! |---|---|---|---|
//! | `argon2` | PHC `$argon2id$…`, `$argon2i$…`, `$argon2d$…` (`v=16`, `v=19`, or none: 1.0) | — | the reference implementation, libsodium, PHP |
//! | `bcrypt` | `$2a$`, `$2b$`, `$2y$` (`$2x$` refused) | — | PHP's `password_verify`: the password ends at its first NUL, then its first 72 bytes count |
//! | `symfony-native` | what Symfony's `auto`/`native`/`sodium` hashers stored: bcrypt, argon2 PHC, or `$5$`/`$6$` | — | `NativePasswordHasher::verify`: an empty password fails; for bcrypt, a password over 72 bytes or holding a NUL is first replaced by `base64(sha512(password))` |
//! | `sha-crypt` | `$5$[rounds=N$]salt$…` (SHA-256), `$6$…` (SHA-512) | — | crypt(3) and PHP's `crypt()`: the password ends at its first NUL; no `rounds=` means 5000 |
//! | `symfony-message-digest` | the digest | `salt` \[none\], `algorithm` \[`sha512`\], `iterations` \[5000\], `encoding` \[`base64`\] or `hex` | `MessageDigestPasswordHasher`: `d = H(p{salt})`, then `iterations − 1` times `d = H(d ‖ p{salt})`; a salt `""` or `"0"` means none (PHP's `!$salt`) |
//! | `symfony-pbkdf2` | the derived key | `salt` \[`""`\], `algorithm` \[`sha512`\], `iterations` \[1000\], `length` \[40\] (raw bytes), `encoding` \[`base64`\] or `hex` | `Pbkdf2PasswordHasher`: `hash_pbkdf2(algorithm, password, salt, iterations, length, raw)` |
//! | `aspnet-identity` | ASP.NET Identity's base64 blob: V2 (marker 0x00) or V3 (marker 0x01) | — | `PasswordHasher<TUser>.VerifyHashedPassword` |
//! | `django` | `pbkdf2_sha256$…`, `pbkdf2_sha1$…`, `argon2$…`, `bcrypt_sha256$…`, `bcrypt$…` | — | `django.contrib.auth.hashers` (bcrypt_sha256: bcrypt of the lowercase hex SHA-256) |
//!
//! Digest algorithms (Symfony's `algorithm`): `md5`, `sha1`, `sha224`,
//! `sha256`, `sha384`, `sha512`. `null` counts as absent for every field.
//!
//! # Caps
//!
//! Anything above these is refused at import, so that no stored hash can make
//! one verification run for more than seconds (each cap sits well above the
//! heaviest default any of the frameworks ever shipped):
//!
//! | what | accepted |
//! |---|---|
//! | password given to [`LegacyHash::verify`] | at most [`MAX_PASSWORD_BYTES`] (4096, Symfony's own limit); longer never matches |
//! | `hash` | at most 4096 characters |
//! | bcrypt cost | 4..=[`MAX_BCRYPT_COST`] (18) |
//! | argon2 | `m` ≤ [`MAX_ARGON2_MEMORY_KIB`] (2 GiB), `m × t` ≤ [`MAX_ARGON2_WORK_KIB`] (4 GiB·passes), `p` ≤ [`MAX_ARGON2_LANES`] (255), salt ≥ 8 bytes |
//! | sha-crypt `rounds=` | 1000..=[`MAX_SHA_CRYPT_ROUNDS`] (1,000,000) |
//! | MessageDigest `iterations` | 1..=[`MAX_MESSAGE_DIGEST_ITERATIONS`] (1,000,000) |
//! | PBKDF2 (symfony-pbkdf2, aspnet-identity, django) | iterations ≥ 1, iterations × output blocks ≤ [`MAX_PBKDF2_WORK`] (10,000,000) |
//! | symfony-pbkdf2 `length` | 1..=[`MAX_PBKDF2_LENGTH`] (1024) |
//! | aspnet-identity V3 salt, subkey | ≥ 16 bytes each (as Identity requires); subkey ≤ [`MAX_ASPNET_SUBKEY_BYTES`] (1024) |
//!
//! # Known limit
//!
//! PHP verifies `$2a$` hashes with crypt_blowfish's "safety" tweak, which
//! changes the result only for some passwords holding the byte 0xFF. Such a
//! password is never valid UTF-8; here `$2a$` is verified like `$2b$`, so it
//! fails to match rather than matching wrongly.

mod argon2_hash;
mod aspnet;
mod bcrypt_hash;
mod digests;
mod django;
mod error;
mod record;
mod sha_crypt_hash;
mod symfony;

use std::fmt;

use serde_json::{Map, Value};

pub use crate::argon2_hash::{Argon2Hash, MAX_ARGON2_LANES, MAX_ARGON2_MEMORY_KIB, MAX_ARGON2_WORK_KIB};
pub use crate::aspnet::{AspNetIdentity, MAX_ASPNET_SUBKEY_BYTES};
pub use crate::bcrypt_hash::{BcryptHash, MAX_BCRYPT_COST};
pub use crate::digests::MAX_PBKDF2_WORK;
pub use crate::django::DjangoHash;
pub use crate::error::LegacyHashError;
use crate::record::{Fields, hash_only};
pub use crate::sha_crypt_hash::{MAX_SHA_CRYPT_ROUNDS, ShaCryptHash};
pub use crate::symfony::{
    MAX_MESSAGE_DIGEST_ITERATIONS, MAX_PBKDF2_LENGTH, SymfonyMessageDigest, SymfonyNative, SymfonyPbkdf2,
};

/// The format names an import record may give, as it spells them.
pub const FORMATS: [&str; 8] = [
    "argon2",
    "bcrypt",
    "symfony-native",
    "sha-crypt",
    "symfony-message-digest",
    "symfony-pbkdf2",
    "aspnet-identity",
    "django",
];

/// Longest password [`LegacyHash::verify`] looks at; a longer one never
/// matches. Symfony's hashers refuse the same, and for the iterated formats
/// (sha-crypt, MessageDigest) the work grows with the password's length.
pub const MAX_PASSWORD_BYTES: usize = symfony::SYMFONY_MAX_PASSWORD_BYTES;

/// One imported password (or access-key secret) hash, in the format it came in.
#[derive(Clone, PartialEq, Eq)]
pub enum LegacyHash {
    Argon2(Argon2Hash),
    Bcrypt(BcryptHash),
    SymfonyNative(SymfonyNative),
    ShaCrypt(ShaCryptHash),
    SymfonyMessageDigest(SymfonyMessageDigest),
    SymfonyPbkdf2(SymfonyPbkdf2),
    AspNetIdentity(AspNetIdentity),
    Django(DjangoHash),
}

impl LegacyHash {
    /// From the import record's object: `{"format": ..., "hash": ..., <format fields>}`.
    /// Unknown fields are refused (named), missing required ones named, `$2x$`
    /// bcrypt refused with an error that says why. No error holds the hash or
    /// a salt.
    pub fn from_record(record: &Map<String, Value>) -> Result<Self, LegacyHashError> {
        let format = match record.get("format") {
            None | Some(Value::Null) => return Err(LegacyHashError::MissingFormat),
            Some(Value::String(format)) => format.as_str(),
            Some(_) => {
                return Err(LegacyHashError::WrongType {
                    format: "password hash",
                    field: "format",
                    expected: "a string",
                });
            }
        };
        Ok(match format {
            "argon2" => Self::Argon2(Argon2Hash::parse(hash_field("argon2", record)?, "argon2")?),
            "bcrypt" => Self::Bcrypt(BcryptHash::parse(hash_field("bcrypt", record)?, "bcrypt")?),
            "sha-crypt" => {
                Self::ShaCrypt(ShaCryptHash::parse(hash_field("sha-crypt", record)?, "sha-crypt")?)
            }
            symfony::NATIVE => Self::SymfonyNative(SymfonyNative::from_record(record)?),
            symfony::MESSAGE_DIGEST => Self::SymfonyMessageDigest(SymfonyMessageDigest::from_record(record)?),
            symfony::PBKDF2 => Self::SymfonyPbkdf2(SymfonyPbkdf2::from_record(record)?),
            aspnet::FORMAT => Self::AspNetIdentity(AspNetIdentity::from_record(record)?),
            django::FORMAT => Self::Django(DjangoHash::from_record(record)?),
            other => return Err(LegacyHashError::UnknownFormat(error::name_for_message(other))),
        })
    }

    /// The format name as the import record spells it.
    pub fn format(&self) -> &'static str {
        match self {
            Self::Argon2(_) => "argon2",
            Self::Bcrypt(_) => "bcrypt",
            Self::SymfonyNative(_) => symfony::NATIVE,
            Self::ShaCrypt(_) => "sha-crypt",
            Self::SymfonyMessageDigest(_) => symfony::MESSAGE_DIGEST,
            Self::SymfonyPbkdf2(_) => symfony::PBKDF2,
            Self::AspNetIdentity(_) => aspnet::FORMAT,
            Self::Django(_) => django::FORMAT,
        }
    }

    /// Does `password` match? The derived bytes are compared in constant
    /// time. Never panics; the caps checked at import bound the work. Slow
    /// by design (it is a password hash): call it off the async runtime.
    pub fn verify(&self, password: &[u8]) -> bool {
        if password.len() > MAX_PASSWORD_BYTES {
            return false;
        }
        match self {
            Self::Argon2(hash) => hash.matches(password),
            Self::Bcrypt(hash) => hash.matches_like_php(password),
            Self::SymfonyNative(hash) => hash.matches(password),
            Self::ShaCrypt(hash) => hash.matches(password),
            Self::SymfonyMessageDigest(hash) => hash.matches(password),
            Self::SymfonyPbkdf2(hash) => hash.matches(password),
            Self::AspNetIdentity(hash) => hash.matches(password),
            Self::Django(hash) => hash.matches(password),
        }
    }

    /// The canonical import record (defaults written out), as compact JSON:
    /// what to keep in a database column. `from_stored(&h.to_stored()) == Ok(h)`.
    pub fn to_stored(&self) -> String {
        Value::Object(self.to_record()).to_string()
    }

    /// Reads back what [`LegacyHash::to_stored`] wrote (or any import record).
    pub fn from_stored(text: &str) -> Result<Self, LegacyHashError> {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(record)) => Self::from_record(&record),
            _ => Err(LegacyHashError::NotAnObject),
        }
    }

    /// The canonical import record, every default written out.
    pub fn to_record(&self) -> Map<String, Value> {
        match self {
            Self::Argon2(hash) => hash_only("argon2", hash.as_str()),
            Self::Bcrypt(hash) => hash_only("bcrypt", hash.as_str()),
            Self::ShaCrypt(hash) => hash_only("sha-crypt", hash.as_str()),
            Self::SymfonyNative(hash) => hash.to_record(),
            Self::SymfonyMessageDigest(hash) => hash.to_record(),
            Self::SymfonyPbkdf2(hash) => hash.to_record(),
            Self::AspNetIdentity(hash) => hash.to_record(),
            Self::Django(hash) => hash.to_record(),
        }
    }
}

/// The `hash` of a format that takes no other field.
fn hash_field<'a>(format: &'static str, record: &'a Map<String, Value>) -> Result<&'a str, LegacyHashError> {
    Fields::new(format, record, &["format", "hash"])?.hash()
}

/// The format and its cost parameters; never the hash, salt or derived bytes.
impl fmt::Debug for LegacyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let params: &dyn fmt::Debug = match self {
            Self::Argon2(hash) => hash,
            Self::Bcrypt(hash) => hash,
            Self::SymfonyNative(hash) => hash,
            Self::ShaCrypt(hash) => hash,
            Self::SymfonyMessageDigest(hash) => hash,
            Self::SymfonyPbkdf2(hash) => hash,
            Self::AspNetIdentity(hash) => hash,
            Self::Django(hash) => hash,
        };
        f.debug_struct("LegacyHash").field("format", &self.format()).field("params", params).finish()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// One hash of each format (and each kind within symfony-native and
    /// django), with the password that matches it. Sources are cited in
    /// tests/vectors.rs; the pbkdf2_sha1 one (password, salt, 1000
    /// iterations) was computed with Python's hashlib and PHP's hash_pbkdf2.
    fn samples() -> Vec<(Value, &'static [u8])> {
        vec![
            (
                json!({"format": "argon2", "hash": "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"}),
                b"password",
            ),
            (
                json!({"format": "bcrypt", "hash": "$2a$07$usesomesillystringfore2uDLvp1Ii2e./U9C8sBjqp8I90dH6hi"}),
                b"rasmuslerdorf",
            ),
            (
                json!({"format": "symfony-native", "hash": "$2y$04$M8GDODMoGQLQRpkYCdoJh.lbiZPee3SZI32RcYK49XYTolDGwoRMm"}),
                b"abc",
            ),
            (
                json!({"format": "symfony-native", "hash": "$argon2id$v=19$m=1024,t=3,p=1$X03ZkvPVO7eUfKGKIdVMAw$6Gr2FbVRgK6sTg5Alrn6p37FqqTILFHYSC+qvzVaLbk"}),
                b"password",
            ),
            (
                json!({"format": "symfony-native", "hash": "$5$abcdefgh$ZLdkj8mkc2XVSrPVjskDAgZPGjtj1VGVaa1aUkrMTU/"}),
                b"password",
            ),
            (
                json!({"format": "sha-crypt", "hash": "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA"}),
                b"Hello world!",
            ),
            (
                json!({"format": "symfony-message-digest", "hash": "7643b77696155c92fc08ae51304c7a98cce3d12a",
                       "salt": "f00dfacecafe", "algorithm": "sha1", "iterations": 1, "encoding": "hex"}),
                b"correct horse",
            ),
            (
                json!({"format": "symfony-pbkdf2", "salt": "f00dfacecafe",
                       "hash": "9ljGtlGUY2UqB6XNVV6Q/4AzcpCjoD+8XJbtaM0NLKHJ5EFWAk523Q=="}),
                b"correct horse",
            ),
            (
                json!({"format": "aspnet-identity", "hash": "AQAAAAAAAAD6AAAAEAhftMyfTJylOlZT+eEotFXd1elee8ih5WsjXaR3PA9M"}),
                b"my password",
            ),
            (
                json!({"format": "django", "hash": "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q"}),
                b"secret",
            ),
            (
                json!({"format": "django", "hash": "bcrypt_sha256$$2b$04$aIQ.pK7J5pzUYuxzioz.7OR1ufJZ2DqmttW7D02umjYYrXTWqq93u"}),
                "lètmein".as_bytes(),
            ),
            (
                json!({"format": "django", "hash": "pbkdf2_sha1$1000$salt$boi+i61+rp2eEKoGEiQDT+1I0D8="}),
                b"password",
            ),
        ]
    }

    fn from_json(record: &Value) -> Result<LegacyHash, LegacyHashError> {
        LegacyHash::from_record(record.as_object().expect("an object"))
    }

    #[test]
    fn every_sample_verifies_and_survives_storage() {
        for (record, password) in samples() {
            let hash = from_json(&record).expect("a valid record");
            assert_eq!(hash.format(), record["format"]);
            assert!(hash.verify(password), "{hash:?}");
            assert!(!hash.verify(b"not the password"), "{hash:?}");
            let stored = hash.to_stored();
            assert_eq!(LegacyHash::from_stored(&stored), Ok(hash.clone()));
            // Storing is canonical: reading back and storing again changes nothing.
            assert_eq!(LegacyHash::from_stored(&stored).map(|h| h.to_stored()), Ok(stored));
        }
    }

    #[test]
    fn debug_shows_parameters_but_no_hash_or_salt() {
        for (record, _) in samples() {
            let hash = from_json(&record).expect("a valid record");
            let debug = format!("{hash:?}");
            assert!(debug.contains(hash.format()), "{debug}");
            for field in ["hash", "salt"] {
                if let Some(secret) = record[field].as_str() {
                    assert!(!debug.contains(secret), "{debug} shows the {field}");
                }
            }
            // Nor a salt or checksum out of the hash (its `$` parts other
            // than algorithm names and parameters).
            let hash_text = record["hash"].as_str().unwrap_or_default();
            let names = ["argon2", "pbkdf2", "bcrypt"];
            let secret_part = |part: &&str| {
                part.len() >= 8 && !part.contains('=') && !names.iter().any(|n| part.starts_with(n))
            };
            for part in hash_text.split('$').filter(secret_part) {
                assert!(!debug.contains(part), "{debug} shows part of the hash");
            }
        }
        let bcrypt = from_json(&samples()[1].0).expect("valid");
        assert_eq!(
            format!("{bcrypt:?}"),
            r#"LegacyHash { format: "bcrypt", params: BcryptHash { variant: "2a", cost: 7 } }"#
        );
    }

    #[test]
    fn defaults_are_written_out_when_stored() {
        let hash = from_json(&json!({
            "format": "symfony-message-digest",
            "hash": "2SBIm2FxQs6+NjK+N5KBjMUaL1EjpjRHsrh53l1gSrN8KYh/81vT1jqd95+B9MOUnO3fhVBsB3FPgLmUB/W29g=="
        }))
        .expect("valid");
        let stored: Value = serde_json::from_str(&hash.to_stored()).expect("JSON");
        assert_eq!(stored["algorithm"], "sha512");
        assert_eq!(stored["iterations"], 5000);
        assert_eq!(stored["encoding"], "base64");
        assert!(stored.get("salt").is_none());
    }

    #[test]
    fn the_format_is_required_and_must_be_known() {
        assert_eq!(from_json(&json!({"hash": "x"})), Err(LegacyHashError::MissingFormat));
        assert_eq!(from_json(&json!({"format": null, "hash": "x"})), Err(LegacyHashError::MissingFormat));
        assert!(matches!(
            from_json(&json!({"format": 3, "hash": "x"})),
            Err(LegacyHashError::WrongType { field: "format", .. })
        ));
        let unknown = from_json(&json!({"format": "scrypt", "hash": "x"})).expect_err("unknown");
        assert_eq!(unknown, LegacyHashError::UnknownFormat(Some("scrypt".to_owned())));
        assert!(unknown.to_string().contains("\"scrypt\"") && unknown.to_string().contains("symfony-pbkdf2"));
        assert!(!unknown.to_string().contains("Bcrypt"), "format names are case-sensitive: {unknown}");
        // A hash pasted into "format" is not repeated.
        let pasted = "$2y$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234";
        let err = from_json(&json!({"format": pasted, "hash": "x"})).expect_err("unknown");
        assert_eq!(err, LegacyHashError::UnknownFormat(None));
        assert!(!err.to_string().contains(pasted));
    }

    #[test]
    fn fields_are_checked_and_named() {
        let bcrypt = "$2a$07$usesomesillystringfore2uDLvp1Ii2e./U9C8sBjqp8I90dH6hi";
        let err =
            from_json(&json!({"format": "bcrypt", "hash": bcrypt, "salt": "x"})).expect_err("no salt field");
        assert!(matches!(&err, LegacyHashError::UnknownField { field: Some(field), .. } if field == "salt"));
        assert!(err.to_string().contains("\"salt\"") && err.to_string().contains("format, hash"), "{err}");
        // A field whose name is itself a secret-looking string is not repeated.
        let err = from_json(&json!({"format": "bcrypt", "hash": bcrypt, bcrypt: 1})).expect_err("odd field");
        assert!(!err.to_string().contains(bcrypt), "{err}");

        for format in FORMATS {
            let err = from_json(&json!({"format": format})).expect_err("no hash");
            assert_eq!(err, LegacyHashError::MissingField { format, field: "hash" });
            assert!(err.to_string().contains("\"hash\""));
            let err = from_json(&json!({"format": format, "hash": 42})).expect_err("not a string");
            assert!(matches!(err, LegacyHashError::WrongType { field: "hash", .. }));
            let err = from_json(&json!({"format": format, "hash": ""})).expect_err("empty");
            assert!(matches!(err, LegacyHashError::Malformed { .. }));
            let long = "$".repeat(4097);
            let err = from_json(&json!({"format": format, "hash": long})).expect_err("too long");
            assert!(matches!(err, LegacyHashError::Malformed { .. }));
        }
        let err =
            from_json(&json!({"format": "symfony-pbkdf2", "hash": "x", "salt": 5})).expect_err("salt type");
        assert!(matches!(err, LegacyHashError::WrongType { field: "salt", .. }));
    }

    #[test]
    fn no_error_repeats_the_hash() {
        let hashes = [
            "$2y$10$abcdefghijklmnopqrstu.ABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
            "$2x$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e",
            "$argon2id$v=19$m=999999999,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
            "$6$rounds=9999999$secretsalt$abc",
            "md5$secretsalt$0123456789abcdef0123456789abcdef",
            "AQAAAAEAACcQAAAAEAABAgMEBQYHCAkKCwwNDg+yWU7rLgUwPZb1Itsmra7cbxw2EFpwpVFIEtP+JIuUE",
            "0123456789abcdef0123456789abcdef",
        ];
        for format in FORMATS {
            for hash in hashes {
                let record = json!({"format": format, "hash": hash, "salt": "secretsalt"});
                if let Err(err) = from_json(&record) {
                    let message = err.to_string();
                    assert!(!message.contains(hash), "{format}: {message}");
                    assert!(!message.contains("secretsalt"), "{format}: {message}");
                }
            }
        }
    }

    #[test]
    fn stored_text_must_be_an_object() {
        for text in ["", "not json", "[1]", "\"$2y$\"", "{"] {
            assert_eq!(LegacyHash::from_stored(text), Err(LegacyHashError::NotAnObject));
        }
    }

    #[test]
    fn verify_takes_any_bytes_without_panicking() {
        let long = vec![b'x'; MAX_PASSWORD_BYTES + 1];
        let inputs: [&[u8]; 6] =
            [b"", b"\0", b"\xff\xfe\xfd", "pässwörd".as_bytes(), &long[..MAX_PASSWORD_BYTES], &long];
        for (record, password) in samples() {
            let hash = from_json(&record).expect("valid");
            for input in inputs {
                assert!(!hash.verify(input), "{hash:?}");
            }
            // Over the cap nothing matches, not even the password padded out.
            let mut padded = password.to_vec();
            padded.resize(MAX_PASSWORD_BYTES + 1, 0);
            assert!(!hash.verify(&padded));
        }
    }
}
