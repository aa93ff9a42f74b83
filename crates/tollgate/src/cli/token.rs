//! `tollgate token revoke`.

use anyhow::bail;
use clap::{ArgGroup, Subcommand};
use serde_json::json;
use tollgate_core::{AdminContext, AdminService};

use super::output::done;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Revoke one token (access, refresh or JWT), every token of a principal, or
    /// every token issued with one key
    #[command(group(ArgGroup::new("what").required(true).args(["token", "principal", "key"])))]
    Revoke {
        /// The token to revoke (a refresh token revokes its whole session)
        token: Option<String>,
        /// Revoke every token the principal holds now
        #[arg(long, value_name = "NAME")]
        principal: Option<String>,
        /// Revoke every token issued so far with this key (its id, or an access key's 40-hex accessKey); the key stays usable
        #[arg(long, value_name = "KEY")]
        key: Option<String>,
    },
}

impl TokenCommand {
    pub async fn run(self, admin: &AdminService, json: bool) -> anyhow::Result<()> {
        let context = AdminContext::cli();
        let TokenCommand::Revoke { token, principal, key } = self;
        if let Some(key) = key {
            let id = admin.revoke_key_tokens(&context, &key).await?;
            let message = format!("revoked every token issued with key {id}");
            done(json, &message, json!({ "revoked": true, "key": id.to_string() }));
            return Ok(());
        }
        if let Some(name) = principal {
            let principal = admin.revoke_principal_tokens(&context, &name).await?;
            let message = format!("revoked every token of {name}");
            done(json, &message, json!({ "revoked": true, "principal": principal.name }));
            return Ok(());
        }
        let Some(token) = token else { bail!("name a token, --principal or --key") };
        if !admin.revoke_token(&context, &token).await? {
            bail!("no such token (or a JWT that is invalid or expired already)");
        }
        done(json, "token revoked", json!({ "revoked": true }));
        Ok(())
    }
}
