//! Operator actions on principals and their passwords. Validation of
//! operator input lives here, once, for every entry point.

use std::collections::BTreeMap;

use super::{AdminError, AdminService, blocking};
use crate::context::AdminContext;
use crate::error::StoreError;
use crate::model::{NewPrincipal, Principal, PrincipalId};
use crate::secret::Password;

/// Claim names Tollgate sets itself; an attribute may not shadow them.
pub const RESERVED_CLAIMS: &[&str] =
    &["uid", "ar", "ak", "realm", "iat", "exp", "nbf", "jti", "iss", "aud", "sub", "kid", "typ", "alg"];

/// What an operator asks for when adding a principal.
#[derive(Debug, Clone, Default)]
pub struct PrincipalSpec {
    /// Generated unless given (demo seeding reproduces the document's ids).
    pub id: Option<PrincipalId>,
    pub name: String,
    pub password: Option<Password>,
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

/// Text that travels in headers and claims: no control characters.
fn plain_text(text: &str) -> bool {
    !text.chars().any(char::is_control)
}

fn check_spec(spec: &PrincipalSpec) -> Result<(), AdminError> {
    check_name(&spec.name)?;
    for role in &spec.roles {
        // Roles travel comma-joined in X-Auth-Roles.
        if role.is_empty() || role.contains(',') || !plain_text(role) {
            return Err(AdminError::Invalid(format!(
                "invalid role {role:?}: roles are non-empty, without commas"
            )));
        }
    }
    if let Some(realm) = &spec.realm
        && (realm.is_empty() || !plain_text(realm))
    {
        return Err(AdminError::Invalid("a realm must be non-empty text".into()));
    }
    for (key, value) in &spec.attributes {
        if key.is_empty() || RESERVED_CLAIMS.contains(&key.as_str()) || !plain_text(key) {
            return Err(AdminError::Invalid(format!(
                "attribute {key:?} is not allowed: it is empty or a claim Tollgate sets itself"
            )));
        }
        if !plain_text(value) {
            return Err(AdminError::Invalid(format!(
                "attribute {key:?}: its value holds a control character"
            )));
        }
    }
    if let Some(password) = &spec.password {
        check_password(password)?;
    }
    Ok(())
}

fn check_password(password: &Password) -> Result<(), AdminError> {
    if password.expose().is_empty() {
        return Err(AdminError::Invalid("the password is empty".into()));
    }
    Ok(())
}

async fn hash(password: Option<Password>) -> Result<Option<String>, AdminError> {
    let Some(password) = password else {
        return Ok(None);
    };
    let hashed = blocking(move || crate::password::hash_password(&password)).await?;
    Ok(Some(hashed.map_err(AdminError::Hashing)?))
}

impl AdminService {
    async fn new_principal(&self, spec: PrincipalSpec) -> Result<NewPrincipal, AdminError> {
        check_spec(&spec)?;
        Ok(NewPrincipal {
            id: spec.id.unwrap_or_default(),
            password_hash: hash(spec.password).await?,
            name: spec.name,
            roles: spec.roles,
            realm: spec.realm,
            attributes: spec.attributes,
            created_at: self.now(),
        })
    }

    pub async fn add_principal(
        &self,
        context: &AdminContext,
        spec: PrincipalSpec,
    ) -> Result<Principal, AdminError> {
        let name = spec.name.clone();
        let new = self.new_principal(spec).await?;
        let principal = self.store.create_principal(new).await.map_err(|err| match err {
            StoreError::Conflict(_) => AdminError::NameTaken(name),
            other => other.into(),
        })?;
        self.audit(context, "principal.create", &principal.name);
        Ok(principal)
    }

    /// Adds the principal unless one of that name exists (demo seeding; safe
    /// when several processes do it at once). `true` if it was created.
    pub async fn ensure_principal(
        &self,
        context: &AdminContext,
        spec: PrincipalSpec,
    ) -> Result<bool, AdminError> {
        if self.store.principal_by_name(&spec.name).await?.is_some() {
            return Ok(false);
        }
        let name = spec.name.clone();
        let created = self.store.create_principal_if_absent(self.new_principal(spec).await?).await?;
        if created {
            self.audit(context, "principal.create", &name);
        }
        Ok(created)
    }

    pub async fn find_principal(&self, name: &str) -> Result<Principal, AdminError> {
        let no_such = || AdminError::NoSuchPrincipal(name.to_owned());
        // A name no principal can have is not even looked up.
        let lookup = crate::names::login_name(name).ok_or_else(no_such)?;
        self.store.principal_by_name(&lookup).await?.ok_or_else(no_such)
    }

    pub async fn list_principals(&self) -> Result<Vec<Principal>, AdminError> {
        Ok(self.store.list_principals().await?)
    }

    pub async fn set_password(
        &self,
        context: &AdminContext,
        name: &str,
        password: Password,
    ) -> Result<(), AdminError> {
        check_password(&password)?;
        let principal = self.find_principal(name).await?;
        self.store.set_password(principal.id, hash(Some(password)).await?).await?;
        self.audit(context, "password.set", &principal.name);
        Ok(())
    }

    pub async fn set_enabled(
        &self,
        context: &AdminContext,
        name: &str,
        enabled: bool,
    ) -> Result<Principal, AdminError> {
        let principal = self.find_principal(name).await?;
        self.store.set_enabled(principal.id, enabled).await?;
        self.changed();
        self.audit(context, "principal.update", &principal.name);
        Ok(Principal { enabled, ..principal })
    }

    /// Removes the principal and everything it holds.
    pub async fn remove_principal(
        &self,
        context: &AdminContext,
        name: &str,
    ) -> Result<Principal, AdminError> {
        let principal = self.find_principal(name).await?;
        self.store.remove_principal(principal.id).await?;
        self.changed();
        self.audit(context, "principal.delete", &principal.name);
        Ok(principal)
    }
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
        let nul = BTreeMap::from([("domain".to_owned(), "a\u{0}b".to_owned())]);
        assert!(check_spec(&PrincipalSpec { attributes: nul, ..ok.clone() }).is_err());
        let free = BTreeMap::from([("domain".to_owned(), "/partners".to_owned())]);
        assert!(check_spec(&PrincipalSpec { attributes: free, ..ok }).is_ok());
    }
}
