//! Operator actions on access keys (contract C; also OAuth 2.0 clients).

use time::OffsetDateTime;
use uuid::Uuid;

use super::{AdminError, AdminService};
use crate::context::AdminContext;
use crate::model::{AccessKeyInfo, AccessKeyLookup, AccessKeyRecord, AccessKeyState, CredentialId};
use crate::secret::{AccessSecret, new_access_key, new_access_secret};

/// A freshly created key: the only moment its secret exists in plain text.
#[derive(Debug)]
pub struct CreatedAccessKey {
    pub id: CredentialId,
    pub principal: String,
    pub access_key: String,
    pub secret: AccessSecret,
    pub state: AccessKeyState,
    pub expires_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
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
    pub secret: Option<AccessSecret>,
}

impl AdminService {
    /// Creates the key; `None` if a key with that id or access key exists.
    pub async fn create_access_key(
        &self,
        context: &AdminContext,
        spec: AccessKeySpec,
    ) -> Result<Option<CreatedAccessKey>, AdminError> {
        let created = self.create_access_key_quietly(spec).await?;
        if let Some(created) = &created {
            self.audit(context, "accesskey.create", &created.access_key, None).await;
        }
        Ok(created)
    }

    /// Creates the key without an audit row of its own (a roll writes one).
    async fn create_access_key_quietly(
        &self,
        spec: AccessKeySpec,
    ) -> Result<Option<CreatedAccessKey>, AdminError> {
        let principal = self.find_principal(&spec.principal).await?;
        let state = spec.state.unwrap_or(AccessKeyState::Active);
        if !matches!(state, AccessKeyState::Active | AccessKeyState::Pending) {
            return Err(AdminError::InvalidField {
                field: "state",
                message: "a new access key is active or pending".into(),
            });
        }
        let access_key = spec.access_key.unwrap_or_else(new_access_key);
        let secret = spec.secret.unwrap_or_else(new_access_secret);
        let record = AccessKeyRecord {
            id: spec.id.unwrap_or(CredentialId(Uuid::new_v4())),
            principal_id: principal.id,
            access_key: access_key.clone(),
            secret_hash: self.keys.credential_hash(secret.expose().as_bytes()),
            state,
            created_at: self.now(),
            expires_at: spec.expires_at,
            legacy_secret: None,
        };
        let (id, created_at) = (record.id, record.created_at);
        if !self.store.insert_access_key(record).await? {
            return Ok(None);
        }
        self.created(crate::login::CreatedKey::AccessKey(&access_key));
        Ok(Some(CreatedAccessKey {
            id,
            principal: principal.name,
            access_key,
            secret,
            state,
            expires_at: spec.expires_at,
            created_at,
        }))
    }

    /// Every key, or one principal's, each in the state it is in now (an
    /// active key past its expiry time reads `expired`).
    pub async fn list_access_keys(&self, name: Option<&str>) -> Result<Vec<AccessKeyInfo>, AdminError> {
        let principal = match name {
            Some(name) => Some(self.find_principal(name).await?.id),
            None => None,
        };
        let now = self.now();
        let mut keys = self.store.list_access_keys(principal).await?;
        for key in &mut keys {
            key.state = key.state.effective(key.expires_at, now);
        }
        Ok(keys)
    }

    /// Finds a key by its 40-hex `accessKey` or by its id.
    pub async fn find_access_key(&self, key: &str) -> Result<AccessKeyLookup, AdminError> {
        let key = key.trim();
        let found = match Uuid::parse_str(key) {
            Ok(id) => self.store.find_access_key_by_id(CredentialId(id)).await?,
            Err(_) if key.len() == 40 && key.bytes().all(|b| b.is_ascii_hexdigit()) => {
                self.store.find_access_key(key).await?
            }
            Err(_) => None,
        };
        found.ok_or_else(|| AdminError::NoSuchKey(key.to_owned()))
    }

