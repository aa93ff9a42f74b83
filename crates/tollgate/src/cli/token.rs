//! `tollgate token revoke`.

use anyhow::bail;
use clap::{ArgGroup, Subcommand};
use serde_json::json;
use tollgate_core::Store;
use tollgate_core::admin;
use tollgate_core::secret::TokenHash;
use tollgate_core::time_util::now;

use super::output::done;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Revoke one token (access or refresh), or every token of a principal
    #[command(group(ArgGroup::new("what").required(true).args(["token", "principal"])))]
    Revoke {
        /// The token to revoke (a refresh token revokes its whole session)
        token: Option<String>,
        /// Revoke every token the principal holds now
        #[arg(long, value_name = "NAME")]
        principal: Option<String>,
    },
}

impl TokenCommand {
    pub async fn run(self, store: &dyn Store, json: bool) -> anyhow::Result<()> {
        let TokenCommand::Revoke { token, principal } = self;
        if let Some(name) = principal {
            let principal = admin::revoke_principal_tokens(store, &name).await?;
            let message = format!("revoked every token of {name}");
            done(
                json,
                &message,
                json!({ "revoked": true, "principal": principal.name }),
            );
            return Ok(());
        }
        let Some(token) = token else {
            bail!("name a token or --principal")
        };
        if !store
            .revoke_token(&TokenHash::of(token.trim()), now())
            .await?
        {
            bail!("no such token");
        }
        done(json, "token revoked", json!({ "revoked": true }));
        Ok(())
    }
}
