//! `tollgate secrets reseal`: rotating the master key that seals the key
//! material kept in the database.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use serde_json::json;
use tollgate_core::master_key::MasterKey;
use tollgate_store::OpenMode;

use super::output::done;
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Seal all key material again under the configured master key (secrets.master_key_file),
    /// opening it with the old one; values already under the new key are left alone
    Reseal {
        /// The master key file that sealed the material until now
        #[arg(long, value_name = "FILE")]
        old_master_key_file: PathBuf,
    },
}

impl SecretsCommand {
    pub async fn run(self, config: &Config, json: bool) -> anyhow::Result<()> {
        let SecretsCommand::Reseal { old_master_key_file } = self;
        let new = config.master_key()?.context(
            "secrets.master_key_file (TOLLGATE_SECRETS__MASTER_KEY_FILE) must name the new master key file",
        )?;
        let old = MasterKey::load(&old_master_key_file)
            .with_context(|| format!("--old-master-key-file {}", old_master_key_file.display()))?;
        let store = crate::server::open_store(config, OpenMode::Existing).await?;
        let resealed = tollgate_core::server_keys::reseal(store.as_ref(), &old, &new).await?;
        let message = format!(
            "{resealed} values sealed again under master key {}; the old key file may now be destroyed",
            new.id_hex()
        );
        done(json, &message, json!({ "resealed": resealed, "masterKeyId": new.id_hex() }));
        Ok(())
    }
}
