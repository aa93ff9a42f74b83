//! What admin commands print: a line for people, or one JSON value with
//! camelCase fields (as on the wire) for scripts.

use std::collections::BTreeMap;

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tollgate_core::Principal;

pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

pub(crate) fn print_json<T: Serialize>(value: &T) {
    match serde_json::to_string(value) {
        Ok(text) => println!("{text}"),
        Err(err) => eprintln!("error: cannot render JSON: {err}"),
    }
}

/// Prints `human` for people or `json` for scripts.
pub(crate) fn done<T: Serialize>(json: bool, human: &str, value: T) {
    if json {
        print_json(&value);
    } else {
        println!("{human}");
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PrincipalView {
    id: String,
    name: String,
    roles: Vec<String>,
    realm: Option<String>,
    attributes: BTreeMap<String, String>,
    enabled: bool,
    created_at: String,
}

impl From<&Principal> for PrincipalView {
    fn from(p: &Principal) -> Self {
        Self {
            id: p.id.to_string(),
            name: p.name.clone(),
            roles: p.roles.clone(),
            realm: p.realm.clone(),
            attributes: p.attributes.clone(),
            enabled: p.enabled,
            created_at: rfc3339(p.created_at),
        }
    }
}

pub(crate) fn describe_principal(p: &Principal) -> String {
    let mut text = format!(
        "{}\n  id:         {}\n  enabled:    {}\n  roles:      {}\n  realm:      {}\n  created:    {}",
        p.name,
        p.id,
        p.enabled,
        if p.roles.is_empty() { "-".to_owned() } else { p.roles.join(", ") },
        p.realm.as_deref().unwrap_or("-"),
        rfc3339(p.created_at),
    );
    for (key, value) in &p.attributes {
        text.push_str(&format!("\n  attribute:  {key}={value}"));
    }
    text
}
