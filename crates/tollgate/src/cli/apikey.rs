//! `tollgate apikey issue|list|revoke` (contract B's keys).

use clap::Subcommand;
use serde_json::json;
use time::OffsetDateTime;
use tollgate_core::time_util::now;
use tollgate_core::{AdminContext, AdminService};

use tollgate_http::admin::views::{ApiKeyView, IssuedApiKeyView};

use super::output::{done, out, print_json, without};

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

impl ApiKeyCommand {
    pub async fn run(self, admin: &AdminService, json: bool) -> anyhow::Result<()> {
        let context = AdminContext::cli();
        match self {
            ApiKeyCommand::Issue { name, expires } => {
                let issued = admin.issue_api_key(&context, &name, expires).await?;
                let view = IssuedApiKeyView::from(&issued);
                let human = format!(
                    "API key for {}: {}\n  id: {}\n  (shown once: it is stored only as a keyed hash)",
                    view.principal, view.api_key, view.id
                );
                done(json, &human, without(&view, &["createdAt"]));
            }
            ApiKeyCommand::List { name } => {
                let keys = admin.list_api_keys(&name).await?;
                let views: Vec<ApiKeyView> = keys.iter().map(ApiKeyView::from).collect();
                if json {
                    print_json(&views);
                } else {
                    for k in &views {
                        out!(
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
