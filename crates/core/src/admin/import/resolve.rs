//! What each record of a batch does, decided against what is stored (read
//! for the whole batch at once) and what earlier records of the import did:
//! create, update, leave unchanged, or fail. Decisions only; the writes are
//! collected into one `ImportBatch`.
//!
//! The rules (DESIGN.md §10, README "Import"):
//! - A principal is the one of that name; a given `id` must agree with it.
//!   A key is the one of that `id` when one is given, else the one of that
//!   `apiKey` / `accessKey`; it must belong to the record's principal.
//! - Members a record leaves out leave an existing principal or key as it
//!   is; the defaults (no roles, enabled, `active`, no expiry) are for new
//!   ones only.
//! - A password or secret Tollgate holds is never replaced; a principal
//!   without a password gets the record's.
//! - `revoked` is final, as everywhere.

use std::collections::{BTreeMap, HashMap};

use time::OffsetDateTime;
use uuid::Uuid;

use super::record::{AccessKeyLine, ApiKeyLine, PrincipalLine, Record, SecretLine};
use super::report::{Kind, Outcome};
use crate::model::{
    AccessKeyRecord, AccessKeyState, ApiKeyRecord, CredentialId, NewPrincipal, PrincipalId, PrincipalProfile,
};
use crate::store::{
    AccessKeyChange, ImportBatch, ImportFound, ImportLookup, PrincipalChange, StoredAccessKey, StoredApiKey,
};

/// A principal as an import compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PrincipalState {
    id: PrincipalId,
    name: String,
    roles: Vec<String>,
    realm: Option<String>,
    /// Sorted by key: a map's worth without a B-tree node per principal,
    /// which a dry run keeps for every principal it would create.
    attributes: Vec<(String, String)>,
    enabled: bool,
    has_password: bool,
}

impl PrincipalState {
    fn attributes_map(&self) -> BTreeMap<String, String> {
        self.attributes.iter().cloned().collect()
    }
}

/// Principals and keys, findable the ways records name them.
#[derive(Debug, Default)]
pub(super) struct View {
    /// By folded name.
    principals: HashMap<String, PrincipalState>,
    principal_keys: HashMap<PrincipalId, String>,
    api_keys: HashMap<[u8; 32], StoredApiKey>,
    api_key_hashes: HashMap<CredentialId, [u8; 32]>,
    access_keys: HashMap<String, StoredAccessKey>,
    access_key_names: HashMap<CredentialId, String>,
}

impl View {
    pub(super) fn from_found(found: ImportFound) -> Self {
        let mut view = View::default();
        for (principal, name_key) in found.principals {
            let state = PrincipalState {
                id: principal.id,
                name: principal.name,
                roles: principal.roles,
                realm: principal.realm,
                attributes: principal.attributes.into_iter().collect(),
                enabled: principal.enabled,
                has_password: principal.password_format.is_some(),
            };
            view.put_principal(name_key, state);
        }
        found.api_keys.into_iter().for_each(|key| view.put_api_key(key));
        found.access_keys.into_iter().for_each(|key| view.put_access_key(key));
        view
    }

    pub(super) fn clear(&mut self) {
        *self = View::default();
    }

    fn put_principal(&mut self, name_key: String, state: PrincipalState) {
        self.principal_keys.insert(state.id, name_key.clone());
        self.principals.insert(name_key, state);
    }

    fn put_api_key(&mut self, key: StoredApiKey) {
        self.api_key_hashes.insert(key.id, key.key_hash);
        self.api_keys.insert(key.key_hash, key);
    }

    fn put_access_key(&mut self, key: StoredAccessKey) {
        self.access_key_names.insert(key.id, key.access_key.clone());
        self.access_keys.insert(key.access_key.clone(), key);
    }
}

/// What an import did (or, in a dry run, would have done) over what the
/// database held when the batch was looked up: the first wins.
pub(super) struct Layers<'a> {
    pub(super) done: &'a mut View,
    pub(super) stored: &'a View,
}

