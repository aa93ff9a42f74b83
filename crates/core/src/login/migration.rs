//! Lazy migration (DESIGN.md §10), for credentials nobody can export: a
//! login naming a principal or key Tollgate does not know is forwarded, as it
//! came, to the legacy service's endpoint; when that accepts it, Tollgate
//! creates the principal and the presented credential and answers with its
//! own token, as if the credential had always been here. Known names and
//! keys are never forwarded, and §9's limits apply before any forwarding
//! (every caller runs inside `guarded`).
//!
//! The legacy services' wire formats stay outside the core: an [`Upstream`]
//! (the HTTP shell's client) posts the request and says what the answer
//! means.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

use super::LoginService;
use super::known::KeyKind;
use crate::context::{Contract, Forwarded, LoginContext};
use crate::error::LoginError;
use crate::model::{
    AccessKeyRecord, AccessKeyState, ApiKeyRecord, CredentialId, NewPrincipal, Principal, PrincipalId,
    StoredPassword,
};
use crate::secret::{AccessSecret, Password};

/// What the legacy service said to a forwarded login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamAnswer {
    /// A success of the contract's own kind (A: 200 with a `token`; B: 200;
    /// C: 201 with a JWT, whose claims come along).
    Accepted(Option<UpstreamClaims>),
    /// A 4xx: the credentials are wrong there too.
    Refused,
    /// Down, a 5xx, a timeout, or an answer that cannot be believed (a JWT
    /// failing `jwt_secret`): why, for the log.
    Unavailable(String),
}

/// Who a legacy contract C token names: the claims that become the
/// principal and its access key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamClaims {
    /// `uid`: the principal's id (and, made here, its name).
    pub uid: Uuid,
    /// `ar`.
    pub roles: Vec<String>,
    /// `ak`: the access key's id.
    pub ak: Uuid,
    pub realm: Option<String>,
    /// `ca`, `cid`, `domain`, when present.
    pub attributes: BTreeMap<String, String>,
}

/// The legacy endpoints a login may be forwarded to.
#[async_trait]
pub trait Upstream: Send + Sync {
    /// Whether logins of `contract` have an upstream.
    fn serves(&self, contract: Contract) -> bool;
    /// Posts the request as it came and judges the answer.
    async fn forward(&self, contract: Contract, request: &Forwarded) -> UpstreamAnswer;
}

impl LoginService {
    /// Forwards unknown logins to `upstream` from now on.
    pub fn set_upstream(&self, upstream: Arc<dyn Upstream>) {
        let _ = self.upstream.set(upstream);
    }

    /// Whether a login of `contract` may be forwarded: the HTTP shell keeps
    /// the request's body only then.
    pub fn forwards(&self, contract: Contract) -> bool {
        self.upstream.get().is_some_and(|upstream| upstream.serves(contract))
    }

    /// The upstream's verdict on a login, if it may be forwarded at all.
    async fn ask_upstream(
        &self,
        contract: Contract,
        forwarded: Option<&Forwarded>,
    ) -> Option<Result<Option<UpstreamClaims>, LoginError>> {
        let upstream = self.upstream.get().filter(|upstream| upstream.serves(contract))?;
        let forwarded = forwarded?;
        Some(match upstream.forward(contract, forwarded).await {
            UpstreamAnswer::Accepted(claims) => Ok(claims),
            UpstreamAnswer::Refused => Err(LoginError::BadCredentials),
            UpstreamAnswer::Unavailable(why) => {
                tracing::warn!(contract = contract.name(), why = %why, "lazy migration: no usable answer upstream");
                Err(LoginError::Upstream(why))
            }
        })
    }

    /// Contract A: `name` is unknown here. `None` if the login is not to be
    /// forwarded; else the principal made from the upstream's success (its
    /// password kept as argon2id), or why not.
    pub(super) async fn migrate_password_login(
        &self,
        name: &str,
        password: &Password,
        context: &LoginContext,
    ) -> Option<Result<Principal, LoginError>> {
        let verdict = self.ask_upstream(Contract::LoginCheck, context.forwarded.as_ref()).await?;
        Some(
            async {
                verdict?;
                let name = storable_name(name)?;
                let hash = self
                    .passwords
                    .hash(password)
                    .await?
                    .ok_or_else(|| LoginError::Upstream("could not hash the password".into()))?;
                let new = self.new_principal(PrincipalId::new(), &name, Some(StoredPassword::argon2id(hash)));
                if self.store.create_principal_if_absent(new).await? {
                    self.audit_migration(context, &name).await;
                    return self.store.principal_by_name(&name).await?.ok_or(LoginError::BadCredentials);
                }
                // Another login made it first: this one is checked against it.
                let (principal, stored) =
                    self.store.password_of(&name).await?.ok_or(LoginError::BadCredentials)?;
                match self.verify_stored(stored.as_ref(), password).await?.matches() && principal.enabled {
                    true => Ok(principal),
                    false => Err(LoginError::BadCredentials),
                }
            }
            .await,
        )
    }

