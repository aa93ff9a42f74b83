//! Operator actions on access keys (contract C; also OAuth 2.0 clients).

use time::OffsetDateTime;
use uuid::Uuid;

use super::{AdminError, find_principal};
use crate::model::{AccessKeyInfo, AccessKeyLookup, AccessKeyRecord, AccessKeyState, CredentialId};
use crate::secret::{new_access_key, new_access_secret};
use crate::server_keys::ServerKeys;
use crate::store::Store;
use crate::time_util::now;

/// A freshly created key: the only moment its secret exists in plain text.
#[derive(Debug)]
pub struct CreatedAccessKey {
    pub id: CredentialId,
    pub principal: String,
    pub access_key: String,
    pub secret: String,
    pub state: AccessKeyState,
    pub expires_at: Option<OffsetDateTime>,
}

/// What to create; `access_key`, `secret` and `id` are generated unless given
/// (giving them is for demo seeding only).
#[derive(Debug, Default)]
pub struct AccessKeySpec {
    pub principal: String,
    pub state: Option<AccessKeyState>,
    pub expires_at: Option<OffsetDateTime>,
    pub id: Option<CredentialId>,
    pub access_key: Option<String>,
    pub secret: Option<String>,
}

/// Creates the key; `None` if a key with that id or access key exists.
pub async fn create_access_key(
    store: &dyn Store,
    keys: &ServerKeys,
    spec: AccessKeySpec,
) -> Result<Option<CreatedAccessKey>, AdminError> {
    let principal = find_principal(store, &spec.principal).await?;
    let state = spec.state.unwrap_or(AccessKeyState::Active);
    if !matches!(state, AccessKeyState::Active | AccessKeyState::Pending) {
        return Err(AdminError::Invalid("a new access key is active or pending".into()));
    }
    let access_key = spec.access_key.unwrap_or_else(new_access_key);
    let secret = spec.secret.unwrap_or_else(new_access_secret);
    let record = AccessKeyRecord {
        id: spec.id.unwrap_or(CredentialId(Uuid::new_v4())),
        principal_id: principal.id,
        access_key: access_key.clone(),
        secret_hash: keys.credential_hash(secret.as_bytes()),
        state,
        created_at: now(),
        expires_at: spec.expires_at,
    };
    let id = record.id;
    if !store.insert_access_key(record).await? {
        return Ok(None);
    }
    Ok(Some(CreatedAccessKey {
        id,
        principal: principal.name,
        access_key,
        secret,
        state,
        expires_at: spec.expires_at,
    }))
}

pub async fn list_access_keys(
    store: &dyn Store,
    name: Option<&str>,
) -> Result<Vec<AccessKeyInfo>, AdminError> {
    let principal = match name {
        Some(name) => Some(find_principal(store, name).await?.id),
        None => None,
    };
    Ok(store.list_access_keys(principal).await?)
}

/// Finds a key by its 40-hex `accessKey` or by its id.
pub async fn find_access_key(store: &dyn Store, key: &str) -> Result<AccessKeyLookup, AdminError> {
    let key = key.trim();
    let found = match Uuid::parse_str(key) {
        Ok(id) => store.find_access_key_by_id(CredentialId(id)).await?,
        Err(_) => store.find_access_key(key).await?,
    };
    found.ok_or_else(|| AdminError::NoSuchKey(key.to_owned()))
}

/// Moves a key to `state`. `revoked` is final.
pub async fn set_access_key_state(
    store: &dyn Store,
    key: &str,
    state: AccessKeyState,
) -> Result<AccessKeyLookup, AdminError> {
    let found = find_access_key(store, key).await?;
    if found.state == AccessKeyState::Revoked && state != AccessKeyState::Revoked {
        return Err(AdminError::Invalid("the key is revoked, which is final".into()));
    }
    store.set_access_key_state(found.id, state).await?;
    Ok(AccessKeyLookup { state, ..found })
}
