//! API keys (contract B) and access keys (contract C, OAuth 2.0 clients):
//! issue once-shown, list, revoke, change state and expiry, roll.

use axum::extract::{Path, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tollgate_core::admin::AccessKeySpec;
use tollgate_core::model::AccessKeyState;
use utoipa::{IntoParams, ToSchema};

use super::body::{JsonBody, MergePatch, child};
use super::caller::Caller;
use super::page::{Page, QueryParams, page_in_memory};
use super::problem::Problem;
use super::views::{AccessKeyView, ApiKeyView, CreatedAccessKeyView, IssuedApiKeyView};
use super::{ACCESS_KEYS, plane};
use crate::AppState;

/// An API key to issue.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewApiKey {
    /// When the key stops working (RFC 3339; in the future); never if left out.
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

/// An access key to create.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewAccessKey {
    /// `active` [default] or `pending`.
    #[schema(example = "active")]
    pub state: Option<String>,
    /// When the key expires (RFC 3339; in the future); never if left out.
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

/// A merge patch of an access key.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct AccessKeyChanges {
    /// `pending`, `active`, `expired` or `revoked` (final).
    state: Option<String>,
    /// `null`: never expires.
    #[schema(format = DateTime)]
    expires_at: Option<String>,
}

/// How to roll a key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Roll {
    /// How long the old key keeps working, in seconds.
    #[schema(minimum = 0)]
    pub grace_seconds: u64,
}

/// `GET /admin/v1/access-keys`'s query.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct AccessKeyList {
    /// Only this principal's keys (its id or its name).
    principal: Option<String>,
    /// [50]; above 1000 counts as 1000.
    #[param(minimum = 1)]
    limit: Option<u64>,
    /// The previous page's `nextCursor`.
    cursor: Option<String>,
}

/// A list's paging parameters.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct Paging {
    /// [50]; above 1000 counts as 1000.
    #[param(minimum = 1)]
    limit: Option<u64>,
    /// The previous page's `nextCursor`.
    cursor: Option<String>,
}

/// Longest grace a roll may give the old key: a year. Longer is no roll.
pub(crate) const MAX_GRACE_SECONDS: u64 = 366 * 24 * 3600;

