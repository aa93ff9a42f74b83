//! The management plane's one door: every change an operator makes — from
//! the command line, the admin API or the portal — goes through
//! [`AdminService`], which validates it, writes it, makes this node's caches
//! forget what it changed, and records who did it (the audit trail).

mod access_keys;
mod api_keys;
mod audit_trail;
mod import;
mod lockouts;
mod overview;
mod principals;
mod signing_keys;
mod tokens;

use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;

use crate::clock::SharedClock;
use crate::context::AdminContext;
use crate::error::StoreError;
use crate::login::{CacheControl, TokenPolicy};
use crate::server_keys::{ServerKeys, ServerKeysError};
use crate::signing_keys::{KeyGenerationError, SigningAlgorithm};
use crate::store::Store;

pub use access_keys::{AccessKeySpec, CreatedAccessKey};
pub use api_keys::IssuedApiKey;
pub use audit_trail::MAX_PAGE;
pub use import::{
    BATCH_RECORDS, ImportCounts, ImportOptions, ImportReport, Importer, LineError, MAX_LINE_BYTES,
    MAX_LISTED_ERRORS,
};
pub use lockouts::Lockout;
pub use principals::{AttributesPatch, MAX_PRINCIPALS_PAGE, PrincipalPatch, PrincipalSpec, RESERVED_CLAIMS};
pub use signing_keys::{SigningKeyState, SigningKeyStatus};

#[derive(Debug, Error)]
pub enum AdminError {
    /// The request itself is wrong (a bad name, an empty password, …).
    #[error("{0}")]
    Invalid(String),
    /// One field of the request is wrong (`field` as the wire names it).
    #[error("{message}")]
    InvalidField { field: &'static str, message: String },
    #[error("no principal named {0:?}")]
    NoSuchPrincipal(String),
    #[error("a principal named {0:?} already exists")]
    NameTaken(String),
    #[error("a principal with id {0} already exists")]
    IdTaken(String),
    #[error("no key with id {0}")]
    NoSuchKey(String),
    /// The deployment's configuration does not allow it (rotating an HMAC
    /// secret).
    #[error("{0}")]
    Unsupported(String),
    /// A revoked access key cannot move to another state.
    #[error("the key is revoked, which is final")]
    RevokedIsFinal,
    #[error("could not hash the password")]
    Hashing(#[source] argon2::password_hash::Error),
    #[error("could not generate a signing key")]
    KeyGeneration(#[source] KeyGenerationError),
    #[error("could not load the signing keys")]
    Keys(#[source] ServerKeysError),
    #[error("the signing keys are unusable")]
    Signing(#[source] crate::jwt::JwtError),
    /// A blocking task (hashing, key generation) died.
    #[error("a background task stopped")]
    Task(#[source] tokio::task::JoinError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How tokens are signed, and how keys rotate.
#[derive(Debug, Clone)]
pub struct SigningPolicy {
    pub algorithm: SigningAlgorithm,
    /// How long `rotate` publishes a new key before it signs.
    pub rotation_delay: Duration,
}

/// Management operations over one store.
pub struct AdminService {
    store: Arc<dyn Store>,
    keys: Arc<ServerKeys>,
    policy: TokenPolicy,
    signing: SigningPolicy,
    clock: SharedClock,
    /// The login service of this process, when one runs here: a change made
    /// through this node holds on it at once (other processes follow the
    /// store's change counter).
    caches: Option<Arc<dyn CacheControl>>,
}

impl AdminService {
    pub fn new(
        store: Arc<dyn Store>,
        keys: Arc<ServerKeys>,
        policy: TokenPolicy,
        signing: SigningPolicy,
        clock: SharedClock,
    ) -> Self {
        Self { store, keys, policy, signing, clock, caches: None }
    }

    /// Makes changes hold at once on `caches` (this node's login service).
    pub fn with_caches(mut self, caches: Arc<dyn CacheControl>) -> Self {
        self.caches = Some(caches);
        self
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Now, by the clock this service goes by.
    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    /// After a change: this node's caches forget what they held.
    fn changed(&self) {
        if let Some(caches) = &self.caches {
            caches.forget_cached();
        }
    }

    /// After a key was created: this node knows it exists at once.
    fn created(&self, key: crate::login::CreatedKey<'_>) {
        if let Some(caches) = &self.caches {
            caches.key_created(key);
        }
    }

    /// Records one management action in the audit trail (and the log):
    /// every entry point goes through here, so none can forget it. A change
    /// that was made is not undone when its audit row cannot be written; the
    /// failure is logged as an error instead.
    async fn audit(
        &self,
        context: &AdminContext,
        action: &'static str,
        target: &str,
        details: Option<serde_json::Value>,
    ) {
        tracing::info!(
            actor = context.actor.name(),
            action,
            target,
            request = %context.request_id,
            source_ip = context.source_ip.map(|ip| ip.to_string()),
            "admin action"
        );
        let event = crate::audit::AuditEvent {
            at: self.now(),
            actor: context.actor.name().to_owned(),
            action,
            target: Some(target.to_owned()),
            source_ip: context.source_ip,
            details,
        };
        if let Err(err) = self.store.record_audit(&event).await {
            tracing::error!(error = %crate::error::report(&err), action, "could not write an audit row");
        }
    }
}

/// Runs blocking work (argon2id hashing, key generation) off the runtime.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, AdminError> {
    tokio::task::spawn_blocking(work).await.map_err(AdminError::Task)
}
