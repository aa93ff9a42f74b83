//! `GET /admin/v1/audit-events`: the audit trail, newest first.

use axum::extract::State;
use tollgate_core::audit::AuditQuery;
use utoipa::IntoParams;

use super::caller::Caller;
use super::page::{Page, QueryParams, page_of};
use super::plane;
use super::problem::Problem;
use super::views::AuditEventView;
use crate::AppState;

/// Which events (each filter an exact match).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct AuditFilter {
    /// A dotted action, e.g. `principal.create`.
    action: Option<String>,
    /// An admin's name, `cli` or `system`.
    actor: Option<String>,
    /// The principal or key acted on.
    target: Option<String>,
    /// [50]; above 1000 counts as 1000.
    #[param(minimum = 1)]
    limit: Option<u64>,
    /// The previous page's `nextCursor`.
    cursor: Option<String>,
}

#[utoipa::path(
    get, path = "/admin/v1/audit-events", operation_id = "listAuditEvents", tag = "audit",
    params(AuditFilter),
    responses(
        (status = 200, description = "A page of events, newest first (by write order)", body = Page<AuditEventView>),
        (status = 400, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(_): Caller,
    params: QueryParams,
) -> Result<axum::Json<Page<AuditEventView>>, Problem> {
    let limit = params.limit()?;
    let before_id = match params.cursor()? {
        Some(text) => Some(
            text.parse::<i64>()
                .map_err(|_| Problem::invalid("/cursor", "The cursor is not one this server gave out."))?,
        ),
        None => None,
    };
    let text = |name: &str| params.get(name).filter(|value| !value.is_empty()).map(str::to_owned);
    let query = AuditQuery {
        action: text("action"),
        actor: text("actor"),
        target: text("target"),
        before_id,
        limit: limit.saturating_add(1),
    };
    let events = plane(&state)?.service.audit_events(&query).await?;
    Ok(axum::Json(page_of(events, limit, |event| event.id.to_string(), |event| AuditEventView::from(event))))
}
