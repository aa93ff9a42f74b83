//! Operator actions on principals and their passwords, shared by the command
//! line and demo seeding. Validation of operator input lives here, once.

mod access_keys;
mod api_keys;
mod signing_keys;

use std::collections::BTreeMap;

use thiserror::Error;

use crate::error::StoreError;
use crate::model::{NewPrincipal, Principal};
use crate::store::Store;
use crate::time_util::now;

pub use access_keys::{
    AccessKeySpec, CreatedAccessKey, create_access_key, find_access_key, list_access_keys,
    set_access_key_state,
};
pub use api_keys::{
    IssuedApiKey, import_api_key, issue_api_key, list_api_keys, revoke_api_key, revoke_key_tokens,
};
pub use signing_keys::{list_signing_keys, rotate_signing_key};

/// Claim names Tollgate sets itself; an attribute may not shadow them.
pub const RESERVED_CLAIMS: &[&str] =
    &["uid", "ar", "ak", "realm", "iat", "exp", "nbf", "jti", "iss", "aud", "sub", "kid", "typ", "alg"];

#[derive(Debug, Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error("no principal named {0:?}")]
    NoSuchPrincipal(String),
    #[error("a principal named {0:?} already exists")]
    NameTaken(String),
    #[error("no key with id {0}")]
    NoSuchKey(String),
    #[error("could not hash the password: {0}")]
    Hashing(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for AdminError {
    fn from(err: StoreError) -> Self {
        AdminError::Store(err)
    }
}

/// What an operator asks for when adding a principal.
#[derive(Debug, Clone, Default)]
pub struct PrincipalSpec {
    /// Generated unless given (demo seeding reproduces the document's ids).
    pub id: Option<crate::model::PrincipalId>,
    pub name: String,
    pub password: Option<String>,
    pub roles: Vec<String>,
    pub realm: Option<String>,
    pub attributes: BTreeMap<String, String>,
}

fn check_name(name: &str) -> Result<(), AdminError> {
    if name.is_empty() || name.len() > 256 {
        return Err(AdminError::Invalid("a principal name must be 1 to 256 bytes long".into()));
    }
    if name.chars().any(char::is_control) || name.trim() != name {
        return Err(AdminError::Invalid(
            "a principal name may not contain control characters or surrounding spaces".into(),
        ));
    }
    Ok(())
}

fn check_spec(spec: &PrincipalSpec) -> Result<(), AdminError> {
    check_name(&spec.name)?;
    for role in &spec.roles {
        // Roles travel comma-joined in X-Auth-Roles.
        if role.is_empty() || role.contains(',') || role.chars().any(char::is_control) {
            return Err(AdminError::Invalid(format!(
                "invalid role {role:?}: roles are non-empty, without commas"
            )));
        }
    }
    if let Some(realm) = &spec.realm
        && (realm.is_empty() || realm.chars().any(char::is_control))
    {
        return Err(AdminError::Invalid("a realm must be non-empty text".into()));
    }
    for key in spec.attributes.keys() {
        if key.is_empty() || RESERVED_CLAIMS.contains(&key.as_str()) {
            return Err(AdminError::Invalid(format!(
                "attribute {key:?} is not allowed: it is empty or a claim Tollgate sets itself"
            )));
        }
    }
    if spec.password.as_deref() == Some("") {
        return Err(AdminError::Invalid("the password is empty".into()));
    }
    Ok(())
}

async fn hash(password: Option<String>) -> Result<Option<String>, AdminError> {
    let Some(password) = password else {
        return Ok(None);
    };
    let hashed = tokio::task::spawn_blocking(move || crate::password::hash_password(&password))
        .await
        .map_err(|e| AdminError::Hashing(e.to_string()))?
        .map_err(|e| AdminError::Hashing(e.to_string()))?;
    Ok(Some(hashed))
}

async fn new_principal(spec: PrincipalSpec) -> Result<NewPrincipal, AdminError> {
    check_spec(&spec)?;
    Ok(NewPrincipal {
        id: spec.id.unwrap_or_default(),
        password_hash: hash(spec.password).await?,
        name: spec.name,
        roles: spec.roles,
        realm: spec.realm,
        attributes: spec.attributes,
    })
}

pub async fn add_principal(store: &dyn Store, spec: PrincipalSpec) -> Result<Principal, AdminError> {
    let name = spec.name.clone();
    store.create_principal(new_principal(spec).await?).await.map_err(|err| match err {
        StoreError::Conflict(_) => AdminError::NameTaken(name),
        other => other.into(),
    })
}

/// Adds the principal unless one of that name exists (demo seeding; safe when
/// several processes do it at once). `true` if it was created.
pub async fn ensure_principal(store: &dyn Store, spec: PrincipalSpec) -> Result<bool, AdminError> {
    if store.principal_by_name(&spec.name).await?.is_some() {
        return Ok(false);
    }
    Ok(store.create_principal_if_absent(new_principal(spec).await?).await?)
}

pub async fn find_principal(store: &dyn Store, name: &str) -> Result<Principal, AdminError> {
    store.principal_by_name(name).await?.ok_or_else(|| AdminError::NoSuchPrincipal(name.to_owned()))
}

pub async fn set_password(store: &dyn Store, name: &str, password: String) -> Result<(), AdminError> {
    if password.is_empty() {
        return Err(AdminError::Invalid("the password is empty".into()));
    }
    let principal = find_principal(store, name).await?;
    store.set_password(principal.id, hash(Some(password)).await?).await?;
    Ok(())
}

pub async fn set_enabled(store: &dyn Store, name: &str, enabled: bool) -> Result<Principal, AdminError> {
    let principal = find_principal(store, name).await?;
    store.set_enabled(principal.id, enabled).await?;
    Ok(Principal { enabled, ..principal })
}

pub async fn remove_principal(store: &dyn Store, name: &str) -> Result<Principal, AdminError> {
    let principal = find_principal(store, name).await?;
    store.remove_principal(principal.id).await?;
    Ok(principal)
}

pub async fn revoke_principal_tokens(store: &dyn Store, name: &str) -> Result<Principal, AdminError> {
    let principal = find_principal(store, name).await?;
    store.revoke_principal_tokens(principal.id, now()).await?;
    Ok(principal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_roles_and_attributes_are_validated() {
        let ok = PrincipalSpec { name: "alice".into(), ..Default::default() };
        assert!(check_spec(&ok).is_ok());
        assert!(check_spec(&PrincipalSpec { name: "".into(), ..Default::default() }).is_err());
        assert!(check_spec(&PrincipalSpec { name: " a".into(), ..Default::default() }).is_err());
        assert!(check_spec(&PrincipalSpec { roles: vec!["a,b".into()], ..ok.clone() }).is_err());
        let reserved = BTreeMap::from([("exp".to_owned(), "1".to_owned())]);
        assert!(check_spec(&PrincipalSpec { attributes: reserved, ..ok.clone() }).is_err());
        let free = BTreeMap::from([("domain".to_owned(), "/partners".to_owned())]);
        assert!(check_spec(&PrincipalSpec { attributes: free, ..ok }).is_ok());
    }
}
