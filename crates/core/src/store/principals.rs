//! Storage of principals and their passwords.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::model::{NewPrincipal, Principal, PrincipalId, PrincipalProfile, StoredPassword};
use crate::protection::LockState;

#[async_trait]
pub trait PrincipalStore: Send + Sync + 'static {
    /// `Conflict` if the name is taken.
    async fn create_principal(&self, new: NewPrincipal) -> Result<Principal, StoreError>;
    /// Creates the principal unless one of that name exists; `true` if created.
    /// Safe when several processes seed the same database at once.
    async fn create_principal_if_absent(&self, new: NewPrincipal) -> Result<bool, StoreError>;
    async fn principal_by_name(&self, name: &str) -> Result<Option<Principal>, StoreError>;
    async fn principal_by_id(&self, id: PrincipalId) -> Result<Option<Principal>, StoreError>;
    /// Up to `limit` principals whose name starts with `prefix`, by name,
    /// after the name `after` (the previous page's last).
    async fn search_principals(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Principal>, StoreError>;
    /// Replaces the principal's roles, realm and attributes; `false` if no
    /// such principal.
    async fn update_profile(&self, id: PrincipalId, profile: &PrincipalProfile) -> Result<bool, StoreError>;
    /// The principal whose name folds to `key` (see `names::collision_key`).
    async fn principal_by_collision_key(&self, key: &str) -> Result<Option<Principal>, StoreError>;
    /// The principal and its password (if it has one).
    async fn password_of(
        &self,
        name: &str,
    ) -> Result<Option<(Principal, Option<StoredPassword>)>, StoreError>;
    async fn list_principals(&self) -> Result<Vec<Principal>, StoreError>;
    /// Enables or disables the principal; disabling at `at` also voids every
    /// token it holds, for good.
    async fn set_enabled(&self, id: PrincipalId, enabled: bool, at: OffsetDateTime)
    -> Result<(), StoreError>;
    async fn set_password(&self, id: PrincipalId, password: Option<StoredPassword>)
    -> Result<(), StoreError>;
    /// Replaces the stored hash `from` with `to` unless it changed meanwhile
    /// (another login upgraded it first); `true` if this call replaced it.
    async fn upgrade_password(
        &self,
        id: PrincipalId,
        from: &str,
        to: StoredPassword,
    ) -> Result<bool, StoreError>;
    /// Legacy credentials left (passwords and access-key secrets), by format.
    async fn legacy_credentials(&self) -> Result<Vec<(String, u64)>, StoreError>;
    /// Removes the principal and everything it holds (keys, sessions, tokens).
    async fn remove_principal(&self, id: PrincipalId) -> Result<(), StoreError>;
    /// Voids every token issued to the principal at or before `at`.
    async fn revoke_principal_tokens(&self, id: PrincipalId, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Keeps principals' lockout states (batched by the caller, off the
    /// request path).
    async fn save_lockouts(&self, states: &[(PrincipalId, LockState)]) -> Result<(), StoreError>;
    /// Principals with failures counted or a lock not yet over at `now`.
    async fn lockouts(&self, now: OffsetDateTime) -> Result<Vec<Principal>, StoreError>;
}
