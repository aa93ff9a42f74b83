//! `tollgate lockout list|clear`: names locked after password guessing
//! (DESIGN.md §9).

use clap::Subcommand;
use serde::Serialize;
use serde_json::json;
use tollgate_core::admin::Lockout;
use tollgate_core::{AdminContext, AdminService};

use super::output::{done, print_json, rfc3339};

#[derive(Debug, Subcommand)]
pub enum LockoutCommand {
    /// List principals with failed logins counted or a lock running (names nobody holds are
    /// counted in each server's memory: see the admin API)
    List,
    /// Clear a name's count and lock
    Clear { name: String },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LockoutView {
    name: String,
    failures: u32,
    locked_until: Option<String>,
}

impl From<&Lockout> for LockoutView {
    fn from(lockout: &Lockout) -> Self {
        Self {
            name: lockout.name.clone(),
            failures: lockout.failures,
            locked_until: lockout.locked_until.map(rfc3339),
        }
    }
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
                    println!("no name is locked or has failed logins counted");
                } else {
                    for view in &views {
                        println!(
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
