//! `GET /admin/v1/openapi.json`: the admin API's OpenAPI 3.1 document,
//! generated from the handlers and their types, so it cannot drift from what
//! the server does.

use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use super::problem::PROBLEM_JSON;
use super::{OPENAPI_PATH, audit, import, keys, lockouts, principals, signing_keys, tokens};
use crate::health::METRICS_PATH;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tollgate admin API",
        description = "The management plane of Tollgate (DESIGN.md §8): principals, their API keys and \
                       access keys, token revocation, signing keys, lockouts, the audit trail and the bulk \
                       import of the legacy systems' records (§10). Every \
                       operation but this document and /metrics takes `Authorization: Bearer <token>`: \
                       any Tollgate token of an enabled principal holding the admin role.",
    ),
    paths(
        principals::create, principals::search, principals::get, principals::update, principals::delete,
        keys::issue_api_key, keys::list_api_keys, keys::revoke_api_key,
        keys::create_access_key, keys::list_access_keys, keys::get_access_key, keys::update_access_key,
        keys::roll_access_key,
        tokens::revoke,
        signing_keys::list, signing_keys::rotate,
        lockouts::list, lockouts::clear,
        audit::list,
        import::import_records,
        serve, metrics,
    ),
    components(schemas(super::problem::Problem, super::problem::FieldError)),
    modifiers(&Conventions),
)]
struct AdminApi;

/// The document, as served.
pub fn document() -> Document {
    AdminApi::openapi()
}

/// What every operation shares, added once instead of on each: the bearer
/// scheme and its 401/403/503 answers, and 413/415 wherever a body is read.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, openapi: &mut Document) {
        openapi.info.version = env!("CARGO_PKG_VERSION").to_owned();
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("Any Tollgate token (A, B, C or OAuth 2.0) of an administrator"))
                    .build(),
            ),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            let open = path == OPENAPI_PATH || path == METRICS_PATH;
            let operations = [
                item.get.as_mut(),
                item.post.as_mut(),
                item.patch.as_mut(),
                item.delete.as_mut(),
                item.put.as_mut(),
            ];
            for operation in operations.into_iter().flatten() {
                if !open {
                    secure(operation);
                }
                if operation.request_body.is_some() {
                    problem(operation, "413", "The body is larger than 1 MiB");
                    problem(operation, "415", "The body is not JSON");
                    problem(operation, "400", "Invalid body");
                }
            }
        }
    }
}

fn secure(operation: &mut Operation) {
    operation.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
    problem(operation, "401", "No bearer token, or not a valid one (WWW-Authenticate: Bearer)");
    problem(operation, "403", "The token's principal is not an administrator");
    problem(operation, "503", "The database cannot be reached");
}

/// Adds a problem+json answer unless the operation documents one already.
fn problem(operation: &mut Operation, status: &str, description: &str) {
    if operation.responses.responses.contains_key(status) {
        return;
    }
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
    let response = ResponseBuilder::new().description(description).content(PROBLEM_JSON, content).build();
    operation.responses.responses.insert(status.to_owned(), response.into());
}

#[utoipa::path(
    get, path = "/admin/v1/openapi.json", operation_id = "getOpenApi", tag = "meta",
    responses((status = 200, description = "This document", content_type = "application/json", body = Object)),
)]
pub(crate) async fn serve() -> Response {
    match document().to_json() {
        Ok(json) => ([(CONTENT_TYPE, "application/json")], json).into_response(),
        Err(_) => super::Problem::internal().into_response(),
    }
}

/// Documents `/metrics`, which `health::metrics` serves.
#[utoipa::path(
    get, path = "/metrics", operation_id = "getMetrics", tag = "meta",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)),
)]
#[allow(dead_code)]
fn metrics() {}
