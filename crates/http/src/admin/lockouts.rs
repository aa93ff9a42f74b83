//! `/admin/v1/lockouts` (DESIGN.md §9): names with failed logins counted or
//! locked, and clearing them.

use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::caller::Caller;
use super::keys::Paging;
use super::page::{Page, QueryParams, page_in_memory};
use super::plane;
use super::problem::Problem;
use super::views::LockoutView;
use crate::AppState;

#[utoipa::path(
    get, path = "/admin/v1/lockouts", operation_id = "listLockouts", tag = "lockouts",
    params(Paging),
    responses(
        (status = 200, description = "A page of names with failures or a lock, by name", body = Page<LockoutView>),
        (status = 400, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(_): Caller,
    params: QueryParams,
) -> Result<axum::Json<Page<LockoutView>>, Problem> {
    let lockouts = plane(&state)?.service.list_lockouts().await?;
    Ok(axum::Json(page_in_memory(
        lockouts,
        &params,
        |lockout| lockout.name.clone(),
        |lockout| LockoutView::from(lockout),
    )?))
}

#[utoipa::path(
    delete, path = "/admin/v1/lockouts/{name}", operation_id = "clearLockout", tag = "lockouts",
    params(("name" = String, Path, description = "The name as it logs in")),
    responses(
        (status = 204, description = "Cleared: the name may log in again"),
        (status = 404, description = "No failures or lock counted for the name", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn clear(
    State(state): State<AppState>,
    Caller(context): Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, Problem> {
    if plane(&state)?.service.clear_lockout(&context, &name).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found(format!("No failed logins are counted for {name:?}.")))
    }
}
