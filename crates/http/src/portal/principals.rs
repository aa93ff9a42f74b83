//! Principals: find by name, create, and one principal's page — its
//! details, roles, realm and attributes, enabled or not, password, lock,
//! and its keys. Every change goes through the `AdminService` method the
//! admin API calls, which checks it and writes the same audit row.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use tollgate_core::admin::{AdminError, AttributesPatch, PrincipalPatch, PrincipalSpec};
use tollgate_core::portal::PortalSessions;
use tollgate_core::secret::Password;

use super::csrf::{Action, FormFields};
use super::page::{Layout, PortalError, Stamp, is_refusal, refusal_status, render, see_other, user_message};
use super::session::{Admin, plane};
use crate::AppState;

/// Principals per page of a search.
const PAGE: u32 = 25;

struct PrincipalRow {
    id: String,
    name: String,
    roles: String,
    realm: Option<String>,
    enabled: bool,
    locked: bool,
    created_at: Stamp,
}

#[derive(Template)]
#[template(path = "portal/principals.html")]
struct PrincipalsPage {
    layout: Layout,
    prefix: String,
    rows: Vec<PrincipalRow>,
    first_page: Option<String>,
    next_page: Option<String>,
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// `GET /principals?name=PREFIX&after=NAME`: a page of principals by name.
pub(super) async fn search(
    State(state): State<AppState>,
    admin: Admin,
    query: FormFields,
) -> Result<Response, PortalError> {
    let service = &plane(&state)?.service;
    let prefix = query.text("name").trim().to_owned();
    let after = query.get("after").filter(|after| !after.is_empty());
    let mut found = service.search_principals(&prefix, after, PAGE + 1).await?;
    let more = found.len() > PAGE as usize;
    found.truncate(PAGE as usize);
    let now = service.now();
    let next_page = match (more, found.last()) {
        (true, Some(last)) => {
            Some(format!("/principals?name={}&after={}", encode(&prefix), encode(&last.name)))
        }
        _ => None,
    };
    let rows = found
        .iter()
        .map(|p| PrincipalRow {
            id: p.id.to_string(),
            name: p.name.clone(),
            roles: p.roles.join(", "),
            realm: p.realm.clone(),
            enabled: p.enabled,
            locked: p.lockout.locked_until.is_some_and(|until| now < until),
            created_at: Stamp::of(p.created_at),
        })
        .collect();
    let page = PrincipalsPage {
        layout: Layout::new("Principals", "principals", Some(&admin)),
        first_page: after.map(|_| format!("/principals?name={}", encode(&prefix))),
        prefix,
        rows,
        next_page,
    };
    Ok(render(StatusCode::OK, &page))
}

/// What the new-principal form holds (shown again when it is refused; the
/// password never is).
struct NewPrincipalForm {
    name: String,
    roles: String,
    realm: String,
    attributes: String,
    enabled: bool,
}

#[derive(Template)]
#[template(path = "portal/principal_new.html")]
struct NewPrincipalPage {
    layout: Layout,
    form_token: String,
    form: NewPrincipalForm,
    admin_role: String,
}

/// `GET /principals/new`.
pub(super) async fn new_form(State(state): State<AppState>, admin: Admin) -> Result<Response, PortalError> {
    let form = NewPrincipalForm {
        name: String::new(),
        roles: String::new(),
        realm: String::new(),
        attributes: String::new(),
        enabled: true,
    };
    new_page(&state, &admin, form, StatusCode::OK, None)
}

fn new_page(
    state: &AppState,
    admin: &Admin,
    form: NewPrincipalForm,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, PortalError> {
    let page = NewPrincipalPage {
        layout: Layout::new("New principal", "principals", Some(admin)).with_error(error),
        form_token: admin.form_token.clone(),
        form,
        admin_role: plane(state)?.role.clone(),
    };
    Ok(render(status, &page))
}

/// Roles as a form writes them: separated by commas.
fn parse_roles(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|role| !role.is_empty()).map(str::to_owned).collect()
}

/// Attributes as a form writes them: one `key=value` per line.
fn parse_attributes(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut attributes = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("Line {} of the attributes is not key=value.", number + 1));
        };
        let key = key.trim();
        if attributes.insert(key.to_owned(), value.trim().to_owned()).is_some() {
            return Err(format!("The attribute {key:?} is given twice."));
        }
    }
    Ok(attributes)
}

fn attributes_text(attributes: &BTreeMap<String, String>) -> String {
    attributes.iter().map(|(key, value)| format!("{key}={value}\n")).collect()
}

