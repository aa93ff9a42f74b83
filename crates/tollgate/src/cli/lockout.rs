//! `tollgate lockout list|clear`: names locked after password guessing
//! (DESIGN.md §9).

use clap::Subcommand;
use serde_json::json;
use tollgate_core::{AdminContext, AdminService};

use tollgate_http::admin::views::LockoutView;

use super::output::{done, out, print_json};

#[derive(Debug, Subcommand)]
pub enum LockoutCommand {
    /// List principals with failed logins counted or a lock running (names nobody holds are
    /// counted in each server's memory: see the admin API)
    List,
    /// Clear a name's count and lock
    Clear { name: String },
}

impl LockoutCommand {
    pub async fn run(self, admin: &AdminService, json: bool) -> anyhow::Result<()> {
        match self {
            LockoutCommand::List => {
                let views: Vec<LockoutView> =
                    admin.list_lockouts().await?.iter().map(LockoutView::from).collect();
                if json {
                    print_json(&views);
                } else if views.is_empty() {
                    out!("no name is locked or has failed logins counted");
                } else {
                    for view in &views {
                        out!(
                            "{}\t{} failures\tlocked until {}",
                            view.name,
                            view.failures,
                            view.locked_until.as_deref().unwrap_or("-")
                        );
                    }
                }
            }
            LockoutCommand::Clear { name } => {
                let cleared = admin.clear_lockout(&AdminContext::cli(), &name).await?;
                let message = if cleared {
                    format!("cleared the lockout of {name}")
                } else {
                    format!("{name} had no lockout")
                };
                done(json, &message, json!({ "name": name, "cleared": cleared }));
            }
        }
        Ok(())
    }
}
