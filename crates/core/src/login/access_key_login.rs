//! Contract C's login, and OAuth 2.0 client authentication (an access key is
//! a client): an access key and its secret in, a signed JWT out.

use std::ops::Deref;
use std::sync::{Arc, OnceLock};

use super::known::KeyKind;
use super::{LoginContext, LoginService};
use crate::error::LoginError;
use crate::jwt::{SigningTemplate, SubjectClaims};
use crate::model::{AccessKeyLookup, AccessKeyState};
use crate::secret::{AccessSecret, PlainToken, constant_time_eq};
use crate::time_util::add;
use crate::usage::UseNote;

/// A JWT and how long it lives.
#[derive(Debug, Clone)]
pub struct IssuedJwt {
    pub token: PlainToken,
    pub expires_in: std::time::Duration,
}

/// An access key as the login caches keep it: what the store said, and its
/// tokens' constant claims, prepared for signing on first use. A change to
/// the key or its holder replaces the whole entry, template included.
pub struct Client {
    key: AccessKeyLookup,
    template: OnceLock<SigningTemplate>,
    pub(super) use_noted: UseNote,
}

impl Client {
    pub(super) fn new(key: AccessKeyLookup) -> Self {
        Self { key, template: OnceLock::new(), use_noted: UseNote::default() }
    }
}

impl Deref for Client {
    type Target = AccessKeyLookup;

    fn deref(&self) -> &AccessKeyLookup {
        &self.key
    }
}

impl LoginService {
    /// Contract C: authenticate the key, then sign a JWT for its holder.
    pub async fn login_with_access_key(
        &self,
        context: &LoginContext,
        access_key: &str,
        secret: &AccessSecret,
    ) -> Result<PlainToken, LoginError> {
        let key = self.authenticate_client(context, access_key, secret, None).await?;
        Ok(self.issue_client_jwt(&key)?.token)
    }

    /// Checks an access key and its secret (or, if that fails, the
    /// `alternative` spelling of the secret a client may have sent). Every
    /// failure (unknown key, wrong secret, a key that is not active, a
    /// disabled holder) is the same `BadCredentials`, counted once.
    pub async fn authenticate_client(
        &self,
        context: &LoginContext,
        access_key: &str,
        secret: &AccessSecret,
        alternative: Option<&AccessSecret>,
    ) -> Result<Arc<Client>, LoginError> {
        self.guarded(context, async {
            match (self.check_client(context, access_key, secret).await, alternative) {
                (Err(LoginError::BadCredentials), Some(alternative)) => {
                    self.check_client(context, access_key, alternative).await
                }
                (outcome, _) => outcome,
            }
        })
        .await
    }

    async fn check_client(
        &self,
        context: &LoginContext,
        access_key: &str,
        secret: &AccessSecret,
    ) -> Result<Arc<Client>, LoginError> {
        // Compute the keyed hash whether or not the key exists, so both
        // paths cost about the same.
        let presented = self.keys.credential_hash(secret.expose().as_bytes());
        let key = match self.access_key_by_key(access_key).await? {
            Some(key) => key,
            // A key not held here may be the legacy service's (lazy migration).
            None => match self.migrate_access_key(access_key, secret, context).await {
                None => return Err(LoginError::BadCredentials),
                Some(migrated) => {
                    migrated?;
                    self.access_key_by_key(access_key).await?.ok_or(LoginError::BadCredentials)?
                }
            },
        };
        let usable = key.state.effective(key.expires_at, self.now()) == AccessKeyState::Active
            && key.principal.enabled;
        let matches = match &key.legacy_secret {
            // Imported as a legacy hash: verified (and replaced) only for a
            // key that could log in at all.
            Some(legacy) if usable => self.check_legacy_secret(&key, legacy, secret).await?,
            Some(_) => false,
            None => constant_time_eq(&presented, &key.secret_hash),
        };
        if !matches || !usable {
            return Err(LoginError::BadCredentials);
        }
        Ok(key)
    }

    /// Signs a JWT for an authenticated key's holder.
    pub fn issue_client_jwt(&self, client: &Client) -> Result<IssuedJwt, LoginError> {
        let issued_at = self.now();
        client.use_noted.note(&self.usage, client.id, issued_at);
        let codec = self.codec();
        let template = match client.template.get() {
            Some(template) => template,
            None => {
                let principal = &client.principal;
                let prepared = codec
                    .prepare(&SubjectClaims {
                        uid: principal.id.0,
                        ar: &principal.roles,
                        ak: client.id.0,
                        realm: principal.realm.as_deref(),
                        attributes: &principal.attributes,
                    })
                    .map_err(LoginError::Signing)?;
                client.template.get_or_init(|| prepared)
            }
        };
        let token = codec
            .sign(
                template,
                issued_at.unix_timestamp(),
                add(issued_at, self.policy.accesskey_ttl).unix_timestamp(),
                // Unique, not secret: the thread-local CSPRNG (seeded from the
                // OS) spares a system call per token. Version 7 carries the
                // issuing millisecond, which `iat`'s whole seconds cannot: a
                // revocation "of every token so far" then spares the tokens
                // issued later in the same second (verify.rs).
                uuid::Builder::from_unix_timestamp_millis(
                    u64::try_from(crate::time_util::to_millis(issued_at)).unwrap_or(0),
                    &rand::random(),
                )
                .into_uuid(),
            )
            .map_err(LoginError::Signing)?;
        Ok(IssuedJwt { token: PlainToken::new(token), expires_in: self.policy.accesskey_ttl })
    }

    /// The key behind `access_key`, from the cache when possible. Only
    /// well-shaped keys reach the database.
    async fn access_key_by_key(&self, access_key: &str) -> Result<Option<Arc<Client>>, LoginError> {
        if access_key.len() != 40 || !access_key.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let cached = self.access_keys.get(access_key);
        self.cache_counts.record(super::CacheName::AccessKeys, cached.is_some());
        if let Some(hit) = cached {
            return Ok(Some(hit));
        }
        // A key nobody was given is refused without a lookup, as fast as a
        // known key with a wrong secret.
        if !self.known.may_exist(self.store.as_ref(), KeyKind::AccessKey, access_key.as_bytes()).await? {
            return Ok(None);
        }
        super::count_lookup("access_key");
        let Some(found) = self.store.find_access_key(access_key).await? else { return Ok(None) };
        let found = Arc::new(Client::new(found));
        self.access_keys.insert(access_key.to_owned(), Arc::clone(&found));
        self.access_keys_by_id.insert(found.id.0, Arc::clone(&found));
        Ok(Some(found))
    }
}
