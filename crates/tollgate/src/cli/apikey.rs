//! `tollgate apikey issue|list|revoke` (contract B's keys).

use clap::Subcommand;
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;
use tollgate_core::admin;
use tollgate_core::model::ApiKeyInfo;
use tollgate_core::time_util::now;
use tollgate_core::{ServerKeys, Store};

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

impl From<&ApiKeyInfo> for KeyView {
    fn from(key: &ApiKeyInfo) -> Self {
        let state = if key.revoked_at.is_some() {
            "revoked"
        } else if key.expires_at.is_some_and(|at| at <= now()) {
            "expired"
        } else {
            "active"
        };
        Self {
            id: key.id.to_string(),
            principal: key.principal_name.clone(),
            state,
            created_at: rfc3339(key.created_at),
            last_used_at: key.last_used_at.map(rfc3339),
            expires_at: key.expires_at.map(rfc3339),
            revoked_at: key.revoked_at.map(rfc3339),
        }
    }
}

impl ApiKeyCommand {
    pub async fn run(self, store: &dyn Store, keys: &ServerKeys, json: bool) -> anyhow::Result<()> {
        match self {
            ApiKeyCommand::Issue { name, expires } => {
                let issued = admin::issue_api_key(store, keys, &name, expires).await?;
                let view = IssuedView {
                    id: issued.id.to_string(),
                    principal: issued.principal,
                    api_key: issued.api_key,
                    expires_at: issued.expires_at.map(rfc3339),
                };
                let human = format!(
                    "API key for {}: {}\n  id: {}\n  (shown once: it is stored only as a keyed hash)",
                    view.principal, view.api_key, view.id
                );
                done(json, &human, view);
            }
            ApiKeyCommand::List { name } => {
                let keys = admin::list_api_keys(store, &name).await?;
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
                let id = admin::revoke_api_key(store, &id).await?;
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
