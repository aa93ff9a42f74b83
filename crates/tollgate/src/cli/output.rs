//! What admin commands print: a line for people, or one JSON value with
//! camelCase fields (as on the wire) for scripts.

use serde::Serialize;
use tollgate_core::Principal;
pub(crate) use tollgate_core::time_util::rfc3339;
use tollgate_http::admin::views::PrincipalView;

/// `println!` that gives up quietly once stdout is gone (`tollgate … | head`)
/// instead of panicking: what is left unprinted was not wanted.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}
pub(crate) use out;

pub(crate) fn print_json<T: Serialize>(value: &T) {
    match serde_json::to_string(value) {
        Ok(text) => out!("{text}"),
        Err(err) => eprintln!("error: cannot render JSON: {err}"),
    }
}

/// Prints `human` for people or `json` for scripts.
pub(crate) fn done<T: Serialize>(json: bool, human: &str, value: T) {
    if json {
        print_json(&value);
    } else {
        out!("{human}");
    }
}

/// `view` as JSON without the members DESIGN.md §3 leaves out of a
/// command's output (the admin API's creation answers carry `createdAt`;
/// `apikey issue` and `accesskey create` print exactly the fields §3 names).
pub(crate) fn without<T: Serialize>(view: &T, left_out: &[&str]) -> serde_json::Value {
    let mut value = serde_json::to_value(view).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        for member in left_out {
            object.remove(*member);
        }
    }
    value
}

/// A principal as `--json` shows it: the admin API's shape.
pub(crate) fn principal_view(principal: &Principal) -> PrincipalView {
    PrincipalView::of(principal, tollgate_core::time_util::now())
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
