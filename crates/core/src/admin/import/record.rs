//! One import line read into a record (DESIGN.md §10): its members checked
//! for type and shape, unknown ones refused by name, names, roles and
//! attributes checked by the same rules as the admin API, hashes parsed by
//! `tollgate-legacy`, plain secrets turned into their keyed hash at once.
//!
//! Error texts never repeat a value from the line: only member names (and
//! those only when they look like names), formats and ids.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tollgate_legacy::LegacyHash;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::super::AdminError;
use super::super::principals::{PasswordRule, PrincipalSpec, check_spec};
use crate::model::{AccessKeyState, CredentialId, PrincipalId, StoredPassword};

/// Longest plain access-key secret taken (the longest password a legacy
/// hash is ever verified against).
const MAX_SECRET_BYTES: usize = tollgate_legacy::MAX_PASSWORD_BYTES;

const PRINCIPAL_MEMBERS: &[&str] =
    &["type", "name", "id", "password", "roles", "realm", "attributes", "enabled"];
const API_KEY_MEMBERS: &[&str] = &["type", "principal", "apiKey", "id", "expiresAt"];
const ACCESS_KEY_MEMBERS: &[&str] =
    &["type", "principal", "accessKey", "id", "secret", "secretHash", "state", "expiresAt"];

/// One record, checked. `Option` members were absent (or `null` where null
/// means "not given"); an existing principal or key keeps what a record
/// leaves out.
#[derive(Debug)]
pub(super) enum Record {
    Principal(PrincipalLine),
    ApiKey(ApiKeyLine),
    AccessKey(AccessKeyLine),
}

#[derive(Debug)]
pub(super) struct PrincipalLine {
    pub(super) id: Option<PrincipalId>,
    /// In normal form (NFC).
    pub(super) name: String,
    pub(super) name_key: String,
    pub(super) password: Option<StoredPassword>,
    pub(super) roles: Option<Vec<String>>,
    /// `Some(None)`: `"realm": null`, no realm.
    pub(super) realm: Option<Option<String>>,
    pub(super) attributes: Option<BTreeMap<String, String>>,
    pub(super) enabled: Option<bool>,
}

#[derive(Debug)]
pub(super) struct ApiKeyLine {
    /// The holder's id or name.
    pub(super) principal: String,
    pub(super) id: Option<CredentialId>,
    /// The keyed hash of the key (the key itself is not kept).
    pub(super) key_hash: [u8; 32],
    /// `Some(None)`: `"expiresAt": null`, never.
    pub(super) expires_at: Option<Option<OffsetDateTime>>,
}

/// An access key's secret as imported.
#[derive(Debug)]
pub(super) enum SecretLine {
    /// A plain secret, already turned into its keyed hash.
    Keyed([u8; 32]),
    /// A legacy hash, kept until the first login replaces it.
    Legacy(StoredPassword),
}

#[derive(Debug)]
pub(super) struct AccessKeyLine {
    pub(super) principal: String,
    pub(super) id: Option<CredentialId>,
    pub(super) access_key: String,
    pub(super) secret: Option<SecretLine>,
    pub(super) state: Option<AccessKeyState>,
    pub(super) expires_at: Option<Option<OffsetDateTime>>,
}

/// The keyed hash credentials are stored as (`ServerKeys::credential_hash`).
pub(super) type Keyed<'a> = &'a (dyn Fn(&[u8]) -> [u8; 32] + Sync);

