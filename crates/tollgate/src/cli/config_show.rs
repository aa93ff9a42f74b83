//! `tollgate config show`: the effective configuration, one
//! `key = value  # source` line per key (DESIGN.md §11), secrets redacted.

use clap::Subcommand;
use serde_json::{Map, Value, json};

use super::output::{out, print_json};
use crate::config::Setting;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print every key's effective value and where it came from (default, file, or the
    /// environment variable); secrets redacted
    Show,
}

impl ConfigCommand {
    pub fn run(self, settings: &[Setting], json: bool) {
        let ConfigCommand::Show = self;
        if json {
            let object: Map<String, Value> = settings
                .iter()
                .map(|setting| {
                    (setting.key.clone(), json!({ "value": setting.value, "source": setting.source }))
                })
                .collect();
            print_json(&object);
            return;
        }
        let width = settings
            .iter()
            .map(|setting| setting.key.len() + toml_value(&setting.value).len())
            .max()
            .unwrap_or(0);
        for setting in settings {
            let line = format!("{} = {}", setting.key, toml_value(&setting.value));
            out!("{line:<0$}  # {1}", width + 3, setting.source);
        }
    }
}

/// A value as TOML writes it; an unset optional key as a comment-friendly `""`
/// would mislead, so it reads `(unset)`.
pub(crate) fn toml_value(value: &Value) -> String {
    match value {
        Value::Null => "(unset)".to_owned(),
        // JSON strings, numbers, booleans and arrays of them read the same in TOML.
        other => other.to_string(),
    }
}