    /// Contract B: `login` is unknown or the key is not held here. `None` if
    /// the login is not to be forwarded; else whether the upstream accepted
    /// (then the principal — made if new — holds the key now).
    pub(super) async fn migrate_api_key(
        &self,
        login: &str,
        key_hash: [u8; 32],
        context: &LoginContext,
    ) -> Option<Result<(), LoginError>> {
        let verdict = self.ask_upstream(Contract::ApiKey, context.forwarded.as_ref()).await?;
        Some(
            async {
                verdict?;
                let name = storable_name(login)?;
                let principal = match self.store.principal_by_name(&name).await? {
                    Some(principal) => principal,
                    None => {
                        self.store
                            .create_principal_if_absent(self.new_principal(PrincipalId::new(), &name, None))
                            .await?;
                        self.store.principal_by_name(&name).await?.ok_or(LoginError::BadCredentials)?
                    }
                };
                let record = ApiKeyRecord {
                    id: CredentialId(Uuid::new_v4()),
                    principal_id: principal.id,
                    key_hash,
                    created_at: self.now(),
                    expires_at: None,
                };
                if self.store.insert_api_key(record).await? {
                    self.audit_migration(context, &principal.name).await;
                }
                self.known.learn(KeyKind::ApiKey, &key_hash);
                Ok(())
            }
            .await,
        )
    }

    /// Contract C: the access key is unknown here. `None` if the login is not
    /// to be forwarded; else whether the upstream accepted (then the key,
    /// and its principal from the upstream JWT's claims, exist here).
    pub(super) async fn migrate_access_key(
        &self,
        access_key: &str,
        secret: &AccessSecret,
        context: &LoginContext,
    ) -> Option<Result<(), LoginError>> {
        // Only the shape of a key can be moved in (40 hex digits).
        if access_key.len() != 40 || !access_key.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let verdict = self.ask_upstream(Contract::AccessKey, context.forwarded.as_ref()).await?;
        Some(
            async {
                let claims = verdict?
                    .ok_or_else(|| LoginError::Upstream("the upstream's token named nobody".into()))?;
                let id = PrincipalId(claims.uid);
                if self.store.principal_by_id(id).await?.is_none() {
                    let name = claims.uid.to_string();
                    let mut new = self.new_principal(id, &name, None);
                    new.roles = claims.roles.clone();
                    new.realm = claims.realm.clone();
                    new.attributes = claims.attributes.clone();
                    self.store.create_principal_if_absent(new).await?;
                }
                let principal = self.store.principal_by_id(id).await?.ok_or_else(|| {
                    LoginError::Upstream(
                        "the upstream's uid names a principal that cannot be made here".into(),
                    )
                })?;
                let record = AccessKeyRecord {
                    id: CredentialId(claims.ak),
                    principal_id: principal.id,
                    access_key: access_key.to_owned(),
                    secret_hash: self.keys.credential_hash(secret.expose().as_bytes()),
                    state: AccessKeyState::Active,
                    created_at: self.now(),
                    expires_at: None,
                    legacy_secret: None,
                };
                if self.store.insert_access_key(record).await? {
                    self.audit_migration(context, access_key).await;
                }
                self.known.learn(KeyKind::AccessKey, access_key.as_bytes());
                Ok(())
            }
            .await,
        )
    }

    fn new_principal(&self, id: PrincipalId, name: &str, password: Option<StoredPassword>) -> NewPrincipal {
        NewPrincipal {
            id,
            name: name.to_owned(),
            name_key: crate::names::collision_key(name),
            roles: Vec::new(),
            realm: None,
            attributes: BTreeMap::new(),
            password,
            enabled: true,
            created_at: self.now(),
        }
    }

    /// One `migration.lazy` row per credential moved in.
    async fn audit_migration(&self, context: &LoginContext, target: &str) {
        let contract = context.contract.name();
        let event = crate::audit::AuditEvent {
            at: self.now(),
            actor: crate::context::Actor::System.name().to_owned(),
            action: "migration.lazy",
            target: Some(target.to_owned()),
            source_ip: context.client,
            details: Some(serde_json::json!({ "contract": contract })),
        };
        tracing::info!(contract, target, "lazy migration: credential moved in");
        if let Err(err) = self.store.record_audit(&event).await {
            tracing::error!(error = %crate::error::report(&err), "could not write an audit row");
        }
    }
}

/// A name the upstream accepted must also be one Tollgate can hold.
fn storable_name(name: &str) -> Result<String, LoginError> {
    crate::names::canonical_new_name(name)
        .map_err(|_| LoginError::Upstream("the upstream accepted a name Tollgate cannot hold".into()))
}