/// An optional text field: empty means none.
fn optional(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// `POST /principals`: creates a principal, then shows it.
pub(super) async fn create(
    State(state): State<AppState>,
    Action { admin, form }: Action,
) -> Result<Response, PortalError> {
    let service = &plane(&state)?.service;
    let typed = NewPrincipalForm {
        // Surrounding spaces are never meant in a typed name.
        name: form.text("name").trim().to_owned(),
        roles: form.text("roles").to_owned(),
        realm: form.text("realm").to_owned(),
        attributes: form.text("attributes").to_owned(),
        enabled: form.get("enabled") == Some("true"),
    };
    let attributes = match parse_attributes(&typed.attributes) {
        Ok(attributes) => attributes,
        Err(message) => return new_page(&state, &admin, typed, StatusCode::BAD_REQUEST, Some(message)),
    };
    let spec = PrincipalSpec {
        name: typed.name.clone(),
        password: optional_password(form.text("password")),
        roles: parse_roles(&typed.roles),
        realm: optional(&typed.realm),
        attributes,
        disabled: !typed.enabled,
        ..PrincipalSpec::default()
    };
    match service.add_principal(&admin.context, spec).await {
        Ok(principal) => Ok(see_other(&format!("/principals/{}?notice=created", principal.id))),
        Err(err) if is_refusal(&err) => {
            new_page(&state, &admin, typed, refusal_status(&err), Some(user_message(&err)))
        }
        Err(err) => Err(err.into()),
    }
}

/// A password as a form sends it: empty means none. Not trimmed: spaces
/// may be part of a password.
fn optional_password(text: &str) -> Option<Password> {
    (!text.is_empty()).then(|| Password::new(text))
}

pub(super) struct PrincipalView {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub created_at: Stamp,
    pub roles: Vec<String>,
    pub roles_text: String,
    pub realm: Option<String>,
    pub realm_text: String,
    pub attributes: Vec<(String, String)>,
    pub attributes_text: String,
    pub password_format: Option<String>,
    pub locked_until: Option<Stamp>,
    pub failures: u32,
}

pub(super) struct ApiKeyRow {
    pub id: String,
    pub state: &'static str,
    pub created_at: Stamp,
    pub last_used: Option<Stamp>,
    pub expires_at: Option<Stamp>,
}

pub(super) struct AccessKeyRow {
    pub id: String,
    /// The one-time id of its roll form.
    pub once: String,
    pub access_key: String,
    pub state: &'static str,
    pub created_at: Stamp,
    pub last_used: Option<Stamp>,
    pub expires_at: Option<Stamp>,
}

#[derive(Template)]
#[template(path = "portal/principal.html")]
struct PrincipalPage {
    layout: Layout,
    form_token: String,
    p: PrincipalView,
    api_keys: Vec<ApiKeyRow>,
    access_keys: Vec<AccessKeyRow>,
    key_states: &'static [&'static str],
    max_grace: u64,
    /// One-time ids of the forms that make a secret (see `keys.rs`).
    once_api_key: String,
    once_access_key: String,
}

/// A principal's page, with what the last action did or why it did not.
pub(super) async fn principal_page(
    state: &AppState,
    admin: &Admin,
    reference: &str,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<String>,
) -> Result<Response, PortalError> {
    let service = &plane(state)?.service;
    let principal = service.find_principal(reference).await?;
    let id = principal.id.to_string();
    let api_keys = service.list_api_keys(&id).await?;
    let access_keys = service.list_access_keys(Some(&id)).await?;
    let now = service.now();
    let p = PrincipalView {
        id,
        enabled: principal.enabled,
        created_at: Stamp::of(principal.created_at),
        roles_text: principal.roles.join(", "),
        realm_text: principal.realm.clone().unwrap_or_default(),
        attributes: principal.attributes.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        attributes_text: attributes_text(&principal.attributes),
        password_format: principal.password_format.clone(),
        locked_until: Stamp::maybe(principal.lockout.locked_until.filter(|until| now < *until)),
        failures: principal.lockout.failures,
        roles: principal.roles,
        realm: principal.realm,
        name: principal.name,
    };
    let api_keys = api_keys
        .iter()
        .map(|status| ApiKeyRow {
            id: status.key.id.to_string(),
            state: status.state.as_str(),
            created_at: Stamp::of(status.key.created_at),
            last_used: Stamp::maybe(status.key.last_used_at),
            expires_at: Stamp::maybe(status.key.expires_at),
        })
        .collect();
    let access_keys = access_keys
        .iter()
        .map(|key| AccessKeyRow {
            id: key.id.to_string(),
            once: PortalSessions::new_form_id(),
            access_key: key.access_key.clone(),
            state: key.state.as_str(),
            created_at: Stamp::of(key.created_at),
            last_used: Stamp::maybe(key.last_used_at),
            expires_at: Stamp::maybe(key.expires_at),
        })
        .collect();
    let page = PrincipalPage {
        layout: Layout::new(p.name.clone(), "principals", Some(admin)).with_notice(notice).with_error(error),
        form_token: admin.form_token.clone(),
        p,
        api_keys,
        access_keys,
        key_states: &["pending", "active", "expired", "revoked"],
        max_grace: super::keys::MAX_GRACE_SECONDS,
        once_api_key: PortalSessions::new_form_id(),
        once_access_key: PortalSessions::new_form_id(),
    };
    Ok(render(status, &page))
}

/// `GET /principals/{id}` (its id, or its name).
pub(super) async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    query: FormFields,
) -> Result<Response, PortalError> {
    principal_page(&state, &admin, &id, StatusCode::OK, query.get("notice"), None).await
}

