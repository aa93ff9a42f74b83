//! `/admin/v1/principals`: create, search, read, merge-patch, delete.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value};
use tollgate_core::PrincipalId;
use tollgate_core::admin::{AttributesPatch, PrincipalPatch, PrincipalSpec};
use tollgate_core::secret::Password;
use utoipa::{IntoParams, ToSchema};

use super::body::{JsonBody, MergePatch, child};
use super::caller::Caller;
use super::page::{Page, QueryParams, page_of};
use super::problem::Problem;
use super::views::PrincipalView;
use super::{PRINCIPALS, plane};
use crate::AppState;

/// A principal to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewPrincipal {
    pub name: String,
    /// At least 8 characters; without one the principal logs in with keys
    /// only.
    #[schema(value_type = Option<String>, format = Password)]
    pub password: Option<String>,
    pub roles: Option<Vec<String>>,
    pub realm: Option<String>,
    pub attributes: Option<BTreeMap<String, String>>,
    /// [true]
    pub enabled: Option<bool>,
    /// Generated unless given (moving a principal in with its id).
    pub id: Option<uuid::Uuid>,
}

/// A JSON merge patch (RFC 7396) of a principal: members left out stay as
/// they are; `null` clears (`realm`, `password`, `attributes` or one
/// attribute).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct PrincipalChanges {
    roles: Option<Vec<String>>,
    realm: Option<String>,
    attributes: Option<BTreeMap<String, Option<String>>>,
    enabled: Option<bool>,
    #[schema(value_type = Option<String>, format = Password)]
    password: Option<String>,
}

/// `GET /admin/v1/principals`'s query.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PrincipalSearch {
    /// Only principals whose name starts with this.
    name: Option<String>,
    /// [50]; above 1000 counts as 1000.
    #[param(minimum = 1)]
    limit: Option<u64>,
    /// The previous page's `nextCursor`.
    cursor: Option<String>,
}