impl Layers<'_> {
    fn principal_by_key(&self, name_key: &str) -> Option<&PrincipalState> {
        self.done.principals.get(name_key).or_else(|| self.stored.principals.get(name_key))
    }

    fn principal_by_id(&self, id: PrincipalId) -> Option<&PrincipalState> {
        [&*self.done, self.stored]
            .into_iter()
            .find_map(|view| view.principal_keys.get(&id))
            .and_then(|key| self.principal_by_key(key))
            .filter(|principal| principal.id == id)
    }

    /// The principal a key record names: by id, else by name (as the admin
    /// API finds one).
    fn find_principal(&self, reference: &str) -> Option<&PrincipalState> {
        if let Ok(id) = Uuid::parse_str(reference.trim())
            && let Some(principal) = self.principal_by_id(PrincipalId(id))
        {
            return Some(principal);
        }
        let name = crate::names::login_name(reference)?;
        self.principal_by_key(&crate::names::collision_key(&name)).filter(|p| p.name == *name)
    }

    fn api_key_by_hash(&self, hash: &[u8; 32]) -> Option<&StoredApiKey> {
        self.done.api_keys.get(hash).or_else(|| self.stored.api_keys.get(hash))
    }

    fn api_key_by_id(&self, id: CredentialId) -> Option<&StoredApiKey> {
        [&*self.done, self.stored]
            .into_iter()
            .find_map(|view| view.api_key_hashes.get(&id))
            .and_then(|hash| self.api_key_by_hash(hash))
            .filter(|key| key.id == id)
    }

    fn access_key_by_name(&self, access_key: &str) -> Option<&StoredAccessKey> {
        self.done.access_keys.get(access_key).or_else(|| self.stored.access_keys.get(access_key))
    }

    fn access_key_by_id(&self, id: CredentialId) -> Option<&StoredAccessKey> {
        [&*self.done, self.stored]
            .into_iter()
            .find_map(|view| view.access_key_names.get(&id))
            .and_then(|name| self.access_key_by_name(name))
            .filter(|key| key.id == id)
    }
}

/// A batch's writes, and which line each insert came from.
#[derive(Debug, Default)]
pub(super) struct Plan {
    pub(super) batch: ImportBatch,
    pub(super) inserts: Vec<(u64, Kind, Uuid)>,
    /// Something existing changed (the login service's caches must forget).
    pub(super) changed: bool,
}

/// Everything stored that the records may name, for one lookup.
pub(super) fn lookup(records: &[(u64, Record)]) -> ImportLookup {
    let mut lookup = ImportLookup::default();
    let named = |lookup: &mut ImportLookup, reference: &str| {
        if let Ok(id) = Uuid::parse_str(reference.trim()) {
            lookup.principal_ids.push(PrincipalId(id));
        }
        if let Some(name) = crate::names::login_name(reference) {
            lookup.principal_name_keys.push(crate::names::collision_key(&name));
        }
    };
    for (_, record) in records {
        match record {
            Record::Principal(p) => {
                lookup.principal_name_keys.push(p.name_key.clone());
                lookup.principal_ids.extend(p.id);
            }
            Record::ApiKey(k) => {
                named(&mut lookup, &k.principal);
                lookup.api_key_hashes.push(k.key_hash);
                lookup.api_key_ids.extend(k.id);
            }
            Record::AccessKey(a) => {
                named(&mut lookup, &a.principal);
                lookup.access_keys.push(a.access_key.clone());
                lookup.access_key_ids.extend(a.id);
            }
        }
    }
    // Keys of one principal name it again and again: ask once.
    lookup.principal_name_keys.sort_unstable();
    lookup.principal_name_keys.dedup();
    lookup.principal_ids.sort_unstable_by_key(|id| id.0);
    lookup.principal_ids.dedup();
    lookup
}

/// Decides one record, adding its writes to `plan`.
pub(super) fn resolve(
    record: Record,
    line: u64,
    layers: &mut Layers<'_>,
    plan: &mut Plan,
    now: OffsetDateTime,
) -> (Kind, Result<Outcome, String>) {
    match record {
        Record::Principal(p) => (Kind::Principal, principal(p, line, layers, plan, now)),
        Record::ApiKey(k) => (Kind::ApiKey, api_key(k, line, layers, plan, now)),
        Record::AccessKey(a) => (Kind::AccessKey, access_key(a, line, layers, plan, now)),
    }
}

const NO_SUCH_PRINCIPAL: &str =
    "no principal has this \"principal\" as id or name (a principal's line must come before its keys')";

