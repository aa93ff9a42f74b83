//! Reading a login's JSON body the way the legacy frameworks read it (PHP's
//! `json_decode`, Json.NET, `JSON.parse`): only the top-level object's
//! members matter, each a string, `null`, or something else; nested values
//! are skipped unread (serde_json does that without recursion); a number is
//! a number however large (`1e400`), since none of them refuses one; of a
//! repeated member the last binds.
//!
//! Members are held as `RawValue`s and only strings are decoded: serde_json
//! turns numbers into `f64` when it reads them as values, and refuses those
//! beyond its range, which these frameworks do not.

use serde::Deserializer as _;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

/// A top-level member's value, as the contracts need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Member {
    Text(String),
    Null,
    /// A number, a boolean, an array or an object.
    Other,
}

/// The body, as far as a login reads it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TopLevel {
    /// Members in document order (a repeated name appears once per time).
    Object(Vec<(String, Member)>),
    /// Valid JSON that is not an object.
    NotObject,
}

impl TopLevel {
    /// The value bound to `name` (the last member of that name).
    pub(crate) fn member(&self, name: &str) -> Option<&Member> {
        match self {
            TopLevel::Object(members) => members.iter().rev().find(|(seen, _)| seen == name).map(|(_, v)| v),
            TopLevel::NotObject => None,
        }
    }
}

/// Why a body is not JSON a login can read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum JsonBodyError {
    #[error("not JSON")]
    Syntax(#[source] serde_json::Error),
    /// Nested deeper than the framework would follow.
    #[error("nested too deeply")]
    TooDeep,
}

/// Reads `json`; `max_depth` bounds how deeply arrays and objects may nest
/// anywhere in it (`None`: no bound, as `JSON.parse`).
pub(crate) fn read_top_level(json: &str, max_depth: Option<usize>) -> Result<TopLevel, JsonBodyError> {
    if max_depth.is_some_and(|max| nesting_depth(json) > max) {
        return Err(JsonBodyError::TooDeep);
    }
    let starts_an_object = json.trim_start_matches([' ', '\t', '\n', '\r']).starts_with('{');
    let mut reader = serde_json::Deserializer::from_str(json);
    let top = if starts_an_object {
        TopLevel::Object(reader.deserialize_map(ObjectVisitor).map_err(JsonBodyError::Syntax)?)
    } else {
        // Read only to tell JSON from not-JSON.
        serde::Deserialize::deserialize(&mut reader)
            .map(|IgnoredAny| TopLevel::NotObject)
            .map_err(JsonBodyError::Syntax)?
    };
    reader.end().map_err(JsonBodyError::Syntax)?;
    Ok(top)
}

struct ObjectVisitor;

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = Vec<(String, Member)>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::new();
        while let Some(name) = map.next_key::<String>()? {
            let raw: &RawValue = map.next_value()?;
            let value = match raw.get().as_bytes().first() {
                Some(b'"') => {
                    Member::Text(serde_json::from_str(raw.get()).map_err(serde::de::Error::custom)?)
                }
                Some(b'n') => Member::Null,
                _ => Member::Other,
            };
            members.push((name, value));
        }
        Ok(members)
    }
}

/// How deeply arrays and objects nest in `json` (brackets inside strings do
/// not count). Malformed text is left to the parser.
fn nesting_depth(json: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in json.as_bytes() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(json: &str) -> Vec<(String, Member)> {
        match read_top_level(json, None) {
            Ok(TopLevel::Object(members)) => members,
            other => panic!("{json}: {other:?}"),
        }
    }

    #[test]
    fn members_are_strings_nulls_or_other_and_the_last_repeat_binds() {
        let top = read_top_level(r#"{"a":"x\u00e9","b":null,"c":1e400,"d":[1,{"e":2}],"a":"y"}"#, None)
            .expect("valid");
        assert_eq!(top.member("a"), Some(&Member::Text("y".into())));
        assert_eq!(top.member("b"), Some(&Member::Null));
        assert_eq!(top.member("c"), Some(&Member::Other));
        assert_eq!(top.member("d"), Some(&Member::Other));
        assert_eq!(top.member("z"), None);
        assert_eq!(members(r#"{"n":-123456789012345678901234567890}"#)[0].1, Member::Other);
    }

    #[test]
    fn huge_numbers_are_json_anywhere() {
        for json in ["1e400", "-1e400", "[1e400]", r#"{"x":{"y":1e400}}"#] {
            assert!(read_top_level(json, None).is_ok(), "{json}");
        }
        assert!(matches!(read_top_level("1e400", None), Ok(TopLevel::NotObject)));
    }

    #[test]
    fn broken_json_is_not_json() {
        for json in ["{\"a\":", "[1,]", "{} x", "", "1e400x", "{\"a\":\"k\",}", "{\"a\":\"\\ud800\"}"] {
            assert!(matches!(read_top_level(json, None), Err(JsonBodyError::Syntax(_))), "{json}");
        }
    }

    #[test]
    fn depth_is_bounded_only_when_asked_and_strings_do_not_count() {
        let deep = format!(r#"{{"a":"x","b":{}{}}}"#, "[".repeat(5000), "]".repeat(5000));
        assert!(read_top_level(&deep, None).is_ok());
        assert!(matches!(read_top_level(&deep, Some(128)), Err(JsonBodyError::TooDeep)));
        let quoted = format!(r#"{{"a":"{}"}}"#, "[".repeat(5000));
        assert!(read_top_level(&quoted, Some(128)).is_ok());
        assert_eq!(nesting_depth(r#"{"a":"\"[","b":[[]]}"#), 3);
    }
}
