//! `tollgate keys rotate|list`: staged rotation of asymmetric signing keys.

use clap::Subcommand;
use tollgate_core::{AdminContext, AdminService};

use tollgate_http::admin::views::SigningKeyView;

use super::output::{done, out, print_json};

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Publish a new signing key now; it signs after the delay, and the old
    /// key stays published until its last token has expired
    Rotate {
        /// How long to publish before signing [default: jwt.rotation_delay]
        #[arg(long, value_name = "DURATION", value_parser = crate::config::parse_duration)]
        delay: Option<std::time::Duration>,
    },
    /// List the signing keys of the configured algorithm
    List,
}

impl KeysCommand {
    pub async fn run(self, admin: &AdminService, json: bool) -> anyhow::Result<()> {
        match self {
            KeysCommand::Rotate { delay } => {
                let key = admin.rotate_signing_key(&AdminContext::cli(), delay).await?;
                let view = SigningKeyView::from(&key);
                let human = format!(
                    "new {} key {} is published now and signs from {}",
                    view.algorithm,
                    view.kid,
                    view.signs_from.as_deref().unwrap_or("now")
                );
                done(json, &human, view);
            }
            KeysCommand::List => {
                let views: Vec<SigningKeyView> =
                    admin.list_signing_keys().await?.iter().map(SigningKeyView::from).collect();
                if json {
                    print_json(&views);
                } else {
                    for k in &views {
                        let signs_from = k.signs_from.as_deref().unwrap_or("-");
                        out!("{}\t{}\t{}\tsigns from {signs_from}", k.kid, k.algorithm, k.state);
                    }
                }
            }
        }
        Ok(())
    }
}