/// Reads one line (not blank) into a record.
pub(super) fn parse(line: &[u8], keyed: Keyed<'_>) -> Result<Record, String> {
    let value: Value = serde_json::from_slice(line).map_err(|err| {
        // serde_json's syntax errors say what was expected, never what was
        // found; the column helps find the place.
        let message = err.to_string();
        let message = message.split(" at line ").next().unwrap_or_default().to_owned();
        format!("not valid JSON: {message} (column {})", err.column())
    })?;
    let Value::Object(members) = value else {
        return Err("a record is a JSON object".to_owned());
    };
    let kind = match members.get("type") {
        Some(Value::String(kind)) => kind.as_str(),
        Some(_) => return Err(r#""type" must be a string: principal, apikey or accesskey"#.to_owned()),
        None => return Err(r#"a record needs "type": principal, apikey or accesskey"#.to_owned()),
    };
    let record = Members(&members);
    match kind {
        "principal" => {
            record.only(PRINCIPAL_MEMBERS, "a principal record")?;
            principal(record).map(Record::Principal)
        }
        "apikey" => {
            record.only(API_KEY_MEMBERS, "an apikey record")?;
            api_key(record, keyed).map(Record::ApiKey)
        }
        "accesskey" => {
            record.only(ACCESS_KEY_MEMBERS, "an accesskey record")?;
            access_key(record, keyed).map(Record::AccessKey)
        }
        other => Err(format!("unknown type {} (principal, apikey or accesskey)", shown(other))),
    }
}

fn principal(record: Members<'_>) -> Result<PrincipalLine, String> {
    let name = record.required_str("name")?;
    let id = record.uuid("id")?.map(PrincipalId);
    let password = record.hash("password")?;
    let roles = record.string_list("roles")?;
    let realm = record.nullable_str("realm")?;
    let attributes = record.string_map("attributes")?;
    let enabled = match record.get("enabled") {
        None => None,
        Some(Value::Bool(enabled)) => Some(*enabled),
        Some(_) => return Err(r#""enabled" must be true or false"#.to_owned()),
    };
    // The admin API's rules, from the same function.
    let mut spec = PrincipalSpec {
        name: name.to_owned(),
        roles: roles.clone().unwrap_or_default(),
        realm: realm.clone().flatten(),
        attributes: attributes.clone().unwrap_or_default(),
        ..Default::default()
    };
    check_spec(&mut spec, PasswordRule::Enforced).map_err(|err| match err {
        AdminError::InvalidField { field, message } => format!("\"{field}\": {message}"),
        other => other.to_string(),
    })?;
    Ok(PrincipalLine {
        id,
        name_key: crate::names::collision_key(&spec.name),
        name: spec.name,
        password,
        roles,
        realm,
        attributes,
        enabled,
    })
}

fn api_key(record: Members<'_>, keyed: Keyed<'_>) -> Result<ApiKeyLine, String> {
    let principal = record.principal()?;
    let key = record.required_str("apiKey")?;
    let raw = Zeroizing::new(
        crate::secret::decode_api_key(key)
            .ok_or_else(|| r#""apiKey" must be base64 of 16 bytes (24 characters)"#.to_owned())?,
    );
    Ok(ApiKeyLine {
        principal,
        id: record.uuid("id")?.map(CredentialId),
        key_hash: keyed(raw.as_ref()),
        expires_at: record.instant("expiresAt")?,
    })
}

fn access_key(record: Members<'_>, keyed: Keyed<'_>) -> Result<AccessKeyLine, String> {
    let principal = record.principal()?;
    let access_key = record.required_str("accessKey")?;
    if access_key.len() != 40 || !access_key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(r#""accessKey" must be 40 hexadecimal characters"#.to_owned());
    }
    let secret = match (record.get("secret"), record.hash("secretHash")?) {
        (Some(_), Some(_)) => return Err(r#"give "secret" or "secretHash", not both"#.to_owned()),
        (Some(Value::String(secret)), None) => {
            if secret.is_empty() || secret.len() > MAX_SECRET_BYTES {
                return Err(format!(r#""secret" must hold 1 to {MAX_SECRET_BYTES} bytes"#));
            }
            Some(SecretLine::Keyed(keyed(secret.as_bytes())))
        }
        (Some(_), None) => return Err(r#""secret" must be a string"#.to_owned()),
        (None, hash) => hash.map(SecretLine::Legacy),
    };
    let state = match record.get("state") {
        None => None,
        Some(Value::String(state)) => Some(
            AccessKeyState::parse(state)
                .ok_or_else(|| r#""state" must be pending, active, expired or revoked"#.to_owned())?,
        ),
        Some(_) => return Err(r#""state" must be a string"#.to_owned()),
    };
    Ok(AccessKeyLine {
        principal,
        id: record.uuid("id")?.map(CredentialId),
        access_key: access_key.to_owned(),
        secret,
        state,
        expires_at: record.instant("expiresAt")?,
    })
}

/// A record's members, read one by one with errors that name them.
#[derive(Clone, Copy)]
struct Members<'a>(&'a Map<String, Value>);

impl Members<'_> {
    /// `null` counts as absent everywhere but where it has a meaning of its
    /// own (`realm`, `expiresAt`), as legacy exports write `null` for what
    /// a user does not have.
    fn get(&self, member: &str) -> Option<&Value> {
        self.0.get(member).filter(|value| !value.is_null())
    }

    fn only(&self, allowed: &[&str], what: &str) -> Result<(), String> {
        match self.0.keys().find(|key| !allowed.contains(&key.as_str())) {
            Some(unknown) => {
                Err(format!("unknown member {} ({what} takes: {})", shown(unknown), allowed.join(", ")))
            }
            None => Ok(()),
        }
    }

    fn required_str(&self, member: &str) -> Result<&str, String> {
        match self.get(member) {
            Some(Value::String(text)) if !text.is_empty() => Ok(text),
            Some(Value::String(_)) => Err(format!("\"{member}\" is empty")),
            Some(_) => Err(format!("\"{member}\" must be a string")),
            None => Err(format!("\"{member}\" is missing")),
        }
    }

    fn principal(&self) -> Result<String, String> {
        self.required_str("principal").map(str::to_owned)
    }

    fn nullable_str(&self, member: &str) -> Result<Option<Option<String>>, String> {
        match self.0.get(member) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::String(text)) => Ok(Some(Some(text.clone()))),
            Some(_) => Err(format!("\"{member}\" must be a string or null")),
        }
    }

    fn uuid(&self, member: &str) -> Result<Option<Uuid>, String> {
        match self.get(member) {
            None => Ok(None),
            Some(Value::String(text)) => Uuid::parse_str(text)
                .map(Some)
                .map_err(|_| format!("\"{member}\" must be a UUID (8-4-4-4-12 hexadecimal digits)")),
            Some(_) => Err(format!("\"{member}\" must be a UUID string")),
        }
    }

    fn instant(&self, member: &str) -> Result<Option<Option<OffsetDateTime>>, String> {
        match self.nullable_str(member)? {
            None => Ok(None),
            Some(None) => Ok(Some(None)),
            Some(Some(text)) => OffsetDateTime::parse(&text, &Rfc3339)
                .map(|at| Some(Some(at)))
                .map_err(|_| format!("\"{member}\" must be an RFC 3339 time (2027-01-31T00:00:00Z) or null")),
        }
    }

    fn string_list(&self, member: &str) -> Result<Option<Vec<String>>, String> {
        let Some(value) = self.get(member) else { return Ok(None) };
        let items = value.as_array().ok_or_else(|| format!("\"{member}\" must be an array of strings"))?;
        items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| format!("\"{member}\" must be an array of strings"))
    }

    fn string_map(&self, member: &str) -> Result<Option<BTreeMap<String, String>>, String> {
        let Some(value) = self.get(member) else { return Ok(None) };
        let object = value.as_object().ok_or_else(|| format!("\"{member}\" must be an object of strings"))?;
        object
            .iter()
            .map(|(key, value)| match value {
                Value::String(text) => Ok((key.clone(), text.clone())),
                _ => Err(format!("\"{member}\": the value of {key:?} must be a string")),
            })
            .collect::<Result<BTreeMap<_, _>, _>>()
            .map(Some)
    }

    /// A password or secret hash `{"format", "hash", …}`, as it will be
    /// stored: in its own format, never hashed again.
    fn hash(&self, member: &str) -> Result<Option<StoredPassword>, String> {
        let Some(value) = self.get(member) else { return Ok(None) };
        let Value::Object(record) = value else {
            return Err(format!(r#""{member}" must be an object {{"format": …, "hash": …}}"#));
        };
        let hash = LegacyHash::from_record(record).map_err(|err| format!("\"{member}\": {err}"))?;
        Ok(Some(StoredPassword { format: hash.format().to_owned(), hash: hash.to_stored() }))
    }
}

/// A member or type name from the input, quoted, or a placeholder when it
/// is not shaped like a name (it might be a secret put in the wrong place).
fn shown(name: &str) -> String {
    let name_like = !name.is_empty()
        && name.len() <= 32
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if name_like { format!("\"{name}\"") } else { "(a name not shown)".to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyed(secret: &[u8]) -> [u8; 32] {
        crate::secret::keyed_hash(b"test pepper", secret)
    }

    fn error(line: &str) -> String {
        parse(line.as_bytes(), &keyed).expect_err(line)
    }

    #[test]
    fn import_records_of_each_type_are_read() {
        let line = r#"{"type":"principal","name":"cafe\u0301","id":"6a2f41a3-c54c-fce8-32d2-0324e1c32e22",
            "password":{"format":"bcrypt","hash":"$2y$04$M8GDODMoGQLQRpkYCdoJh.lbiZPee3SZI32RcYK49XYTolDGwoRMm"},
            "roles":["Partner"],"realm":null,"attributes":{"domain":"/p"},"enabled":false}"#;
        let Ok(Record::Principal(p)) = parse(line.as_bytes(), &keyed) else { panic!("a principal") };
        assert_eq!(p.name, "caf\u{e9}", "names are stored in NFC");
        assert_eq!(p.password.as_ref().map(|p| p.format.as_str()), Some("bcrypt"));
        assert_eq!((p.realm, p.enabled), (Some(None), Some(false)));

        let line = r#"{"type":"apikey","principal":"John.Doo","apiKey":"hDn/LFXIPESM036W+s7VKg=="}"#;
        let Ok(Record::ApiKey(k)) = parse(line.as_bytes(), &keyed) else { panic!("an API key") };
        let raw = crate::secret::decode_api_key("hDn/LFXIPESM036W+s7VKg==").expect("key");
        assert_eq!(k.key_hash, keyed(&raw));
        assert_eq!(k.expires_at, None);

        let line = format!(
            r#"{{"type":"accesskey","principal":"p","accessKey":"{}","secret":"s3cret"}}"#,
            "a".repeat(40)
        );
        let Ok(Record::AccessKey(a)) = parse(line.as_bytes(), &keyed) else { panic!("an access key") };
        assert!(matches!(a.secret, Some(SecretLine::Keyed(hash)) if hash == keyed(b"s3cret")));
        assert_eq!(a.state, None, "active is the default of a new key only");
    }

    #[test]
    fn import_mistakes_are_named_without_repeating_secrets() {
        assert!(error("{").starts_with("not valid JSON"));
        assert_eq!(error("[1]"), "a record is a JSON object");
        assert!(error(r#"{"name":"a"}"#).contains(r#"needs "type""#));
        assert!(error(r#"{"type":"user","name":"a"}"#).contains(r#"unknown type "user""#));
        let unknown = error(r#"{"type":"principal","name":"a","pasword":{}}"#);
        assert!(unknown.contains(r#"unknown member "pasword""#) && unknown.contains("roles"), "{unknown}");
        let pasted = error(r#"{"type":"principal","name":"a","$2y$04$abc/def":1}"#);
        assert!(!pasted.contains("$2y$"), "{pasted}");
        assert!(error(r#"{"type":"principal","name":"a","roles":["a,b"]}"#).starts_with(r#""roles""#));
        assert!(error(r#"{"type":"principal","name":"a","attributes":{"exp":"1"}}"#).contains("attributes"));
        assert!(error(r#"{"type":"principal","name":" a"}"#).starts_with(r#""name""#));

        let bcrypt_2x = "$2x$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e";
        let refused = error(&format!(
            r#"{{"type":"principal","name":"a","password":{{"format":"bcrypt","hash":"{bcrypt_2x}"}}}}"#
        ));
        assert!(refused.contains("$2x$") && !refused.contains(bcrypt_2x), "{refused}");

        let key = "hDn/LFXIPESM036W+s7VKg=";
        let bad_key = error(&format!(r#"{{"type":"apikey","principal":"p","apiKey":"{key}"}}"#));
        assert!(!bad_key.contains(key) && bad_key.contains("apiKey"), "{bad_key}");
        let both = format!(
            r#"{{"type":"accesskey","principal":"p","accessKey":"{}","secret":"x","secretHash":{{"format":"bcrypt","hash":"{bcrypt_2x}"}}}}"#,
            "a".repeat(40)
        );
        assert!(error(&both).contains("$2x$"), "the hash is checked whatever else is wrong");
        let state = format!(
            r#"{{"type":"accesskey","principal":"p","accessKey":"{}","state":"on"}}"#,
            "a".repeat(40)
        );
        assert!(error(&state).contains("pending, active, expired or revoked"));
    }
}
