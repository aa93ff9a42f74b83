//! `tollgate apikey issue|list|revoke` (contract B's keys).

use clap::Subcommand;
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;
use tollgate_core::model::ApiKeyStatus;
use tollgate_core::time_util::now;
use tollgate_core::{AdminContext, AdminService};

use super::output::{done, print_json, rfc3339};

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Issue a new API key for a principal; the key is printed once, never again
    Issue {
        name: String,
        /// When the key stops working: a duration from now (30d, 12h) or an RFC 3339 instant
        #[arg(long, value_name = "WHEN", value_parser = parse_expiry)]
        expires: Option<OffsetDateTime>,
    },
    /// List a principal's keys (ids, creation and last-use times; never the key)
    List { name: String },
    /// Revoke a key by its id; tokens issued with it stop working too
    Revoke { id: String },
}

/// `30d`-style durations from now, or an RFC 3339 instant.
pub(crate) fn parse_expiry(text: &str) -> Result<OffsetDateTime, String> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(at);
    }
    let duration = crate::config::parse_duration(text)
        .map_err(|_| format!("{text:?} is neither a duration (30d, 12h) nor an RFC 3339 instant"))?;
    Ok(tollgate_core::time_util::add(now(), duration))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IssuedView {
    id: String,
    principal: String,
    api_key: String,
    expires_at: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KeyView {
    id: String,
    principal: String,
    state: &'static str,
    created_at: String,
    last_used_at: Option<String>,
    expires_at: Option<String>,
    revoked_at: Option<String>,
}

impl From<&ApiKeyStatus> for KeyView {
    fn from(status: &ApiKeyStatus) -> Self {
        let key = &status.key;
        Self {
            id: key.id.to_string(),
            principal: key.principal_name.clone(),
            state: status.state.as_str(),
            created_at: rfc3339(key.created_at),
            last_used_at: key.last_used_at.map(rfc3339),
            expires_at: key.expires_at.map(rfc3339),
            revoked_at: key.revoked_at.map(rfc3339),
        }
    }
}

impl ApiKeyCommand {
    pub async fn run(self, admin: &AdminService, json: bool) -> anyhow::Result<()> {
        let context = AdminContext::cli();
        match self {
            ApiKeyCommand::Issue { name, expires } => {
                let issued = admin.issue_api_key(&context, &name, expires).await?;
                let view = IssuedView {
                    id: issued.id.to_string(),
                    principal: issued.principal,
                    api_key: issued.api_key.expose().to_owned(),
                    expires_at: issued.expires_at.map(rfc3339),
                };
                let human = format!(
                    "API key for {}: {}\n  id: {}\n  (shown once: it is stored only as a keyed hash)",
                    view.principal, view.api_key, view.id
                );
                done(json, &human, view);
            }
            ApiKeyCommand::List { name } => {
                let keys = admin.list_api_keys(&name).await?;
                let views: Vec<KeyView> = keys.iter().map(KeyView::from).collect();
                if json {
                    print_json(&views);
                } else {
                    for k in &views {
                        println!(
                            "{}\t{}\tcreated {}\tlast used {}\texpires {}",
                            k.id,
                            k.state,
                            k.created_at,
                            k.last_used_at.as_deref().unwrap_or("never"),
                            k.expires_at.as_deref().unwrap_or("never"),
                        );
                    }
                }
            }
            ApiKeyCommand::Revoke { id } => {
                let id = admin.revoke_api_key(&context, &id).await?;
                done(
                    json,
                    &format!("revoked API key {id}"),
                    json!({ "id": id.to_string(), "revoked": true }),
                );
            }
        }
        Ok(())
    }
}
