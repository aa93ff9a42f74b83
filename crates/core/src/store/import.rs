//! Storage for the bulk import (DESIGN.md §10): what a batch of records
//! finds in the database, read in one round trip per kind, and the batch's
//! writes, in one transaction.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::model::{
    AccessKeyRecord, AccessKeyState, ApiKeyRecord, CredentialId, NewPrincipal, Principal, PrincipalId,
    PrincipalProfile, StoredPassword,
};

/// What one batch of import records refers to: every principal, API key
/// and access key it may find already stored.
#[derive(Debug, Clone, Default)]
pub struct ImportLookup {
    pub principal_ids: Vec<PrincipalId>,
    /// Folded names (`names::collision_key`).
    pub principal_name_keys: Vec<String>,
    pub api_key_ids: Vec<CredentialId>,
    pub api_key_hashes: Vec<[u8; 32]>,
    pub access_key_ids: Vec<CredentialId>,
    pub access_keys: Vec<String>,
}

impl ImportLookup {
    pub fn is_empty(&self) -> bool {
        self.principal_ids.is_empty()
            && self.principal_name_keys.is_empty()
            && self.api_key_ids.is_empty()
            && self.api_key_hashes.is_empty()
            && self.access_key_ids.is_empty()
            && self.access_keys.is_empty()
    }
}

/// A stored API key as an import compares it.
#[derive(Debug, Clone)]
pub struct StoredApiKey {
    pub id: CredentialId,
    pub principal_id: PrincipalId,
    pub key_hash: [u8; 32],
    pub expires_at: Option<OffsetDateTime>,
    pub revoked: bool,
}

/// A stored access key as an import compares it.
#[derive(Debug, Clone)]
pub struct StoredAccessKey {
    pub id: CredentialId,
    pub principal_id: PrincipalId,
    pub access_key: String,
    pub state: AccessKeyState,
    pub expires_at: Option<OffsetDateTime>,
}

/// What [`ImportStore::import_lookup`] found (anything matching any of the
/// lookup's lists; unmatched entries are simply absent).
#[derive(Debug, Clone, Default)]
pub struct ImportFound {
    /// Each with its folded name; `password_format` tells whether it holds
    /// a password.
    pub principals: Vec<(Principal, String)>,
    pub api_keys: Vec<StoredApiKey>,
    pub access_keys: Vec<StoredAccessKey>,
}

/// A change to a principal that exists.
#[derive(Debug, Clone)]
pub struct PrincipalChange {
    pub id: PrincipalId,
    /// The new roles, realm and attributes, when they change.
    pub profile: Option<PrincipalProfile>,
    /// Enabled or disabled, when that changes (disabling voids its tokens).
    pub enabled: Option<bool>,
    /// A password for a principal that holds none: written only if it
    /// still holds none when the batch commits, so an import never replaces
    /// a password.
    pub password: Option<StoredPassword>,
}

/// A change to an access key that exists: its state and expiry, as a
/// whole. Not applied to a key that is revoked by then (revoked is final).
#[derive(Debug, Clone)]
pub struct AccessKeyChange {
    pub id: CredentialId,
    pub state: AccessKeyState,
    pub expires_at: Option<OffsetDateTime>,
}

/// One batch of an import's writes, committed together.
#[derive(Debug, Clone, Default)]
pub struct ImportBatch {
    pub principals: Vec<NewPrincipal>,
    pub api_keys: Vec<ApiKeyRecord>,
    pub access_keys: Vec<AccessKeyRecord>,
    pub principal_changes: Vec<PrincipalChange>,
    /// New expiry times of API keys (not applied to revoked ones).
    pub api_key_expiries: Vec<(CredentialId, Option<OffsetDateTime>)>,
    pub access_key_changes: Vec<AccessKeyChange>,
    /// When the batch is written (a principal disabled now voids the tokens
    /// issued until then).
    pub at: Option<OffsetDateTime>,
}

impl ImportBatch {
    pub fn is_empty(&self) -> bool {
        self.principals.is_empty()
            && self.api_keys.is_empty()
            && self.access_keys.is_empty()
            && self.principal_changes.is_empty()
            && self.api_key_expiries.is_empty()
            && self.access_key_changes.is_empty()
    }
}

/// What a batch actually created. A row that somebody else created first
/// (a name, id or key taken between the batch's lookup and its commit) is
/// not among them, and neither is a key or change of a principal that was
/// therefore not created.
#[derive(Debug, Clone, Default)]
pub struct ImportWritten {
    pub principals: Vec<PrincipalId>,
    pub api_keys: Vec<CredentialId>,
    pub access_keys: Vec<CredentialId>,
}

#[async_trait]
pub trait ImportStore: Send + Sync + 'static {
    /// Everything stored that the lookup names, in a few queries.
    async fn import_lookup(&self, lookup: &ImportLookup) -> Result<ImportFound, StoreError>;
    /// Writes the batch in one transaction: inserts that find their row
    /// taken do nothing (`ON CONFLICT DO NOTHING`), and the change counter
    /// moves when keys were created or anything changed, so that every node
    /// learns the new keys and forgets what changed.
    async fn import_batch(&self, batch: ImportBatch) -> Result<ImportWritten, StoreError>;
}
