//! Keeps the README's configuration reference honest: the table between
//! `<!-- config-reference:start -->` and `<!-- config-reference:end -->`
//! has one row per configuration key and no other, and each row's default
//! and environment variable are the ones the code uses.

use std::collections::BTreeMap;

use crate::cli::config_show::toml_value as shown;
use crate::config::{self, Config, env_var as env_name};

const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
const START: &str = "<!-- config-reference:start -->";
const END: &str = "<!-- config-reference:end -->";

/// One row of the table: `| `key` | `default` | `VARIABLE` | meaning |`.
#[derive(Debug)]
struct Row {
    line: usize,
    default: String,
    env: String,
}

/// A cell without its surrounding backticks (the table writes every value
/// as code).
fn code(cell: &str) -> &str {
    let cell = cell.trim();
    cell.strip_prefix('`').and_then(|cell| cell.strip_suffix('`')).unwrap_or(cell)
}

/// The reference's rows by key; an error names the line at fault.
fn reference_rows(readme: &str) -> Result<BTreeMap<String, Row>, String> {
    let start = readme.find(START).ok_or_else(|| format!("no {START} marker"))?;
    let end =
        readme[start..].find(END).map(|end| start + end).ok_or_else(|| format!("no {END} after {START}"))?;
    let first_line = readme[..start].lines().count() + 1;
    let mut rows = BTreeMap::new();
    for (index, text) in readme[start..end].lines().enumerate() {
        let line = first_line + index;
        let Some(inner) = text.trim().strip_prefix('|').and_then(|rest| rest.strip_suffix('|')) else {
            continue;
        };
        let cells: Vec<&str> = inner.split('|').collect();
        // The header and its separator are the only rows not naming a key in code.
        if !cells[0].trim().starts_with('`') {
            continue;
        }
        let [key, default, env, _meaning] = cells[..] else {
            return Err(format!("README.md line {line}: expected 4 cells (key, default, variable, meaning)"));
        };
        let row = Row { line, default: code(default).to_owned(), env: code(env).to_owned() };
        if let Some(earlier) = rows.insert(code(key).to_owned(), row) {
            return Err(format!(
                "README.md line {line}: {} is listed twice (also line {})",
                code(key),
                earlier.line
            ));
        }
    }
    Ok(rows)
}

#[test]
fn the_readme_reference_lists_every_key_with_its_default_and_variable() {
    let readme = std::fs::read_to_string(README).unwrap_or_else(|err| panic!("cannot read {README}: {err}"));
    let rows =
        reference_rows(&readme).unwrap_or_else(|err| panic!("README.md's configuration reference: {err}"));
    let settings = Config::default().settings(None, &[]);
    let mut problems = Vec::new();
    for setting in &settings {
        let Some(row) = rows.get(&setting.key) else {
            problems.push(format!("{}: missing (add a row)", setting.key));
            continue;
        };
        let default = shown(&setting.value);
        if row.default != default {
            problems.push(format!(
                "{} (line {}): the default reads {}, `tollgate config show` prints {default}",
                setting.key, row.line, row.default
            ));
        }
        if row.env != env_name(&setting.key) {
            problems.push(format!(
                "{} (line {}): the variable reads {}, it is {}",
                setting.key,
                row.line,
                row.env,
                env_name(&setting.key)
            ));
        }
    }
    for (key, row) in &rows {
        if !config::keys().iter().any(|known| &known.path == key) {
            problems.push(format!(
                "{key} (line {}): not a configuration key (remove or rename the row)",
                row.line
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "README.md's configuration reference is out of step with config::keys():\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn reference_rows_are_read_between_the_markers_only() {
    let text = "| `outside` | `1` | `X` | no |\n<!-- config-reference:start -->\n\
                | Key | Default | Environment variable | Meaning |\n|---|---|---|---|\n\
                | `a.b` | `\"x\"` | `TOLLGATE_A__B` | why |\n<!-- config-reference:end -->\n";
    let rows = reference_rows(text).expect("parses");
    assert_eq!(rows.keys().collect::<Vec<_>>(), ["a.b"]);
    assert_eq!((rows["a.b"].default.as_str(), rows["a.b"].env.as_str()), ("\"x\"", "TOLLGATE_A__B"));
    assert_eq!(rows["a.b"].line, 5);
    let twice = "<!-- config-reference:start -->\n| `a` | `1` | `A` | x |\n| `a` | `1` | `A` | x |\n<!-- config-reference:end -->";
    assert!(reference_rows(twice).is_err(), "a key listed twice is an error");
    assert!(reference_rows("no markers").is_err());
    assert_eq!(env_name("migration.accesskey.jwt_secret"), "TOLLGATE_MIGRATION__ACCESSKEY__JWT_SECRET");
}
