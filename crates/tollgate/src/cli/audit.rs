//! `tollgate audit list`: the audit trail, newest first.

use clap::Subcommand;
use serde::Serialize;
use tollgate_core::AdminService;
use tollgate_core::audit::{AuditQuery, AuditRecord};

use super::output::{print_json, rfc3339};

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List audit events, newest first
    List {
        /// Only this action (e.g. principal.create, lockout.start)
        #[arg(long)]
        action: Option<String>,
        /// Only this actor (an admin's name, cli or system)
        #[arg(long)]
        actor: Option<String>,
        /// Only events about this principal or key
        #[arg(long)]
        target: Option<String>,
        /// How many at most (up to 1000)
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

/// An event as `--json` shows it (the admin API's shape).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuditView {
    id: i64,
    at: String,
    actor: String,
    action: String,
    target: Option<String>,
    source_ip: Option<String>,
    details: Option<serde_json::Value>,
}

impl From<&AuditRecord> for AuditView {
    fn from(event: &AuditRecord) -> Self {
        Self {
            id: event.id,
            at: rfc3339(event.at),
            actor: event.actor.clone(),
            action: event.action.clone(),
            target: event.target.clone(),
            source_ip: event.source_ip.clone(),
            details: event.details.clone(),
        }
    }
}

impl AuditCommand {
    pub async fn run(self, admin: &AdminService, json: bool) -> anyhow::Result<()> {
        let AuditCommand::List { action, actor, target, limit } = self;
        let events =
            admin.audit_events(&AuditQuery { action, actor, target, before_id: None, limit }).await?;
        let views: Vec<AuditView> = events.iter().map(AuditView::from).collect();
        if json {
            print_json(&views);
        } else {
            for view in &views {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    view.at,
                    view.actor,
                    view.action,
                    view.target.as_deref().unwrap_or("-"),
                    view.details.as_ref().map(ToString::to_string).unwrap_or_default()
                );
            }
        }
        Ok(())
    }
}
