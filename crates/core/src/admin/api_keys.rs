//! Operator actions on API keys (contract B).

use time::OffsetDateTime;
use uuid::Uuid;

use super::{AdminError, AdminService};
use crate::context::AdminContext;
use crate::model::{ApiKeyRecord, ApiKeyStatus, CredentialId};
use crate::secret::{ApiKey, decode_api_key, new_api_key};

/// A freshly issued key: the only moment its plain text exists.
#[derive(Debug)]
pub struct IssuedApiKey {
    pub id: CredentialId,
    pub principal: String,
    pub api_key: ApiKey,
    pub expires_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

/// A key id as an operator writes it.
pub(super) fn parse_id(id: &str) -> Result<CredentialId, AdminError> {
    Uuid::parse_str(id.trim()).map(CredentialId).map_err(|_| AdminError::NoSuchKey(id.to_owned()))
}

impl AdminService {
    pub async fn issue_api_key(
        &self,
        context: &AdminContext,
        name: &str,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<IssuedApiKey, AdminError> {
        let principal = self.find_principal(name).await?;
        let api_key = new_api_key();
        let record = self.api_key_record(&principal, &api_key, expires_at)?;
        let (id, created_at, hash) = (record.id, record.created_at, record.key_hash);
        self.store.insert_api_key(record).await?;
        self.created(crate::login::CreatedKey::ApiKey(&hash));
        self.audit(context, "apikey.issue", &id.to_string(), None).await;
        Ok(IssuedApiKey { id, principal: principal.name, api_key, expires_at, created_at })
    }

    /// Gives `name` a key of known value (demo seeding). `true` if it was
    /// added, `false` if that key exists already.
    pub async fn import_api_key(
        &self,
        context: &AdminContext,
        name: &str,
        api_key: &ApiKey,
    ) -> Result<bool, AdminError> {
        let principal = self.find_principal(name).await?;
        let record = self.api_key_record(&principal, api_key, None)?;
        let (id, hash) = (record.id, record.key_hash);
        let added = self.store.insert_api_key(record).await?;
        if added {
            self.created(crate::login::CreatedKey::ApiKey(&hash));
            self.audit(context, "apikey.issue", &id.to_string(), None).await;
        }
        Ok(added)
    }

    fn api_key_record(
        &self,
        principal: &crate::model::Principal,
        api_key: &ApiKey,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<ApiKeyRecord, AdminError> {
        let raw = zeroize::Zeroizing::new(
            decode_api_key(api_key.expose())
                .ok_or_else(|| AdminError::Invalid("an API key is base64 of 16 bytes".into()))?,
        );
        Ok(ApiKeyRecord {
            id: CredentialId(Uuid::new_v4()),
            principal_id: principal.id,
            key_hash: self.keys.credential_hash(raw.as_ref()),
            created_at: self.now(),
            expires_at,
        })
    }

    /// A principal's keys, each with its state now.
    pub async fn list_api_keys(&self, name: &str) -> Result<Vec<ApiKeyStatus>, AdminError> {
        let principal = self.find_principal(name).await?;
        let now = self.now();
        let keys = self.store.list_api_keys(principal.id).await?;
        Ok(keys.into_iter().map(|key| ApiKeyStatus { state: key.state_at(now), key }).collect())
    }

    pub async fn revoke_api_key(&self, context: &AdminContext, id: &str) -> Result<CredentialId, AdminError> {
        let key = parse_id(id)?;
        if !self.store.revoke_api_key(key, self.now()).await? {
            return Err(AdminError::NoSuchKey(id.to_owned()));
        }
        self.changed();
        self.audit(context, "apikey.revoke", &key.to_string(), None).await;
        Ok(key)
    }
}
