//! Operator actions on API keys (contract B).

use time::OffsetDateTime;
use uuid::Uuid;

use super::{AdminError, find_principal};
use crate::model::{ApiKeyInfo, ApiKeyRecord, CredentialId};
use crate::secret::{decode_api_key, new_api_key};
use crate::server_keys::ServerKeys;
use crate::store::Store;
use crate::time_util::now;

/// A freshly issued key: the only moment its plain text exists.
#[derive(Debug)]
pub struct IssuedApiKey {
    pub id: CredentialId,
    pub principal: String,
    pub api_key: String,
    pub expires_at: Option<OffsetDateTime>,
}

pub async fn issue_api_key(
    store: &dyn Store,
    keys: &ServerKeys,
    name: &str,
    expires_at: Option<OffsetDateTime>,
) -> Result<IssuedApiKey, AdminError> {
    let principal = find_principal(store, name).await?;
    let api_key = new_api_key();
    let raw =
        decode_api_key(&api_key).ok_or_else(|| AdminError::Invalid("generated key is malformed".into()))?;
    let id = CredentialId(Uuid::new_v4());
    let record = ApiKeyRecord {
        id,
        principal_id: principal.id,
        key_hash: keys.credential_hash(&raw),
        created_at: now(),
        expires_at,
    };
    store.insert_api_key(record).await?;
    Ok(IssuedApiKey { id, principal: principal.name, api_key, expires_at })
}

/// Gives `name` a key of known value (demo seeding). `true` if it was added,
/// `false` if that key exists already.
pub async fn import_api_key(
    store: &dyn Store,
    keys: &ServerKeys,
    name: &str,
    api_key: &str,
) -> Result<bool, AdminError> {
    let principal = find_principal(store, name).await?;
    let raw = decode_api_key(api_key).ok_or_else(|| AdminError::Invalid("not base64 of 16 bytes".into()))?;
    let record = ApiKeyRecord {
        id: CredentialId(Uuid::new_v4()),
        principal_id: principal.id,
        key_hash: keys.credential_hash(&raw),
        created_at: now(),
        expires_at: None,
    };
    Ok(store.insert_api_key(record).await?)
}

pub async fn list_api_keys(store: &dyn Store, name: &str) -> Result<Vec<ApiKeyInfo>, AdminError> {
    let principal = find_principal(store, name).await?;
    Ok(store.list_api_keys(principal.id).await?)
}

fn parse_id(id: &str) -> Result<CredentialId, AdminError> {
    Uuid::parse_str(id.trim()).map(CredentialId).map_err(|_| AdminError::NoSuchKey(id.to_owned()))
}

pub async fn revoke_api_key(store: &dyn Store, id: &str) -> Result<CredentialId, AdminError> {
    let key = parse_id(id)?;
    if !store.revoke_api_key(key, now()).await? {
        return Err(AdminError::NoSuchKey(id.to_owned()));
    }
    Ok(key)
}

/// Voids every token issued with the key so far; the key stays usable.
/// `key` is an API key's or access key's id, or an access key's 40-hex
/// `accessKey` (as `accesskey set-state` takes it).
pub async fn revoke_key_tokens(store: &dyn Store, key: &str) -> Result<CredentialId, AdminError> {
    let id = match parse_id(key) {
        Ok(id) => id,
        Err(_) => super::access_keys::find_access_key(store, key).await?.id,
    };
    if !store.revoke_credential_tokens(id, now()).await? {
        return Err(AdminError::NoSuchKey(key.to_owned()));
    }
    Ok(id)
}