fn principal(
    p: PrincipalLine,
    line: u64,
    layers: &mut Layers<'_>,
    plan: &mut Plan,
    now: OffsetDateTime,
) -> Result<Outcome, String> {
    let by_name = layers.principal_by_key(&p.name_key);
    let by_id = p.id.and_then(|id| layers.principal_by_id(id));
    let existing = match (by_name, by_id) {
        (None, None) => None,
        (Some(found), _) if found.name != p.name => {
            return Err(format!(
                "a principal named {:?} exists already: names that differ only in letter case or Unicode \
                 form are one name",
                found.name
            ));
        }
        (Some(found), _) if p.id.is_some_and(|id| id != found.id) => {
            return Err(format!("principal {:?} exists already, with id {}", found.name, found.id));
        }
        (Some(found), _) => Some(found.clone()),
        (None, Some(found)) => {
            return Err(format!("id {} belongs to another principal, {:?}", found.id, found.name));
        }
    };
    let Some(existing) = existing else {
        let state = PrincipalState {
            id: p.id.unwrap_or_default(),
            name: p.name,
            roles: p.roles.unwrap_or_default(),
            realm: p.realm.flatten(),
            attributes: p.attributes.unwrap_or_default().into_iter().collect(),
            enabled: p.enabled.unwrap_or(true),
            has_password: p.password.is_some(),
        };
        plan.batch.principals.push(NewPrincipal {
            id: state.id,
            name: state.name.clone(),
            name_key: p.name_key.clone(),
            roles: state.roles.clone(),
            realm: state.realm.clone(),
            attributes: state.attributes_map(),
            password: p.password,
            enabled: state.enabled,
            created_at: now,
        });
        plan.inserts.push((line, Kind::Principal, state.id.0));
        layers.done.put_principal(p.name_key, state);
        return Ok(Outcome::Created);
    };

    let profile = PrincipalProfile {
        roles: p.roles.unwrap_or_else(|| existing.roles.clone()),
        realm: p.realm.unwrap_or_else(|| existing.realm.clone()),
        attributes: p.attributes.unwrap_or_else(|| existing.attributes_map()),
    };
    let profile_changed = profile.roles != existing.roles
        || profile.realm != existing.realm
        || !profile.attributes.iter().eq(existing.attributes.iter().map(|(k, v)| (k, v)));
    let enabled = p.enabled.filter(|enabled| *enabled != existing.enabled);
    // Never a password over one Tollgate holds: only where there is none.
    let password = p.password.filter(|_| !existing.has_password);
    if !profile_changed && enabled.is_none() && password.is_none() {
        return Ok(Outcome::Unchanged);
    }
    plan.changed |= profile_changed || enabled.is_some();
    let updated = PrincipalState {
        roles: profile.roles.clone(),
        realm: profile.realm.clone(),
        attributes: profile.attributes.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        enabled: enabled.unwrap_or(existing.enabled),
        has_password: existing.has_password || password.is_some(),
        ..existing
    };
    plan.batch.principal_changes.push(PrincipalChange {
        id: updated.id,
        profile: profile_changed.then_some(profile),
        enabled,
        password,
    });
    layers.done.put_principal(p.name_key, updated);
    Ok(Outcome::Updated)
}

fn api_key(
    k: ApiKeyLine,
    line: u64,
    layers: &mut Layers<'_>,
    plan: &mut Plan,
    now: OffsetDateTime,
) -> Result<Outcome, String> {
    let owner = layers.find_principal(&k.principal).ok_or(NO_SUCH_PRINCIPAL)?.id;
    let by_key = layers.api_key_by_hash(&k.key_hash);
    let by_id = k.id.and_then(|id| layers.api_key_by_id(id));
    let existing = match (by_key, by_id) {
        (Some(found), _) if k.id.is_some_and(|id| id != found.id) => {
            return Err(format!("this API key exists already, with id {}", found.id));
        }
        // By id with another key: the key Tollgate holds stays.
        (Some(found), _) | (None, Some(found)) => Some(found.clone()),
        (None, None) => None,
    };
    let Some(existing) = existing else {
        let record = ApiKeyRecord {
            id: k.id.unwrap_or_else(|| CredentialId(Uuid::new_v4())),
            principal_id: owner,
            key_hash: k.key_hash,
            created_at: now,
            expires_at: k.expires_at.flatten(),
        };
        plan.inserts.push((line, Kind::ApiKey, record.id.0));
        layers.done.put_api_key(StoredApiKey {
            id: record.id,
            principal_id: owner,
            key_hash: record.key_hash,
            expires_at: record.expires_at,
            revoked: false,
        });
        plan.batch.api_keys.push(record);
        return Ok(Outcome::Created);
    };
    if existing.principal_id != owner {
        return Err(format!("API key {} belongs to another principal", existing.id));
    }
    match k.expires_at {
        Some(expires_at) if expires_at != existing.expires_at => {
            if existing.revoked {
                return Err(format!("API key {} is revoked, which is final", existing.id));
            }
            plan.batch.api_key_expiries.push((existing.id, expires_at));
            plan.changed = true;
            layers.done.put_api_key(StoredApiKey { expires_at, ..existing });
            Ok(Outcome::Updated)
        }
        _ => Ok(Outcome::Unchanged),
    }
}

