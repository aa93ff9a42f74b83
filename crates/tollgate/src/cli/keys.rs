//! `tollgate keys rotate|list`: staged rotation of asymmetric signing keys.

use clap::Subcommand;
use serde::Serialize;
use time::OffsetDateTime;
use tollgate_core::Store;
use tollgate_core::admin;
use tollgate_core::signing_keys::SigningKeyRecord;
use tollgate_core::time_util::now;

use super::output::{done, print_json, rfc3339};
use crate::config::Config;

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

impl KeyView {
    fn new(key: &SigningKeyRecord, retires_at: Option<OffsetDateTime>) -> Self {
        let now = now();
        let state = if retires_at.is_some_and(|at| at <= now) {
            "retired"
        } else if key.signs_from > now {
            "pending"
        } else {
            "published"
        };
        Self {
            kid: key.kid.clone(),
            algorithm: key.algorithm.as_str(),
            created_at: rfc3339(key.created_at),
            signs_from: rfc3339(key.signs_from),
            state,
        }
    }
}

impl KeysCommand {
    pub async fn run(self, store: &dyn Store, config: &Config, json: bool) -> anyhow::Result<()> {
        let algorithm = config.jwt_algorithm()?;
        match self {
            KeysCommand::Rotate { delay } => {
                let delay = delay.unwrap_or(config.jwt.rotation_delay.0);
                // Make sure the key being replaced exists (first start).
                tollgate_core::server_keys::signing_keys(store, algorithm).await?;
                let key = admin::rotate_signing_key(store, algorithm, delay).await?;
                let view = KeyView::new(&key, None);
                let human = format!(
                    "new {} key {} is published now and signs from {}",
                    view.algorithm, view.kid, view.signs_from
                );
                done(json, &human, view);
            }
            KeysCommand::List => {
                let keys = admin::list_signing_keys(store, algorithm).await?;
                // The server's own rule for when a replaced key leaves the JWKS.
                let longest_token = config.accesskey.token_ttl.0 + config.jwt.leeway.0;
                let views: Vec<KeyView> = tollgate_core::jwt::key_lifetimes(&keys, algorithm, longest_token)
                    .into_iter()
                    .map(|(key, retires_at)| KeyView::new(key, retires_at))
                    .collect();
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
