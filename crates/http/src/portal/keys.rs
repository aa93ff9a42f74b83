//! A principal's API keys (contract B) and access keys (contract C):
//! issue and create — the secret shown once, as the answer to the POST
//! that made it, never stored and never shown again — change an access
//! key's state, roll it with a grace period, revoke.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use time::OffsetDateTime;
use tollgate_core::admin::AccessKeySpec;
use tollgate_core::model::AccessKeyState;

use super::csrf::{Action, FormFields};
use super::page::{Layout, PortalError, Stamp, is_refusal, refusal_status, render, user_message};
use super::principals::{after_action, principal_page};
use super::session::{Admin, plane, sessions};
use crate::AppState;

/// Longest grace a roll may give the old key (as the admin API allows).
pub(super) const MAX_GRACE_SECONDS: u64 = crate::admin::MAX_GRACE_SECONDS;

/// Longest expiry a form may set, in days (about ten years).
const MAX_DAYS: u32 = 3660;

/// One value shown once, with a copy button.
struct SecretField {
    field_id: &'static str,
    label: &'static str,
    value: String,
}

#[derive(Template)]
#[template(path = "portal/secret.html")]
struct SecretPage {
    layout: Layout,
    heading: &'static str,
    what: &'static str,
    principal: String,
    principal_id: String,
    facts: Vec<(&'static str, String)>,
    secrets: Vec<SecretField>,
}

/// The page that shows a new secret. It is the response to the POST that
/// created it (`Cache-Control: no-store` like every page): a reload asks
/// to send the form again, and a GET of any URL never shows it.
fn secret_page(admin: &Admin, page: SecretPage) -> Response {
    let page = SecretPage { layout: Layout::new(page.heading, "principals", Some(admin)), ..page };
    render(StatusCode::CREATED, &page)
}

fn expiry_fact(expires_at: Option<OffsetDateTime>) -> String {
    expires_at.map_or_else(|| "never".to_owned(), |at| Stamp::of(at).human)
}

/// What a form that makes a secret answers when it is sent again.
const SENT_AGAIN: &str = "This form was sent already (reloading the page that showed a secret sends it again), \
    so nothing new was made: the key it made is listed below. Its secret was shown once and is not shown again.";

/// Spends the form's one-time id; when it was spent already (a reload
/// sent the form again), the principal's page saying so.
async fn sent_again(
    state: &AppState,
    admin: &Admin,
    form: &FormFields,
    principal_id: &str,
) -> Result<Option<Response>, PortalError> {
    if sessions(state)?.spend_form(admin.session.expose(), form.text("once")).await? {
        return Ok(None);
    }
    let page =
        principal_page(state, admin, principal_id, StatusCode::CONFLICT, None, Some(SENT_AGAIN.into()))
            .await?;
    Ok(Some(page))
}

/// `expires_in_days`: empty for never, else a whole number of days ahead.
fn expiry(form: &FormFields, now: OffsetDateTime) -> Result<Option<OffsetDateTime>, String> {
    let text = form.text("expires_in_days").trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u32>() {
        Ok(days) if (1..=MAX_DAYS).contains(&days) => Ok(Some(tollgate_core::time_util::add(
            now,
            std::time::Duration::from_secs(u64::from(days) * 86_400),
        ))),
        _ => Err(format!("The expiry is a whole number of days from 1 to {MAX_DAYS}, or empty for never.")),
    }
}

/// `POST /principals/{id}/api-keys`: issues a key and shows it once.
pub(super) async fn issue_api_key(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Action { admin, form }: Action,
) -> Result<Response, PortalError> {
    let service = &plane(&state)?.service;
    let principal = service.find_principal(&id).await?;
    let id = principal.id.to_string();
    let expires_at = match expiry(&form, service.now()) {
        Ok(expires_at) => expires_at,
        Err(message) => {
            return principal_page(&state, &admin, &id, StatusCode::BAD_REQUEST, None, Some(message)).await;
        }
    };
    if let Some(page) = sent_again(&state, &admin, &form, &id).await? {
        return Ok(page);
    }
    let issued = match service.issue_api_key(&admin.context, &id, expires_at).await {
        Ok(issued) => issued,
        Err(err) if is_refusal(&err) => {
            return principal_page(&state, &admin, &id, refusal_status(&err), None, Some(user_message(&err)))
                .await;
        }
        Err(err) => return Err(err.into()),
    };
    Ok(secret_page(
        &admin,
        SecretPage {
            layout: Layout::new("", "", None),
            heading: "API key issued",
            what: "the API key",
            principal: issued.principal.clone(),
            principal_id: id,
            facts: vec![
                ("Key id", issued.id.to_string()),
                ("Created", Stamp::of(issued.created_at).human),
                ("Expires", expiry_fact(issued.expires_at)),
            ],
            secrets: vec![SecretField {
                field_id: "api-key",
                label: "API key (contract B's ApiKey)",
                value: issued.api_key.expose().to_owned(),
            }],
        },
    ))
}

/// `POST /principals/{id}/access-keys`: creates a key and shows its secret
/// once.
pub(super) async fn create_access_key(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Action { admin, form }: Action,
) -> Result<Response, PortalError> {
    let service = &plane(&state)?.service;
    let principal = service.find_principal(&id).await?;
    let id = principal.id.to_string();
    let refused =
        |message: String| principal_page(&state, &admin, &id, StatusCode::BAD_REQUEST, None, Some(message));
    let key_state = match form.text("state") {
        "" | "active" => AccessKeyState::Active,
        "pending" => AccessKeyState::Pending,
        _ => return refused("A new access key is active or pending.".into()).await,
    };
    let expires_at = match expiry(&form, service.now()) {
        Ok(expires_at) => expires_at,
        Err(message) => return refused(message).await,
    };
    if let Some(page) = sent_again(&state, &admin, &form, &id).await? {
        return Ok(page);
    }
    let spec = AccessKeySpec {
        principal: id.clone(),
        state: Some(key_state),
        expires_at,
        ..AccessKeySpec::default()
    };
    let created = match service.create_access_key(&admin.context, spec).await {
        Ok(Some(created)) => created,
        Ok(None) => return refused("A generated key collided with another; try again.".into()).await,
        Err(err) if is_refusal(&err) => return refused(user_message(&err)).await,
        Err(err) => return Err(err.into()),
    };
    Ok(secret_page(&admin, access_key_page("Access key created", id, &created, Vec::new())))
}

fn access_key_page(
    heading: &'static str,
    principal_id: String,
    created: &tollgate_core::admin::CreatedAccessKey,
    mut facts: Vec<(&'static str, String)>,
) -> SecretPage {
    facts.splice(
        0..0,
        [
            ("Key id", created.id.to_string()),
            ("State", created.state.as_str().to_owned()),
            ("Expires", expiry_fact(created.expires_at)),
        ],
    );
    SecretPage {
        layout: Layout::new("", "", None),
        heading,
        what: "the secret",
        principal: created.principal.clone(),
        principal_id,
        facts,
        secrets: vec![
            SecretField {
                field_id: "access-key",
                label: "Access key (contract C's accessKey; OAuth 2.0 client_id)",
                value: created.access_key.clone(),
            },
            SecretField {
                field_id: "secret",
                label: "Secret (contract C's secret; OAuth 2.0 client_secret)",
                value: created.secret.expose().to_owned(),
            },
        ],
    }
}

/// `POST /access-keys/{id}/roll` (`grace_seconds`): a new key and secret
/// for the same principal, shown once; the old key expires after the grace.
pub(super) async fn roll_access_key(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Action { admin, form }: Action,
) -> Result<Response, PortalError> {
    let service = &plane(&state)?.service;
    let old = service.find_access_key(&id).await?;
    let principal_id = old.principal.id.to_string();
    let grace = match form.text("grace_seconds").trim().parse::<u64>() {
        Ok(seconds) if seconds <= MAX_GRACE_SECONDS => std::time::Duration::from_secs(seconds),
        _ => {
            let message =
                format!("The grace period is a whole number of seconds from 0 to {MAX_GRACE_SECONDS}.");
            return principal_page(
                &state,
                &admin,
                &principal_id,
                StatusCode::BAD_REQUEST,
                None,
                Some(message),
            )
            .await;
        }
    };
    if let Some(page) = sent_again(&state, &admin, &form, &principal_id).await? {
        return Ok(page);
    }
    let created = match service.roll_access_key(&admin.context, &old.id.to_string(), grace).await {
        Ok(created) => created,
        Err(err) if is_refusal(&err) => {
            let status = refusal_status(&err);
            return principal_page(&state, &admin, &principal_id, status, None, Some(user_message(&err)))
                .await;
        }
        Err(err) => return Err(err.into()),
    };
    let old_ends = service.access_key(&old.id.to_string()).await.ok().and_then(|key| key.expires_at);
    let facts =
        vec![("Replaces", old.access_key.clone()), ("The replaced key works until", expiry_fact(old_ends))];
    Ok(secret_page(&admin, access_key_page("Access key rolled", principal_id, &created, facts)))
}

/// `POST /access-keys/{id}/state` (`state`): as the admin API's PATCH of
/// the key's state; `revoked` is final.
pub(super) async fn set_access_key_state(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Action { admin, form }: Action,
) -> Result<Response, PortalError> {
    let service = &plane(&state)?.service;
    let key = service.find_access_key(&id).await?;
    let principal_id = key.principal.id.to_string();
    let Some(wanted) = AccessKeyState::parse(form.text("state")) else {
        let message = "The state is pending, active, expired or revoked.".to_owned();
        return principal_page(&state, &admin, &principal_id, StatusCode::BAD_REQUEST, None, Some(message))
            .await;
    };
    let result = service.update_access_key(&admin.context, &key.id.to_string(), Some(wanted), None).await;
    after_action(&state, &admin, &principal_id, result, |changed| {
        if changed.state == AccessKeyState::Revoked { "key-revoked" } else { "key-state" }
    })
    .await
}

/// `POST /api-keys/{id}/revoke` (`principal`: whose page to return to).
pub(super) async fn revoke_api_key(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Action { admin, form }: Action,
) -> Result<Response, PortalError> {
    let service = &plane(&state)?.service;
    // Only an id names the page to go back to: never a URL from the form.
    let principal = uuid::Uuid::parse_str(form.text("principal"))
        .map_err(|_| PortalError::BadRequest("The form does not say whose key this is.".into()))?;
    let result = service.revoke_api_key(&admin.context, &id).await;
    after_action(&state, &admin, &principal.to_string(), result, |_| "apikey-revoked").await
}
