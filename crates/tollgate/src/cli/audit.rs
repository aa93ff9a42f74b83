//! `tollgate audit list`: the audit trail, newest first.

use clap::Subcommand;
use tollgate_core::AdminService;
use tollgate_core::audit::AuditQuery;

use tollgate_http::admin::views::AuditEventView;

use super::output::{out, print_json};

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

impl AuditCommand {
    pub async fn run(self, admin: &AdminService, json: bool) -> anyhow::Result<()> {
        let AuditCommand::List { action, actor, target, limit } = self;
        let events = admin
            .audit_events(&AuditQuery {
                action,
                actor,
                target,
                before_id: None,
                limit: limit.min(tollgate_core::admin::MAX_PAGE),
            })
            .await?;
        let views: Vec<AuditEventView> = events.iter().map(AuditEventView::from).collect();
        if json {
            print_json(&views);
        } else {
            for view in &views {
                out!(
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
