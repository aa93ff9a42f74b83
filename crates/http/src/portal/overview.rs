//! `/`: the deployment at a glance — principals, keys by state, keys
//! expiring within 7 days, logins per contract today, legacy credentials
//! left to migrate.

use std::time::Duration;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use tollgate_core::Contract;
use tollgate_core::store::Inventory;

use super::csrf::FormFields;
use super::page::{Layout, PortalError, Stamp, render};
use super::session::{Admin, plane};
use crate::AppState;

/// How far ahead "expiring soon" looks.
const HORIZON: Duration = Duration::from_secs(7 * 24 * 3600);

/// How many of the keys expiring soonest are listed.
const LISTED: u32 = 10;

struct ExpiringRow {
    expires_at: Stamp,
    kind: &'static str,
    label: String,
    principal_id: String,
    principal: String,
}

#[derive(Template)]
#[template(path = "portal/overview.html")]
struct OverviewPage {
    layout: Layout,
    now: String,
    horizon: String,
    inventory: Inventory,
    api_keys: Vec<(String, u64)>,
    access_keys: Vec<(String, u64)>,
    logins: Vec<(&'static str, u64)>,
    expiring: Vec<ExpiringRow>,
    more_expiring: bool,
}

/// How the overview names each contract.
fn contract_label(contract: Contract) -> &'static str {
    match contract {
        Contract::LoginCheck => "A — login_check",
        Contract::ApiKey => "B — API key",
        Contract::AccessKey => "C — access key",
        Contract::OAuth2 => "OAuth 2.0",
        Contract::Portal => "Portal sign-in",
    }
}

/// States in the order a key lives through them.
fn in_life_order(mut states: Vec<(String, u64)>) -> Vec<(String, u64)> {
    let rank = |state: &str| ["pending", "active", "expired", "revoked"].iter().position(|s| *s == state);
    states.sort_by_key(|(state, _)| rank(state).unwrap_or(usize::MAX));
    states
}

pub(super) async fn show(
    State(state): State<AppState>,
    admin: Admin,
    query: FormFields,
) -> Result<Response, PortalError> {
    let service = &plane(&state)?.service;
    let inventory = service.inventory(HORIZON, LISTED).await?;
    let now = service.now();
    let logins = state
        .service
        .tally()
        .today(now)
        .into_iter()
        .map(|(contract, count)| (contract_label(contract), count))
        .collect();
    let expiring = inventory
        .expiring_first
        .iter()
        .map(|key| ExpiringRow {
            expires_at: Stamp::of(key.expires_at),
            kind: if key.kind == "apikey" { "API key" } else { "Access key" },
            label: key.access_key.clone().unwrap_or_else(|| key.id.to_string()),
            principal_id: key.principal_id.to_string(),
            principal: key.principal.clone(),
        })
        .collect::<Vec<_>>();
    let page = OverviewPage {
        layout: Layout::new("Overview", "overview", Some(&admin)).with_notice(query.get("notice")),
        now: Stamp::of(now).human,
        horizon: Stamp::of(tollgate_core::time_util::add(now, HORIZON)).human,
        api_keys: in_life_order(inventory.api_keys.clone()),
        access_keys: in_life_order(inventory.access_keys.clone()),
        more_expiring: inventory.expiring > expiring.len() as u64,
        logins,
        expiring,
        inventory,
    };
    Ok(render(StatusCode::OK, &page))
}
