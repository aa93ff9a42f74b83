//! `tollgate keys rotate|list`: staged rotation of asymmetric signing keys.

use clap::Subcommand;
use serde::Serialize;
use tollgate_core::admin::SigningKeyStatus;
use tollgate_core::{AdminContext, AdminService};

use super::output::{done, print_json, rfc3339};

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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KeyView {
    kid: String,
    algorithm: &'static str,
    created_at: String,
    signs_from: String,
    /// `pending` (published, not signing yet), `published`, or `retired`
    /// (replaced, and gone from the JWKS once its last token expired).
    state: &'static str,
}

impl From<&SigningKeyStatus> for KeyView {
    fn from(status: &SigningKeyStatus) -> Self {
        let key = &status.key;
        Self {
            kid: key.kid.clone(),
            algorithm: key.algorithm.as_str(),
            created_at: rfc3339(key.created_at),
            signs_from: rfc3339(key.signs_from),
            state: status.state.as_str(),
        }
    }
}

impl KeysCommand {
    pub async fn run(self, admin: &AdminService, json: bool) -> anyhow::Result<()> {
        match self {
            KeysCommand::Rotate { delay } => {
                let key = admin.rotate_signing_key(&AdminContext::cli(), delay).await?;
                let view = KeyView::from(&key);
                let human = format!(
                    "new {} key {} is published now and signs from {}",
                    view.algorithm, view.kid, view.signs_from
                );
                done(json, &human, view);
            }
            KeysCommand::List => {
                let views: Vec<KeyView> =
                    admin.list_signing_keys().await?.iter().map(KeyView::from).collect();
                if json {
                    print_json(&views);
                } else {
                    for k in &views {
                        println!("{}\t{}\t{}\tsigns from {}", k.kid, k.algorithm, k.state, k.signs_from);
                    }
                }
            }
        }
        Ok(())
    }
}
