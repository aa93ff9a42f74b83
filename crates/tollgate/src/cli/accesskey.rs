//! `tollgate accesskey create|list|set-state` (contract C's keys, which are
//! also OAuth 2.0 clients).

use clap::Subcommand;
use time::OffsetDateTime;
use tollgate_core::admin::AccessKeySpec;
use tollgate_core::model::AccessKeyState;
use tollgate_core::{AdminContext, AdminService};

use super::apikey::parse_expiry;
use tollgate_http::admin::views::{AccessKeyView, CreatedAccessKeyView};

use super::output::{done, out, print_json, without};

#[derive(Debug, Subcommand)]
pub enum AccessKeyCommand {
    /// Create an access key for a principal; the secret is printed once, never again
    Create {
        name: String,
        /// Initial state
        #[arg(long, default_value = "active", value_parser = ["active", "pending"])]
        state: String,
        /// When the key expires: a duration from now (30d, 12h) or an RFC 3339 instant
        #[arg(long, value_name = "WHEN", value_parser = parse_expiry)]
        expires: Option<OffsetDateTime>,
    },
    /// List access keys (all, or one principal's); never the secret
    List { name: Option<String> },
    /// Move a key to another state (KEY: the 40-hex accessKey or the key's id); revoked is final
    SetState {
        key: String,
        #[arg(value_parser = ["active", "pending", "expired", "revoked"])]
        state: String,
    },
}

fn parse_state(text: &str) -> anyhow::Result<AccessKeyState> {
    AccessKeyState::parse(text).ok_or_else(|| anyhow::anyhow!("unknown state {text:?}"))
}

impl AccessKeyCommand {
    pub async fn run(self, admin: &AdminService, json: bool) -> anyhow::Result<()> {
        let context = AdminContext::cli();
        match self {
            AccessKeyCommand::Create { name, state, expires } => {
                let spec = AccessKeySpec {
                    principal: name,
                    state: Some(parse_state(&state)?),
                    expires_at: expires,
                    ..Default::default()
                };
                let created = admin.create_access_key(&context, spec).await?.ok_or_else(|| {
                    anyhow::anyhow!("a generated key collided with an existing one; try again")
                })?;
                let view = CreatedAccessKeyView::from(&created);
                let human = format!(
                    "access key for {} ({})\n  accessKey: {}\n  secret:    {}\n  id:        {}\n  (the secret is shown once: it is stored only as a keyed hash)",
                    view.principal, view.state, view.access_key, view.secret, view.id
                );
                done(json, &human, without(&view, &["createdAt"]));
            }
            AccessKeyCommand::List { name } => {
                let keys = admin.list_access_keys(name.as_deref()).await?;
                let views: Vec<AccessKeyView> = keys.iter().map(AccessKeyView::from).collect();
                if json {
                    print_json(&views);
                } else {
                    for k in &views {
                        out!(
                            "{}\t{}\t{}\t{}\tlast used {}\texpires {}",
                            k.access_key,
                            k.id,
                            k.principal,
                            k.state,
                            k.last_used_at.as_deref().unwrap_or("never"),
                            k.expires_at.as_deref().unwrap_or("never"),
                        );
                    }
                }
            }
            AccessKeyCommand::SetState { key, state } => {
                let updated = admin.set_access_key_state(&context, &key, parse_state(&state)?).await?;
                let value = serde_json::json!({
                    "id": updated.id.to_string(),
                    "accessKey": updated.access_key,
                    "principal": updated.principal.name,
                    "state": updated.state.as_str(),
                });
                done(
                    json,
                    &format!("access key {} is now {}", updated.access_key, updated.state.as_str()),
                    value,
                );
            }
        }
        Ok(())
    }
}
