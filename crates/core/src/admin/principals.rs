//! Operator actions on principals and their passwords. Validation of
//! operator input lives here, once, for every entry point.

use std::collections::BTreeMap;

use super::{AdminError, AdminService, blocking};
use crate::context::AdminContext;
use crate::error::StoreError;
use crate::model::{NewPrincipal, Principal, PrincipalId, PrincipalProfile, StoredPassword};
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
    /// Created disabled (it can log in once enabled).
    pub disabled: bool,
}

/// A change to a principal, as a JSON merge patch (RFC 7396) describes it:
/// `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct PrincipalPatch {
    pub roles: Option<Vec<String>>,
    /// `Some(None)` removes the realm.
    pub realm: Option<Option<String>>,
    /// Each attribute named: `Some` sets it, `None` removes it.
    pub attributes: Option<AttributesPatch>,
    pub enabled: Option<bool>,
    /// `Some(None)` removes the password (the principal logs in with keys
    /// only).
    pub password: Option<Option<Password>>,
}

/// A merge patch of the attributes.
#[derive(Debug, Clone)]
pub enum AttributesPatch {
    /// `"attributes": null`: every attribute goes.
    Clear,
    /// Set (`Some`) or remove (`None`) the attributes named.
    Merge(BTreeMap<String, Option<String>>),
}

impl PrincipalPatch {
    /// The fields it changes, as the audit row names them (never a value:
    /// a password must not reach the audit trail).
    fn fields(&self) -> Vec<&'static str> {
        let mut fields = Vec::new();
        for (name, present) in [
            ("roles", self.roles.is_some()),
            ("realm", self.realm.is_some()),
            ("attributes", self.attributes.is_some()),
            ("enabled", self.enabled.is_some()),
        ] {
            if present {
                fields.push(name);
            }
        }
        fields
    }
}

/// Most principals one page of a search holds.
pub const MAX_PRINCIPALS_PAGE: u32 = 1000;

/// Fewest characters (code points) of a password an operator sets.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Whether a password's length is checked: always, except for `--demo`'s
/// documented ones (`1234`, `admin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PasswordRule {
    Enforced,
    DemoExempt,
}

fn invalid(field: &'static str, message: impl Into<String>) -> AdminError {
    AdminError::InvalidField { field, message: message.into() }
}

/// Text that travels in headers and claims: no control characters.
fn plain_text(text: &str) -> bool {
    !text.chars().any(char::is_control)
}

/// Checks an operator's principal, and puts its name in normal form (NFC).
pub(super) fn check_spec(spec: &mut PrincipalSpec, rule: PasswordRule) -> Result<(), AdminError> {
    spec.name = crate::names::canonical_new_name(&spec.name)
        .map_err(|err| invalid("name", format!("invalid principal name: {err}")))?;
    for role in &spec.roles {
        // Roles travel comma-joined in X-Auth-Roles.
        if role.is_empty() || role.contains(',') || !plain_text(role) {
            return Err(invalid(
                "roles",
                format!("invalid role {role:?}: roles are non-empty, without commas"),
            ));
        }
    }
    if let Some(realm) = &spec.realm
        && (realm.is_empty() || !plain_text(realm))
    {
        return Err(invalid("realm", "a realm must be non-empty text"));
    }
    for (key, value) in &spec.attributes {
        if key.is_empty() || RESERVED_CLAIMS.contains(&key.as_str()) || !plain_text(key) {
            return Err(invalid(
                "attributes",
                format!("attribute {key:?} is not allowed: it is empty or a claim Tollgate sets itself"),
            ));
        }
        if !plain_text(value) {
            return Err(invalid(
                "attributes",
                format!("attribute {key:?}: its value holds a control character"),
            ));
        }
    }
    if let Some(password) = &spec.password {
        check_password(password, rule)?;
    }
    Ok(())
}

fn check_password(password: &Password, rule: PasswordRule) -> Result<(), AdminError> {
    if password.expose().is_empty() {
        return Err(invalid("password", "the password is empty"));
    }
    if rule == PasswordRule::Enforced && password.expose().chars().count() < MIN_PASSWORD_CHARS {
        return Err(invalid("password", format!("a password has at least {MIN_PASSWORD_CHARS} characters")));
    }
    Ok(())
}

async fn hash(password: Option<Password>) -> Result<Option<StoredPassword>, AdminError> {
    let Some(password) = password else {
        return Ok(None);
    };
    let hashed = blocking(move || crate::password::hash_password(&password)).await?;
    Ok(Some(StoredPassword::argon2id(hashed.map_err(AdminError::Hashing)?)))
}