    /// One key as listed, in the state it is in now. `key` is its id or its
    /// 40-hex `accessKey`.
    pub async fn access_key(&self, key: &str) -> Result<AccessKeyInfo, AdminError> {
        let found = self.find_access_key(key).await?;
        let mut info = self
            .store
            .access_key_info(found.id)
            .await?
            .ok_or_else(|| AdminError::NoSuchKey(key.to_owned()))?;
        info.state = info.state.effective(info.expires_at, self.now());
        Ok(info)
    }

    /// Changes a key's state and/or expiry (`Some(None)`: never expires),
    /// one audit row each. `revoked` is final.
    pub async fn update_access_key(
        &self,
        context: &AdminContext,
        key: &str,
        state: Option<AccessKeyState>,
        expires_at: Option<Option<OffsetDateTime>>,
    ) -> Result<AccessKeyInfo, AdminError> {
        let found = self.find_access_key(key).await?;
        if found.state == AccessKeyState::Revoked
            && (expires_at.is_some() || state.is_some_and(|s| s != AccessKeyState::Revoked))
        {
            return Err(AdminError::RevokedIsFinal);
        }
        if let Some(expires_at) = expires_at {
            if !self.store.set_access_key_expiry(found.id, expires_at).await? {
                return Err(AdminError::NoSuchKey(key.to_owned()));
            }
            self.changed();
            let details = serde_json::json!({ "expiresAt": expires_at.map(crate::time_util::rfc3339) });
            self.audit(context, "accesskey.state", &found.access_key, Some(details)).await;
        }
        if let Some(state) = state {
            self.set_access_key_state(context, &found.id.0.to_string(), state).await?;
        }
        self.access_key(&found.id.0.to_string()).await
    }

    /// Replaces a key: a new key and secret for the same principal, active
    /// at once, while the old key keeps working for `grace` (then it
    /// expires; an earlier expiry it had stays).
    pub async fn roll_access_key(
        &self,
        context: &AdminContext,
        key: &str,
        grace: std::time::Duration,
    ) -> Result<CreatedAccessKey, AdminError> {
        let old = self.find_access_key(key).await?;
        if old.state == AccessKeyState::Revoked {
            return Err(AdminError::RevokedIsFinal);
        }
        let spec = AccessKeySpec { principal: old.principal.id.0.to_string(), ..Default::default() };
        let created = self
            .create_access_key_quietly(spec)
            .await?
            .ok_or_else(|| AdminError::Invalid("a generated access key collided; try again".into()))?;
        let ends = crate::time_util::add(self.now(), grace);
        let ends = old.expires_at.map_or(ends, |current| current.min(ends));
        if !self.store.set_access_key_expiry(old.id, Some(ends)).await? {
            return Err(AdminError::NoSuchKey(key.to_owned()));
        }
        self.changed();
        let details = serde_json::json!({
            "newAccessKey": created.access_key,
            "graceSeconds": grace.as_secs(),
            "oldKeyExpiresAt": crate::time_util::rfc3339(ends),
        });
        self.audit(context, "accesskey.roll", &old.access_key, Some(details)).await;
        Ok(created)
    }

    /// Moves a key to `state`. `revoked` is final.
    pub async fn set_access_key_state(
        &self,
        context: &AdminContext,
        key: &str,
        state: AccessKeyState,
    ) -> Result<AccessKeyLookup, AdminError> {
        let found = self.find_access_key(key).await?;
        if found.state == AccessKeyState::Revoked && state != AccessKeyState::Revoked {
            return Err(AdminError::RevokedIsFinal);
        }
        if !self.store.set_access_key_state(found.id, state).await? && state != AccessKeyState::Revoked {
            // Revoked by someone else between the read and the write.
            return Err(AdminError::RevokedIsFinal);
        }
        self.changed();
        let details = serde_json::json!({ "state": state.as_str() });
        self.audit(context, "accesskey.state", &found.access_key, Some(details)).await;
        Ok(AccessKeyLookup { state, ..found })
    }
}
