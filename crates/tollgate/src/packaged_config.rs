//! Keeps the Debian package's commented configuration
//! (`packaging/tollgate.toml`, installed as /etc/tollgate/tollgate.toml)
//! honest: it names every configuration key and no other, each commented-out
//! line shows the real default, and the file loads as it ships.

use std::collections::BTreeMap;
use std::path::Path;

use figment::Figment;
use figment::providers::{Format as _, Toml};

use crate::config::{self, Config};

const PACKAGED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../packaging/tollgate.toml");

/// One `key = value` line of the file, commented out or not.
#[derive(Debug)]
struct KeyLine {
    line: usize,
    value: String,
    commented: bool,
}

/// The keys the file names, by dotted path. A key line is `key = value` or
/// `# key = value` under the last `[table]` header; prose comments never
/// have a bare key before an `=`, so they are not mistaken for one.
fn key_lines(text: &str) -> Result<BTreeMap<String, KeyLine>, String> {
    let mut table = String::new();
    let mut keys = BTreeMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if let Some(header) = trimmed.strip_prefix('[') {
            table = header
                .split_once(']')
                .map(|(name, _)| name.trim().to_owned())
                .ok_or_else(|| format!("line {line}: unclosed table header {trimmed:?}"))?;
            continue;
        }
        let (commented, body) = match trimmed.strip_prefix('#') {
            Some(rest) => (true, rest.trim_start()),
            None => (false, trimmed),
        };
        let Some((name, value)) = body.split_once('=') else { continue };
        let name = name.trim();
        let is_key = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !is_key {
            continue;
        }
        let path = if table.is_empty() { name.to_owned() } else { format!("{table}.{name}") };
        let value = value.trim().to_owned();
        if let Some(earlier) = keys.insert(path.clone(), KeyLine { line, value, commented }) {
            return Err(format!("{path} is named twice (lines {} and {line})", earlier.line));
        }
    }
    Ok(keys)
}

/// The file with every key line uncommented: each shown default or example
/// then has to parse as its key's type.
fn uncommented(text: &str) -> String {
    text.lines()
        .map(|raw| {
            let body = raw.trim_start().strip_prefix('#').map(str::trim_start);
            match body {
                Some(body) if key_lines(body).is_ok_and(|keys| keys.len() == 1) => body,
                _ => raw,
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn packaged_text() -> String {
    std::fs::read_to_string(PACKAGED).unwrap_or_else(|err| panic!("cannot read {PACKAGED}: {err}"))
}

#[test]
fn the_packaged_configuration_names_every_key_and_only_real_ones() {
    let named = key_lines(&packaged_text()).unwrap_or_else(|err| panic!("{PACKAGED}: {err}"));
    let known: Vec<&str> = config::keys().iter().map(|key| key.path.as_str()).collect();
    let missing: Vec<&str> = known.iter().copied().filter(|key| !named.contains_key(*key)).collect();
    let unknown: Vec<String> = named
        .iter()
        .filter(|(key, _)| !known.contains(&key.as_str()))
        .map(|(key, at)| format!("{key} (line {})", at.line))
        .collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "packaging/tollgate.toml is out of step with the configuration (config::keys()):\n\
         \x20 missing (add a commented `# key = default` line with a one-line comment, under its \
         [table]): {missing:?}\n\
         \x20 not a configuration key (remove or rename): {unknown:?}"
    );
}

#[test]
fn every_commented_line_of_the_packaged_configuration_shows_the_default() {
    let text = packaged_text();
    let named = key_lines(&text).unwrap_or_else(|err| panic!("{PACKAGED}: {err}"));
    let shown: Config = Figment::from(Toml::string(&uncommented(&text)))
        .extract()
        .unwrap_or_else(|err| panic!("{PACKAGED} with every key uncommented does not parse: {err}"));
    let shown = serde_json::to_value(shown).expect("the configuration serializes");
    let defaults = serde_json::to_value(Config::default()).expect("the defaults serialize");
    let mut wrong = Vec::new();
    for (path, at) in named.iter().filter(|(_, at)| at.commented) {
        let pointer = format!("/{}", path.replace('.', "/"));
        let default = defaults.pointer(&pointer).unwrap_or(&serde_json::Value::Null);
        // A key without a default shows an example, which only has to parse.
        if !default.is_null() && shown.pointer(&pointer) != Some(default) {
            wrong.push(format!("{path} (line {}): shows {}, the default is {default}", at.line, at.value));
        }
    }
    assert!(wrong.is_empty(), "packaging/tollgate.toml shows wrong defaults:\n  {}", wrong.join("\n  "));
}

#[test]
fn the_packaged_configuration_loads_as_it_ships() {
    let config = Config::load(Some(Path::new(PACKAGED)))
        .unwrap_or_else(|err| panic!("{PACKAGED} does not load: {err}"));
    assert_eq!(config.database_url, "sqlite:///var/lib/tollgate/tollgate.db");
}

#[test]
fn key_lines_are_told_from_prose_and_tables() {
    let text = "# Prose, even with a = sign.\n# top = 1\n[a]\nb = \"x\"\n# [c.d]\n[c.d]\n#e=2 # why\n";
    let keys = key_lines(text).expect("parses");
    assert_eq!(keys.keys().collect::<Vec<_>>(), ["a.b", "c.d.e", "top"]);
    assert!(keys["top"].commented && !keys["a.b"].commented && keys["c.d.e"].commented);
    assert!(key_lines("x = 1\n# x = 2\n").is_err(), "a key named twice is an error");
}