impl AdminService {
    async fn new_principal(
        &self,
        mut spec: PrincipalSpec,
        rule: PasswordRule,
    ) -> Result<NewPrincipal, AdminError> {
        check_spec(&mut spec, rule)?;
        // Names that differ only in letter case or Unicode form (`USER`,
        // `user`; NFC and NFD `café`) would be two principals to a program
        // and one to a person: the second is refused.
        let folded = crate::names::collision_key(&spec.name);
        if let Some(existing) = self.store.principal_by_collision_key(&folded).await? {
            return Err(AdminError::NameTaken(existing.name));
        }
        if let Some(id) = spec.id
            && self.store.principal_by_id(id).await?.is_some()
        {
            return Err(AdminError::IdTaken(id.to_string()));
        }
        Ok(NewPrincipal {
            id: spec.id.unwrap_or_default(),
            password: hash(spec.password).await?,
            name_key: folded,
            name: spec.name,
            roles: spec.roles,
            realm: spec.realm,
            attributes: spec.attributes,
            enabled: !spec.disabled,
            created_at: self.now(),
        })
    }

    pub async fn add_principal(
        &self,
        context: &AdminContext,
        spec: PrincipalSpec,
    ) -> Result<Principal, AdminError> {
        let new = self.new_principal(spec, PasswordRule::Enforced).await?;
        let name = new.name.clone();
        let principal = self.store.create_principal(new).await.map_err(|err| match err {
            StoreError::Conflict(_) => AdminError::NameTaken(name),
            other => other.into(),
        })?;
        self.audit(context, "principal.create", &principal.name, None).await;
        Ok(principal)
    }

    /// Adds the principal unless one of that name exists (demo seeding, with
    /// the documents' own short passwords; safe when several processes do it
    /// at once). `true` if it was created.
    pub async fn ensure_principal(
        &self,
        context: &AdminContext,
        spec: PrincipalSpec,
    ) -> Result<bool, AdminError> {
        if self.store.principal_by_name(&spec.name).await?.is_some() {
            return Ok(false);
        }
        let name = spec.name.clone();
        let new = match self.new_principal(spec, PasswordRule::DemoExempt).await {
            // Another process seeding at once got there first.
            Err(AdminError::NameTaken(_) | AdminError::IdTaken(_)) => return Ok(false),
            other => other?,
        };
        let created = self.store.create_principal_if_absent(new).await?;
        if created {
            self.audit(context, "principal.create", &name, None).await;
        }
        Ok(created)
    }

    /// The principal `reference` names: its id, or else its name.
    pub async fn find_principal(&self, reference: &str) -> Result<Principal, AdminError> {
        let no_such = || AdminError::NoSuchPrincipal(reference.to_owned());
        if let Ok(id) = uuid::Uuid::parse_str(reference.trim())
            && let Some(principal) = self.store.principal_by_id(PrincipalId(id)).await?
        {
            return Ok(principal);
        }
        // A name no principal can have is not even looked up.
        let lookup = crate::names::login_name(reference).ok_or_else(no_such)?;
        self.store.principal_by_name(&lookup).await?.ok_or_else(no_such)
    }

    pub async fn list_principals(&self) -> Result<Vec<Principal>, AdminError> {
        Ok(self.store.list_principals().await?)
    }