fn access_key(
    a: AccessKeyLine,
    line: u64,
    layers: &mut Layers<'_>,
    plan: &mut Plan,
    now: OffsetDateTime,
) -> Result<Outcome, String> {
    let owner = layers.find_principal(&a.principal).ok_or(NO_SUCH_PRINCIPAL)?.id;
    let by_key = layers.access_key_by_name(&a.access_key);
    let by_id = a.id.and_then(|id| layers.access_key_by_id(id));
    let existing = match (by_key, by_id) {
        (Some(found), _) if a.id.is_some_and(|id| id != found.id) => {
            return Err(format!("this accessKey exists already, with id {}", found.id));
        }
        (Some(found), _) => Some(found.clone()),
        // The accessKey is what clients send: a key keeps the one it has.
        (None, Some(found)) => {
            return Err(format!("access key {} exists already, with another accessKey", found.id));
        }
        (None, None) => None,
    };
    let Some(existing) = existing else {
        let (secret_hash, legacy_secret) = match a.secret {
            Some(SecretLine::Keyed(hash)) => (hash, None),
            // Until the first login replaces it, no keyed hash matches.
            Some(SecretLine::Legacy(stored)) => ([0; 32], Some(stored)),
            None => return Err(r#"a new access key needs "secret" or "secretHash""#.to_owned()),
        };
        let record = AccessKeyRecord {
            id: a.id.unwrap_or_else(|| CredentialId(Uuid::new_v4())),
            principal_id: owner,
            access_key: a.access_key,
            secret_hash,
            state: a.state.unwrap_or(AccessKeyState::Active),
            created_at: now,
            expires_at: a.expires_at.flatten(),
            legacy_secret,
        };
        plan.inserts.push((line, Kind::AccessKey, record.id.0));
        layers.done.put_access_key(StoredAccessKey {
            id: record.id,
            principal_id: owner,
            access_key: record.access_key.clone(),
            state: record.state,
            expires_at: record.expires_at,
        });
        plan.batch.access_keys.push(record);
        return Ok(Outcome::Created);
    };
    if existing.principal_id != owner {
        return Err(format!("access key {} belongs to another principal", existing.id));
    }
    let state = a.state.unwrap_or(existing.state);
    let expires_at = a.expires_at.unwrap_or(existing.expires_at);
    if state == existing.state && expires_at == existing.expires_at {
        return Ok(Outcome::Unchanged);
    }
    if existing.state == AccessKeyState::Revoked {
        return Err(format!("access key {} is revoked, which is final", existing.id));
    }
    plan.batch.access_key_changes.push(AccessKeyChange { id: existing.id, state, expires_at });
    plan.changed = true;
    layers.done.put_access_key(StoredAccessKey { state, expires_at, ..existing });
    Ok(Outcome::Updated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Principal;

    fn keyed(secret: &[u8]) -> [u8; 32] {
        crate::secret::keyed_hash(b"test pepper", secret)
    }

    fn record(line: &str) -> Record {
        super::super::record::parse(line.as_bytes(), &keyed).expect(line)
    }

    fn stored_principal(name: &str) -> (Principal, String) {
        let principal = Principal {
            id: PrincipalId::new(),
            name: name.to_owned(),
            roles: vec!["r".into()],
            realm: None,
            attributes: BTreeMap::new(),
            enabled: true,
            created_at: crate::time_util::now(),
            tokens_revoked_at: None,
            lockout: Default::default(),
            password_format: Some("argon2id".into()),
        };
        (principal, crate::names::collision_key(name))
    }

    /// Decides `lines` in order against `stored`.
    fn decide(stored: &ImportFound, lines: &[&str]) -> (Vec<Result<Outcome, String>>, Plan) {
        let stored = View::from_found(stored.clone());
        let mut done = View::default();
        let mut layers = Layers { done: &mut done, stored: &stored };
        let mut plan = Plan::default();
        let outcomes = lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                resolve(record(line), i as u64 + 1, &mut layers, &mut plan, crate::time_util::now()).1
            })
            .collect();
        (outcomes, plan)
    }

    #[test]
    fn an_import_tells_names_ids_and_owners_apart() {
        let (alice, key) = stored_principal("alice");
        let id = alice.id;
        let stored = ImportFound { principals: vec![(alice, key)], ..Default::default() };
        let (outcomes, plan) = decide(
            &stored,
            &[
                r#"{"type":"principal","name":"ALICE"}"#,
                &format!(r#"{{"type":"principal","name":"alice","id":"{}"}}"#, Uuid::new_v4()),
                &format!(r#"{{"type":"principal","name":"bob","id":"{id}"}}"#),
                r#"{"type":"principal","name":"alice","roles":["r"]}"#,
                r#"{"type":"principal","name":"alice","password":{"format":"bcrypt","hash":"$2y$04$M8GDODMoGQLQRpkYCdoJh.lbiZPee3SZI32RcYK49XYTolDGwoRMm"}}"#,
                r#"{"type":"principal","name":"carol"}"#,
                &format!(r#"{{"type":"apikey","principal":"{id}","apiKey":"AAAAAAAAAAAAAAAAAAAAAA=="}}"#),
                r#"{"type":"apikey","principal":"carol","apiKey":"AAAAAAAAAAAAAAAAAAAAAA=="}"#,
                r#"{"type":"apikey","principal":"Carol","apiKey":"AAAAAAAAAAAAAAAAAAAAAQ=="}"#,
            ],
        );
        let error = |i: usize| outcomes[i].clone().expect_err("an error");
        assert!(error(0).contains("letter case"), "{}", error(0));
        assert!(error(1).contains("exists already, with id"), "{}", error(1));
        assert!(error(2).contains("belongs to another principal"), "{}", error(2));
        assert_eq!(outcomes[3], Ok(Outcome::Unchanged), "the same roles");
        assert_eq!(outcomes[4], Ok(Outcome::Unchanged), "a password is never replaced");
        assert_eq!(outcomes[5], Ok(Outcome::Created));
        assert_eq!(outcomes[6], Ok(Outcome::Created), "a principal named by its id");
        assert!(error(7).contains("API key"), "a key of alice's is not carol's: {}", error(7));
        assert!(error(8).contains("no principal"), "names are exact: {}", error(8));
        assert_eq!(plan.batch.principals.len(), 1);
        assert_eq!(plan.batch.api_keys.len(), 1);
        assert!(plan.batch.principal_changes.is_empty() && !plan.changed);
    }

    #[test]
    fn an_import_keeps_what_a_record_leaves_out_and_revoked_keys_stay_revoked() {
        let (alice, key) = stored_principal("alice");
        let owner = alice.id;
        let revoked = StoredAccessKey {
            id: CredentialId(Uuid::new_v4()),
            principal_id: owner,
            access_key: "a".repeat(40),
            state: AccessKeyState::Revoked,
            expires_at: None,
        };
        let stored =
            ImportFound { principals: vec![(alice, key)], access_keys: vec![revoked], ..Default::default() };
        let access_key = |extra: &str| {
            format!(r#"{{"type":"accesskey","principal":"alice","accessKey":"{}"{extra}}}"#, "a".repeat(40))
        };
        let (outcomes, plan) = decide(
            &stored,
            &[
                r#"{"type":"principal","name":"alice","realm":"Partner"}"#,
                r#"{"type":"principal","name":"alice","enabled":true}"#,
                &access_key(r#","secret":"another""#),
                &access_key(r#","state":"active""#),
                &format!(r#"{{"type":"accesskey","principal":"alice","accessKey":"{}"}}"#, "b".repeat(40)),
            ],
        );
        assert_eq!(outcomes[0], Ok(Outcome::Updated));
        assert_eq!(outcomes[1], Ok(Outcome::Unchanged), "enabled already");
        assert_eq!(outcomes[2], Ok(Outcome::Unchanged), "the secret Tollgate holds stays");
        assert!(outcomes[3].clone().expect_err("final").contains("revoked, which is final"));
        assert!(outcomes[4].clone().expect_err("no secret").contains(r#"needs "secret" or "secretHash""#));
        let change = &plan.batch.principal_changes[0];
        let profile = change.profile.as_ref().expect("a profile change");
        assert_eq!(
            (profile.roles.clone(), profile.realm.clone()),
            (vec!["r".to_owned()], Some("Partner".into()))
        );
        assert!(plan.changed);
    }
}
