//! `tollgate principal …` and `tollgate password …`.

use std::collections::BTreeMap;

use clap::Subcommand;
use serde_json::json;
use tollgate_core::admin::PrincipalSpec;
use tollgate_core::{AdminContext, AdminService};

use super::output::{describe_principal, done, out, principal_view, print_json};
use super::password_input::read_password;

#[derive(Debug, Subcommand)]
pub enum PrincipalCommand {
    /// Add a principal (asks for a password unless --password-stdin or --no-password)
    Add {
        name: String,
        /// Read the password from one line of standard input
        #[arg(long, conflicts_with = "no_password")]
        password_stdin: bool,
        /// Create the principal without a password (it logs in with keys only)
        #[arg(long)]
        no_password: bool,
        /// A role (repeatable); becomes `ar` and X-Auth-Roles
        #[arg(long = "role", value_name = "R")]
        roles: Vec<String>,
        /// An attribute that becomes a claim, e.g. --attr domain=/partners (repeatable)
        #[arg(long = "attr", value_name = "KEY=VALUE", value_parser = parse_attribute)]
        attributes: Vec<(String, String)>,
        /// The principal's realm
        #[arg(long, value_name = "R")]
        realm: Option<String>,
    },
    /// List principals
    List,
    /// Show one principal
    Show { name: String },
    /// Disable a principal: its logins fail and its tokens stop working
    Disable { name: String },
    /// Enable a disabled principal again
    Enable { name: String },
    /// Remove a principal and everything it holds
    Remove { name: String },
}

#[derive(Debug, Subcommand)]
pub enum PasswordCommand {
    /// Set (or replace) a principal's password
    Set {
        name: String,
        /// Read the password from one line of standard input
        #[arg(long)]
        password_stdin: bool,
    },
}

fn parse_attribute(text: &str) -> Result<(String, String), String> {
    let (key, value) = text.split_once('=').ok_or_else(|| format!("{text:?} is not KEY=VALUE"))?;
    Ok((key.trim().to_owned(), value.to_owned()))
}

impl PrincipalCommand {
    pub async fn run(self, admin: &AdminService, json: bool) -> anyhow::Result<()> {
        let context = AdminContext::cli();
        match self {
            PrincipalCommand::Add { name, password_stdin, no_password, roles, attributes, realm } => {
                let password = if no_password { None } else { Some(read_password(password_stdin)?) };
                let attributes: BTreeMap<_, _> = attributes.into_iter().collect();
                let spec =
                    PrincipalSpec { id: None, name, password, roles, realm, attributes, disabled: false };
                let principal = admin.add_principal(&context, spec).await?;
                done(
                    json,
                    &format!("added principal {} ({})", principal.name, principal.id),
                    principal_view(&principal),
                );
            }
            PrincipalCommand::List => {
                let principals = admin.list_principals().await?;
                if json {
                    print_json(&principals.iter().map(principal_view).collect::<Vec<_>>());
                } else {
                    for p in &principals {
                        let state = if p.enabled { "enabled" } else { "disabled" };
                        out!("{}\t{}\t{}\t{}", p.id, p.name, state, p.roles.join(","));
                    }
                }
            }
            PrincipalCommand::Show { name } => {
                let principal = admin.find_principal(&name).await?;
                done(json, &describe_principal(&principal), principal_view(&principal));
            }
            PrincipalCommand::Disable { name } => {
                let principal = admin.set_enabled(&context, &name, false).await?;
                done(json, &format!("disabled principal {name}"), principal_view(&principal));
            }
            PrincipalCommand::Enable { name } => {
                let principal = admin.set_enabled(&context, &name, true).await?;
                done(json, &format!("enabled principal {name}"), principal_view(&principal));
            }
            PrincipalCommand::Remove { name } => {
                let principal = admin.remove_principal(&context, &name).await?;
                done(json, &format!("removed principal {name}"), principal_view(&principal));
            }
        }
        Ok(())
    }
}

impl PasswordCommand {
    pub async fn run(self, admin: &AdminService, json: bool) -> anyhow::Result<()> {
        let PasswordCommand::Set { name, password_stdin } = self;
        let password = read_password(password_stdin)?;
        admin.set_password(&AdminContext::cli(), &name, password).await?;
        done(json, &format!("password set for {name}"), json!({ "principal": name, "passwordSet": true }));
        Ok(())
    }
}