    /// A page of the principals whose name starts with `prefix`, by name,
    /// after the name `after`.
    pub async fn search_principals(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Principal>, AdminError> {
        let prefix = unicode_normalization::UnicodeNormalization::nfc(prefix).collect::<String>();
        // One more than a page: whether another page follows.
        Ok(self.store.search_principals(&prefix, after, limit.clamp(1, MAX_PRINCIPALS_PAGE + 1)).await?)
    }

    /// Applies a merge patch to a principal: its profile (roles, realm,
    /// attributes), whether it is enabled, its password. Validated whole
    /// before anything is written.
    pub async fn update_principal(
        &self,
        context: &AdminContext,
        reference: &str,
        patch: PrincipalPatch,
    ) -> Result<Principal, AdminError> {
        let principal = self.find_principal(reference).await?;
        let mut profile = PrincipalProfile {
            roles: principal.roles.clone(),
            realm: principal.realm.clone(),
            attributes: principal.attributes.clone(),
        };
        if let Some(roles) = &patch.roles {
            profile.roles = roles.clone();
        }
        if let Some(realm) = &patch.realm {
            profile.realm = realm.clone();
        }
        match &patch.attributes {
            None => {}
            Some(AttributesPatch::Clear) => profile.attributes.clear(),
            Some(AttributesPatch::Merge(changes)) => {
                for (key, value) in changes {
                    match value {
                        Some(value) => profile.attributes.insert(key.clone(), value.clone()),
                        None => profile.attributes.remove(key),
                    };
                }
            }
        }
        let mut spec = PrincipalSpec {
            name: principal.name.clone(),
            roles: profile.roles.clone(),
            realm: profile.realm.clone(),
            attributes: profile.attributes.clone(),
            ..Default::default()
        };
        check_spec(&mut spec, PasswordRule::Enforced)?;
        let password = match patch.password.clone() {
            Some(Some(password)) => {
                check_password(&password, PasswordRule::Enforced)?;
                Some(hash(Some(password)).await?)
            }
            Some(None) => Some(None),
            None => None,
        };

        let fields = patch.fields();
        let profile_changed = patch.roles.is_some() || patch.realm.is_some() || patch.attributes.is_some();
        if profile_changed && !self.store.update_profile(principal.id, &profile).await? {
            return Err(AdminError::NoSuchPrincipal(reference.to_owned()));
        }
        let mut updated = Principal {
            roles: profile.roles,
            realm: profile.realm,
            attributes: profile.attributes,
            ..principal
        };
        if let Some(enabled) = patch.enabled
            && enabled != updated.enabled
        {
            let now = self.now();
            self.store.set_enabled(updated.id, enabled, now).await?;
            updated.enabled = enabled;
            if !enabled {
                updated.tokens_revoked_at = Some(now);
            }
        }
        if !fields.is_empty() {
            self.changed();
            let details = serde_json::json!({ "fields": fields });
            self.audit(context, "principal.update", &updated.name, Some(details)).await;
        }
        if let Some(password) = password {
            updated.password_format = password.as_ref().map(|stored| stored.format.clone());
            self.store.set_password(updated.id, password).await?;
            self.audit(context, "password.set", &updated.name, None).await;
        }
        Ok(updated)
    }

    pub async fn set_password(
        &self,
        context: &AdminContext,
        name: &str,
        password: Password,
    ) -> Result<(), AdminError> {
        check_password(&password, PasswordRule::Enforced)?;
        let principal = self.find_principal(name).await?;
        self.store.set_password(principal.id, hash(Some(password)).await?).await?;
        self.audit(context, "password.set", &principal.name, None).await;
        Ok(())
    }

    pub async fn set_enabled(
        &self,
        context: &AdminContext,
        name: &str,
        enabled: bool,
    ) -> Result<Principal, AdminError> {
        let principal = self.find_principal(name).await?;
        let now = self.now();
        self.store.set_enabled(principal.id, enabled, now).await?;
        self.changed();
        self.audit(context, "principal.update", &principal.name, None).await;
        let tokens_revoked_at = if enabled { principal.tokens_revoked_at } else { Some(now) };
        Ok(Principal { enabled, tokens_revoked_at, ..principal })
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
        self.audit(context, "principal.delete", &principal.name, None).await;
        Ok(principal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(spec: PrincipalSpec) -> Result<String, AdminError> {
        let mut spec = spec;
        check_spec(&mut spec, PasswordRule::Enforced).map(|()| spec.name)
    }

    #[test]
    fn names_roles_and_attributes_are_validated() {
        let ok = PrincipalSpec { name: "alice".into(), ..Default::default() };
        assert!(check(ok.clone()).is_ok());
        assert!(check(PrincipalSpec { name: "".into(), ..Default::default() }).is_err());
        assert!(check(PrincipalSpec { name: " a".into(), ..Default::default() }).is_err());
        assert!(check(PrincipalSpec { roles: vec!["a,b".into()], ..ok.clone() }).is_err());
        let reserved = BTreeMap::from([("exp".to_owned(), "1".to_owned())]);
        assert!(check(PrincipalSpec { attributes: reserved, ..ok.clone() }).is_err());
        let nul = BTreeMap::from([("domain".to_owned(), "a\u{0}b".to_owned())]);
        assert!(check(PrincipalSpec { attributes: nul, ..ok.clone() }).is_err());
        let free = BTreeMap::from([("domain".to_owned(), "/partners".to_owned())]);
        assert!(check(PrincipalSpec { attributes: free, ..ok }).is_ok());
    }

    #[test]
    fn names_are_stored_in_nfc_and_confusing_ones_refused() {
        let named = |name: &str| check(PrincipalSpec { name: name.into(), ..Default::default() });
        assert_eq!(named("cafe\u{301}").expect("NFD accepted"), "caf\u{e9}");
        for refused in ["\u{430}dmin", "us\u{200b}er", "user\u{202e}", "a\u{0}b"] {
            assert!(named(refused).is_err(), "{refused:?}");
        }
    }

    #[test]
    fn passwords_an_operator_sets_have_eight_characters_unless_demo() {
        let with = |password: &str| PrincipalSpec {
            name: "alice".into(),
            password: Some(Password::new(password)),
            ..Default::default()
        };
        assert!(check(with("1234567")).is_err());
        assert!(check(with("12345678")).is_ok());
        assert!(check(with("ééééééé\u{e9}")).is_ok(), "code points, not bytes");
        assert!(check_spec(&mut with("1234"), PasswordRule::DemoExempt).is_ok());
    }
}