/// After an action on principal `id`: its page with `notice`, or — when
/// the service refused the change — the page again with the reason.
pub(super) async fn after_action<T>(
    state: &AppState,
    admin: &Admin,
    id: &str,
    result: Result<T, AdminError>,
    notice: impl FnOnce(T) -> &'static str,
) -> Result<Response, PortalError> {
    match result {
        Ok(done) => Ok(see_other(&format!("/principals/{}?notice={}", encode(id), notice(done)))),
        Err(err) if is_refusal(&err) => {
            principal_page(state, admin, id, refusal_status(&err), None, Some(user_message(&err))).await
        }
        Err(err) => Err(err.into()),
    }
}

/// `POST /principals/{id}/profile`: roles, realm and attributes, as the
/// admin API's merge patch sets them (only the fields that changed).
pub(super) async fn update_profile(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Action { admin, form }: Action,
) -> Result<Response, PortalError> {
    let service = &plane(&state)?.service;
    let current = service.find_principal(&id).await?;
    let id = current.id.to_string();
    let attributes = match parse_attributes(form.text("attributes")) {
        Ok(attributes) => attributes,
        Err(message) => {
            return principal_page(&state, &admin, &id, StatusCode::BAD_REQUEST, None, Some(message)).await;
        }
    };
    let roles = parse_roles(form.text("roles"));
    let realm = optional(form.text("realm"));
    let mut patch = PrincipalPatch::default();
    if roles != current.roles {
        patch.roles = Some(roles);
    }
    if realm != current.realm {
        patch.realm = Some(realm);
    }
    if attributes != current.attributes {
        // Set every attribute the form holds, remove those it dropped.
        let mut changes: BTreeMap<String, Option<String>> = current
            .attributes
            .keys()
            .filter(|key| !attributes.contains_key(*key))
            .map(|key| (key.clone(), None))
            .collect();
        changes.extend(attributes.into_iter().map(|(key, value)| (key, Some(value))));
        patch.attributes = Some(AttributesPatch::Merge(changes));
    }
    if patch.roles.is_none() && patch.realm.is_none() && patch.attributes.is_none() {
        return Ok(see_other(&format!("/principals/{id}?notice=unchanged")));
    }
    let result = service.update_principal(&admin.context, &id, patch).await;
    after_action(&state, &admin, &id, result, |_| "profile").await
}

/// `POST /principals/{id}/enabled` (`enabled=true|false`).
pub(super) async fn set_enabled(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Action { admin, form }: Action,
) -> Result<Response, PortalError> {
    let enabled = match form.text("enabled") {
        "true" => true,
        "false" => false,
        _ => return Err(PortalError::BadRequest("Choose enable or disable.".into())),
    };
    let service = &plane(&state)?.service;
    let patch = PrincipalPatch { enabled: Some(enabled), ..PrincipalPatch::default() };
    let result = service.update_principal(&admin.context, &id, patch).await;
    after_action(
        &state,
        &admin,
        &id,
        result,
        |principal| if principal.enabled { "enabled" } else { "disabled" },
    )
    .await
}

/// `POST /principals/{id}/password`.
pub(super) async fn set_password(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Action { admin, form }: Action,
) -> Result<Response, PortalError> {
    let service = &plane(&state)?.service;
    let Some(password) = optional_password(form.text("password")) else {
        let message = "Type the new password.".to_owned();
        return principal_page(&state, &admin, &id, StatusCode::BAD_REQUEST, None, Some(message)).await;
    };
    let patch = PrincipalPatch { password: Some(Some(password)), ..PrincipalPatch::default() };
    let result = service.update_principal(&admin.context, &id, patch).await;
    after_action(&state, &admin, &id, result, |_| "password").await
}

/// `POST /principals/{id}/unlock`: clears the name's failed logins and lock.
pub(super) async fn unlock(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Action { admin, .. }: Action,
) -> Result<Response, PortalError> {
    let service = &plane(&state)?.service;
    let principal = service.find_principal(&id).await?;
    let result = service.clear_lockout(&admin.context, &principal.name).await;
    let id = principal.id.to_string();
    after_action(&state, &admin, &id, result, |had| if had { "unlocked" } else { "not-locked" }).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_one_key_value_pair_a_line() {
        let parsed = parse_attributes("domain=/partners\r\n\n cid = 42 \nca=a=b").expect("parsed");
        assert_eq!(parsed.get("domain").map(String::as_str), Some("/partners"));
        assert_eq!(parsed.get("cid").map(String::as_str), Some("42"));
        assert_eq!(parsed.get("ca").map(String::as_str), Some("a=b"));
        assert!(parse_attributes("nokey").is_err());
        assert!(parse_attributes("a=1\na=2").is_err());
        assert_eq!(attributes_text(&parsed), "ca=a=b\ncid=42\ndomain=/partners\n");
    }

    #[test]
    fn roles_are_separated_by_commas() {
        assert_eq!(parse_roles(" a, b ,,c "), ["a", "b", "c"]);
        assert!(parse_roles(" ").is_empty());
    }
}