#[utoipa::path(
    post, path = "/admin/v1/principals/{id}/api-keys", operation_id = "issueApiKey", tag = "api-keys",
    params(("id" = String, Path, description = "The principal's id, or its name")),
    request_body = NewApiKey,
    responses(
        (status = 201, description = "Issued; the key is shown only here", body = IssuedApiKeyView),
        (status = 400, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such principal", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn issue_api_key(
    State(state): State<AppState>,
    Caller(context): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NewApiKey>,
) -> Result<Response, Problem> {
    let admin = &plane(&state)?.service;
    let expires_at = future_time(body.expires_at.as_deref(), "/expiresAt", admin.now())?;
    let issued = admin.issue_api_key(&context, &id, expires_at).await?;
    Ok(once_shown((StatusCode::CREATED, axum::Json(IssuedApiKeyView::from(&issued))).into_response()))
}

#[utoipa::path(
    get, path = "/admin/v1/principals/{id}/api-keys", operation_id = "listApiKeys", tag = "api-keys",
    params(("id" = String, Path, description = "The principal's id, or its name"), Paging),
    responses(
        (status = 200, description = "A page of the principal's keys, oldest first", body = Page<ApiKeyView>),
        (status = 400, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such principal", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn list_api_keys(
    State(state): State<AppState>,
    Caller(_): Caller,
    Path(id): Path<String>,
    params: QueryParams,
) -> Result<axum::Json<Page<ApiKeyView>>, Problem> {
    let admin = &plane(&state)?.service;
    let keys = admin.list_api_keys(&id).await?;
    let position =
        |key: &tollgate_core::model::ApiKeyStatus| created_position(key.key.created_at, &key.key.id.0);
    Ok(axum::Json(page_in_memory(keys, &params, position, |key| ApiKeyView::from(key))?))
}

#[utoipa::path(
    delete, path = "/admin/v1/api-keys/{id}", operation_id = "revokeApiKey", tag = "api-keys",
    params(("id" = String, Path, description = "The key's id")),
    responses(
        (status = 204, description = "Revoked, with every token issued with it"),
        (status = 404, description = "No such key", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn revoke_api_key(
    State(state): State<AppState>,
    Caller(context): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    plane(&state)?.service.revoke_api_key(&context, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post, path = "/admin/v1/principals/{id}/access-keys", operation_id = "createAccessKey", tag = "access-keys",
    params(("id" = String, Path, description = "The principal's id, or its name")),
    request_body = NewAccessKey,
    responses(
        (status = 201, description = "Created; the secret is shown only here", body = CreatedAccessKeyView,
         headers(("Location" = String, description = "The new key's URL"))),
        (status = 400, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such principal", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn create_access_key(
    State(state): State<AppState>,
    Caller(context): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NewAccessKey>,
) -> Result<Response, Problem> {
    let admin = &plane(&state)?.service;
    let state_wanted = body.state.as_deref().map(|text| key_state(text, "/state")).transpose()?;
    let expires_at = future_time(body.expires_at.as_deref(), "/expiresAt", admin.now())?;
    let spec = AccessKeySpec { principal: id, state: state_wanted, expires_at, ..Default::default() };
    let created = admin.create_access_key(&context, spec).await?.ok_or_else(|| {
        Problem::new(StatusCode::CONFLICT, "A generated key collided with another; try again.")
    })?;
    created_access_key(&created)
}

fn created_access_key(created: &tollgate_core::admin::CreatedAccessKey) -> Result<Response, Problem> {
    let location =
        HeaderValue::try_from(format!("{ACCESS_KEYS}/{}", created.id.0)).map_err(|_| Problem::internal())?;
    Ok(once_shown(
        (StatusCode::CREATED, [(LOCATION, location)], axum::Json(CreatedAccessKeyView::from(created)))
            .into_response(),
    ))
}

/// A response holding a secret shown this once: no cache may keep it.
fn once_shown(mut response: Response) -> Response {
    response.headers_mut().insert(axum::http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[utoipa::path(
    get, path = "/admin/v1/access-keys", operation_id = "listAccessKeys", tag = "access-keys",
    params(AccessKeyList),
    responses(
        (status = 200, description = "A page of access keys", body = Page<AccessKeyView>),
        (status = 400, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such principal", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn list_access_keys(
    State(state): State<AppState>,
    Caller(_): Caller,
    params: QueryParams,
) -> Result<axum::Json<Page<AccessKeyView>>, Problem> {
    let admin = &plane(&state)?.service;
    let keys = admin.list_access_keys(params.get("principal")).await?;
    let position = |key: &tollgate_core::model::AccessKeyInfo| created_position(key.created_at, &key.id.0);
    Ok(axum::Json(page_in_memory(keys, &params, position, |key| AccessKeyView::from(key))?))
}

#[utoipa::path(
    get, path = "/admin/v1/access-keys/{id}", operation_id = "getAccessKey", tag = "access-keys",
    params(("id" = String, Path, description = "The key's id, or its 40-hex accessKey")),
    responses(
        (status = 200, description = "The key", body = AccessKeyView),
        (status = 404, description = "No such key", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn get_access_key(
    State(state): State<AppState>,
    Caller(_): Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<AccessKeyView>, Problem> {
    let key = plane(&state)?.service.access_key(&id).await?;
    Ok(axum::Json(AccessKeyView::from(&key)))
}

#[utoipa::path(
    patch, path = "/admin/v1/access-keys/{id}", operation_id = "updateAccessKey", tag = "access-keys",
    params(("id" = String, Path, description = "The key's id, or its 40-hex accessKey")),
    request_body(content(
        (AccessKeyChanges = "application/merge-patch+json"),
        (AccessKeyChanges = "application/json"),
    )),
    responses(
        (status = 200, description = "The key as changed", body = AccessKeyView),
        (status = 400, description = "Invalid patch", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The key is revoked, which is final", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn update_access_key(
    State(state): State<AppState>,
    Caller(context): Caller,
    Path(id): Path<String>,
    MergePatch(patch): MergePatch,
) -> Result<axum::Json<AccessKeyView>, Problem> {
    let admin = &plane(&state)?.service;
    let (state_wanted, expires_at) = access_key_patch(patch)?;
    let key = admin.update_access_key(&context, &id, state_wanted, expires_at).await?;
    Ok(axum::Json(AccessKeyView::from(&key)))
}

#[utoipa::path(
    post, path = "/admin/v1/access-keys/{id}/roll", operation_id = "rollAccessKey", tag = "access-keys",
    params(("id" = String, Path, description = "The key's id, or its 40-hex accessKey")),
    request_body = Roll,
    responses(
        (status = 201, description = "The new key; the old one expires after the grace", body = CreatedAccessKeyView,
         headers(("Location" = String, description = "The new key's URL"))),
        (status = 400, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The key is revoked", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn roll_access_key(
    State(state): State<AppState>,
    Caller(context): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Roll>,
) -> Result<Response, Problem> {
    if body.grace_seconds > MAX_GRACE_SECONDS {
        return Err(Problem::invalid(
            "/graceSeconds",
            format!("At most {MAX_GRACE_SECONDS} seconds (a year)."),
        ));
    }
    let grace = std::time::Duration::from_secs(body.grace_seconds);
    let created = plane(&state)?.service.roll_access_key(&context, &id, grace).await?;
    created_access_key(&created)
}

/// `(state, expiresAt)` from a merge patch of an access key.
type AccessKeyPatch = (Option<AccessKeyState>, Option<Option<OffsetDateTime>>);

fn access_key_patch(members: Map<String, Value>) -> Result<AccessKeyPatch, Problem> {
    let (mut state, mut expires_at) = (None, None);
    for (name, value) in members {
        let pointer = child("", &name);
        match (name.as_str(), value) {
            ("state", Value::String(text)) => state = Some(key_state(&text, &pointer)?),
            ("state", _) => return Err(Problem::invalid(pointer, "The state is a string.")),
            ("expiresAt", Value::Null) => expires_at = Some(None),
            ("expiresAt", Value::String(text)) => expires_at = Some(Some(instant(&text, &pointer)?)),
            ("expiresAt", _) => {
                return Err(Problem::invalid(pointer, "expiresAt is an RFC 3339 time or null."));
            }
            _ => {
                return Err(Problem::invalid(
                    pointer,
                    format!("Unknown member {name:?}: a patch may change state, expiresAt."),
                ));
            }
        }
    }
    Ok((state, expires_at))
}

fn key_state(text: &str, pointer: &str) -> Result<AccessKeyState, Problem> {
    AccessKeyState::parse(text)
        .ok_or_else(|| Problem::invalid(pointer, "The state is pending, active, expired or revoked."))
}

fn instant(text: &str, pointer: &str) -> Result<OffsetDateTime, Problem> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|_| Problem::invalid(pointer, "Not an RFC 3339 time (2027-01-31T00:00:00Z)."))
}

/// An optional instant that must lie ahead.
fn future_time(
    text: Option<&str>,
    pointer: &str,
    now: OffsetDateTime,
) -> Result<Option<OffsetDateTime>, Problem> {
    let Some(text) = text else { return Ok(None) };
    let at = instant(text, pointer)?;
    if at <= now {
        return Err(Problem::invalid(pointer, "The time has passed already."));
    }
    Ok(Some(at))
}

/// Sorts as keys were created (ids break ties): a list's position.
fn created_position(created_at: OffsetDateTime, id: &uuid::Uuid) -> String {
    format!("{:020}:{id}", tollgate_core::time_util::to_millis(created_at).max(0))
}