#[utoipa::path(
    post, path = "/admin/v1/principals", operation_id = "createPrincipal", tag = "principals",
    request_body = NewPrincipal,
    responses(
        (status = 201, description = "Created", body = PrincipalView,
         headers(("Location" = String, description = "The new principal's URL"))),
        (status = 400, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The name (or id) is taken", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(context): Caller,
    JsonBody(body): JsonBody<NewPrincipal>,
) -> Result<Response, Problem> {
    let admin = &plane(&state)?.service;
    let spec = PrincipalSpec {
        id: body.id.map(PrincipalId),
        name: body.name,
        password: body.password.map(Password::new),
        roles: body.roles.unwrap_or_default(),
        realm: body.realm,
        attributes: body.attributes.unwrap_or_default(),
        disabled: body.enabled == Some(false),
    };
    let principal = admin.add_principal(&context, spec).await?;
    let location =
        HeaderValue::try_from(format!("{PRINCIPALS}/{}", principal.id)).map_err(|_| Problem::internal())?;
    let view = PrincipalView::of(&principal, admin.now());
    Ok((StatusCode::CREATED, [(LOCATION, location)], axum::Json(view)).into_response())
}

#[utoipa::path(
    get, path = "/admin/v1/principals", operation_id = "searchPrincipals", tag = "principals",
    params(PrincipalSearch),
    responses(
        (status = 200, description = "A page of principals, by name", body = Page<PrincipalView>),
        (status = 400, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn search(
    State(state): State<AppState>,
    Caller(_): Caller,
    params: QueryParams,
) -> Result<axum::Json<Page<PrincipalView>>, Problem> {
    let admin = &plane(&state)?.service;
    let limit = params.limit()?;
    let after = params.cursor()?;
    let prefix = params.get("name").unwrap_or("");
    let rows = admin.search_principals(prefix, after.as_deref(), limit.saturating_add(1)).await?;
    let now = admin.now();
    Ok(axum::Json(page_of(rows, limit, |p| p.name.clone(), |p| PrincipalView::of(p, now))))
}

#[utoipa::path(
    get, path = "/admin/v1/principals/{id}", operation_id = "getPrincipal", tag = "principals",
    params(("id" = String, Path, description = "The principal's id, or its name")),
    responses(
        (status = 200, description = "The principal", body = PrincipalView),
        (status = 404, description = "No such principal", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    Caller(_): Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<PrincipalView>, Problem> {
    let admin = &plane(&state)?.service;
    let principal = admin.find_principal(&id).await?;
    Ok(axum::Json(PrincipalView::of(&principal, admin.now())))
}

#[utoipa::path(
    patch, path = "/admin/v1/principals/{id}", operation_id = "updatePrincipal", tag = "principals",
    params(("id" = String, Path, description = "The principal's id, or its name")),
    request_body(content(
        (PrincipalChanges = "application/merge-patch+json"),
        (PrincipalChanges = "application/json"),
    )),
    responses(
        (status = 200, description = "The principal as changed", body = PrincipalView),
        (status = 400, description = "Invalid patch", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such principal", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    Caller(context): Caller,
    Path(id): Path<String>,
    MergePatch(patch): MergePatch,
) -> Result<axum::Json<PrincipalView>, Problem> {
    let admin = &plane(&state)?.service;
    let patch = principal_patch(patch)?;
    let principal = admin.update_principal(&context, &id, patch).await?;
    Ok(axum::Json(PrincipalView::of(&principal, admin.now())))
}

#[utoipa::path(
    delete, path = "/admin/v1/principals/{id}", operation_id = "deletePrincipal", tag = "principals",
    params(("id" = String, Path, description = "The principal's id, or its name")),
    responses(
        (status = 204, description = "Deleted, with its keys and tokens"),
        (status = 404, description = "No such principal", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Caller(context): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    plane(&state)?.service.remove_principal(&context, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reads a merge patch of a principal, member by member.
fn principal_patch(members: Map<String, Value>) -> Result<PrincipalPatch, Problem> {
    let mut patch = PrincipalPatch::default();
    for (name, value) in members {
        let pointer = child("", &name);
        match name.as_str() {
            "roles" => {
                patch.roles = Some(match value {
                    Value::Null => Vec::new(),
                    Value::Array(items) => items
                        .into_iter()
                        .enumerate()
                        .map(|(i, item)| match item {
                            Value::String(role) => Ok(role),
                            _ => Err(Problem::invalid(format!("/roles/{i}"), "A role is a string.")),
                        })
                        .collect::<Result<_, _>>()?,
                    _ => return Err(Problem::invalid(pointer, "The roles are an array of strings.")),
                });
            }
            "realm" => patch.realm = Some(optional_string(value, &pointer, "The realm")?),
            "attributes" => {
                patch.attributes = Some(match value {
                    Value::Null => AttributesPatch::Clear,
                    Value::Object(entries) => AttributesPatch::Merge(
                        entries
                            .into_iter()
                            .map(|(key, value)| {
                                let at = child(&pointer, &key);
                                optional_string(value, &at, "An attribute").map(|value| (key, value))
                            })
                            .collect::<Result<_, _>>()?,
                    ),
                    _ => return Err(Problem::invalid(pointer, "The attributes are an object of strings.")),
                });
            }
            "enabled" => match value {
                Value::Bool(enabled) => patch.enabled = Some(enabled),
                _ => return Err(Problem::invalid(pointer, "enabled is true or false.")),
            },
            "password" => {
                patch.password = Some(optional_string(value, &pointer, "The password")?.map(Password::new));
            }
            _ => {
                return Err(Problem::invalid(
                    pointer,
                    format!(
                        "Unknown member {name:?}: a patch may change roles, realm, attributes, enabled, password."
                    ),
                ));
            }
        }
    }
    Ok(patch)
}

/// A string, or `null` for none.
fn optional_string(value: Value, pointer: &str, what: &str) -> Result<Option<String>, Problem> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) => Ok(Some(text)),
        _ => Err(Problem::invalid(pointer, format!("{what} is a string or null."))),
    }
}
