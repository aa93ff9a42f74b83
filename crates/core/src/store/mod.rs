//! The narrow storage interface the core needs, split by role so that each
//! feature depends on what it uses: principals, credentials (API keys and
//! access keys), tokens, server keys, the admin portal's sessions and
//! counts, and the database as a whole. One implementation per database
//! lives in the `tollgate-store` crate; the core never sees SQL.

mod audit;
mod credentials;
mod import;
mod inventory;
mod keys;
mod portal_sessions;
mod principals;
mod tokens;

use std::sync::Arc;

use async_trait::async_trait;

pub use audit::AuditStore;
pub use credentials::{CreatedCredentials, CredentialStore};
pub use import::{
    AccessKeyChange, ImportBatch, ImportFound, ImportLookup, ImportStore, ImportWritten, PrincipalChange,
    StoredAccessKey, StoredApiKey,
};
pub use inventory::{ExpiringKey, Inventory, InventoryStore};
pub use keys::KeyStore;
pub use portal_sessions::{PortalSessionRecord, PortalSessionStore};
pub use principals::PrincipalStore;
pub use tokens::{NewSession, Rotation, Swept, TokenStore};

use crate::error::StoreError;

/// The database as a whole: whether it can serve, and what changed in it.
#[async_trait]
pub trait Database: Send + Sync + 'static {
    /// Can the database serve reads and writes right now? An error while
    /// writes fail (disk full, a lost file) even if reads still work.
    async fn ping(&self) -> Result<(), StoreError>;

    /// A number that grows whenever something that caches must forget
    /// changes (revocations, disabled principals, key state changes). Nodes
    /// and processes sharing the database poll it to invalidate their caches.
    async fn change_counter(&self) -> Result<i64, StoreError>;

    /// Wakes `waiter` whenever another process announces a change (a
    /// backend that can push, like PostgreSQL's `LISTEN/NOTIFY`); others
    /// rely on polling `change_counter` and do nothing here.
    fn announce_changes(&self, waiter: Arc<tokio::sync::Notify>) {
        let _ = waiter;
    }

    /// Connections open to the database now, and how many of them idle.
    fn connections(&self) -> Connections {
        Connections::default()
    }
}

/// The connection pools' state, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Connections {
    pub open: u64,
    pub idle: u64,
}

/// Everything a node needs from its database.
pub trait Store:
    Database
    + PrincipalStore
    + CredentialStore
    + TokenStore
    + KeyStore
    + AuditStore
    + PortalSessionStore
    + InventoryStore
    + ImportStore
{
}

impl<
    T: Database
        + PrincipalStore
        + CredentialStore
        + TokenStore
        + KeyStore
        + AuditStore
        + PortalSessionStore
        + InventoryStore
        + ImportStore,
> Store for T
{
}
