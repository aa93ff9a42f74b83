//! `/audit`: the audit trail, newest first, filtered by action and actor.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use tollgate_core::audit::{ACTIONS, AuditQuery};

use super::csrf::FormFields;
use super::page::{Layout, PortalError, Stamp, render};
use super::session::{Admin, plane};
use crate::AppState;

/// Events per page.
const PAGE: u32 = 50;

struct EventRow {
    at: Stamp,
    actor: String,
    action: String,
    target: Option<String>,
    source_ip: Option<String>,
    details: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/audit.html")]
struct AuditPage {
    layout: Layout,
    actions: &'static [&'static str],
    filter_action: String,
    filter_actor: String,
    filtered: bool,
    events: Vec<EventRow>,
    first_page: Option<String>,
    next_page: Option<String>,
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// `GET /audit?action=&actor=&before=`.
pub(super) async fn list(
    State(state): State<AppState>,
    admin: Admin,
    query: FormFields,
) -> Result<Response, PortalError> {
    // Only actions that exist are filtered on; anything else shows all.
    let action = query.get("action").filter(|action| ACTIONS.contains(action)).unwrap_or_default().to_owned();
    let actor = query.text("actor").trim().to_owned();
    let before_id = query.get("before").and_then(|before| before.parse::<i64>().ok());
    let audit_query = AuditQuery {
        action: (!action.is_empty()).then(|| action.clone()),
        actor: (!actor.is_empty()).then(|| actor.clone()),
        target: None,
        before_id,
        limit: PAGE + 1,
    };
    let mut events = plane(&state)?.service.audit_events(&audit_query).await?;
    let more = events.len() > PAGE as usize;
    events.truncate(PAGE as usize);
    let filters = format!("action={}&actor={}", encode(&action), encode(&actor));
    let next_page = match (more, events.last()) {
        (true, Some(last)) => Some(format!("/audit?{filters}&before={}", last.id)),
        _ => None,
    };
    let events = events
        .iter()
        .map(|event| EventRow {
            at: Stamp::of(event.at),
            actor: event.actor.clone(),
            action: event.action.clone(),
            target: event.target.clone(),
            source_ip: event.source_ip.clone(),
            details: event.details.as_ref().map(serde_json::Value::to_string),
        })
        .collect();
    let page = AuditPage {
        layout: Layout::new("Audit log", "audit", Some(&admin)),
        actions: ACTIONS,
        filtered: !action.is_empty() || !actor.is_empty(),
        filter_action: action,
        filter_actor: actor,
        events,
        first_page: before_id.map(|_| format!("/audit?{filters}")),
        next_page,
    };
    Ok(render(StatusCode::OK, &page))
}
