//! The login body's schema, validated the way LoopBack 4 does it (AJV 8 with
//! `allErrors: true`):
//!
//! ```json
//! {"type":"object","required":["accessKey","secret"],
//!  "properties":{"accessKey":{"type":"string"},"secret":{"type":"string"}}}
//! ```
//!
//! Every violation becomes one detail, in AJV's order: a body that is not an
//! object gives only the `type` error; otherwise every `required` error
//! first, then each property's `type` error. Extra properties are ignored.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tollgate_core::secret::AccessSecret;

pub(super) use crate::json_body::TopLevel;
use crate::json_body::{JsonBodyError, Member};

/// The body as the schema sees it; `Err` only for text that is not JSON.
/// `JSON.parse` follows any depth, so no bound here.
pub(super) fn read_top_level(json: &str) -> Result<TopLevel, JsonBodyError> {
    crate::json_body::read_top_level(json, None)
}

const PROPERTIES: [&str; 2] = ["accessKey", "secret"];

pub(super) struct Credentials {
    pub access_key: String,
    pub secret: AccessSecret,
}

/// One AJV error as LoopBack shows it: `{path, code, message, info}`.
#[derive(Debug, Serialize, PartialEq)]
pub(super) struct Detail {
    path: String,
    code: &'static str,
    message: String,
    info: Map<String, Value>,
}

impl Detail {
    fn required(property: &str) -> Self {
        let mut info = Map::new();
        info.insert("missingProperty".into(), Value::from(property));
        Self {
            path: String::new(),
            code: "required",
            message: format!("must have required property '{property}'"),
            info,
        }
    }

    fn must_be(path: String, json_type: &str) -> Self {
        let mut info = Map::new();
        info.insert("type".into(), Value::from(json_type));
        Self { path, code: "type", message: format!("must be {json_type}"), info }
    }
}

/// The common case in one pass: an object with both properties, once each,
/// as strings (other properties skipped unread). Anything else, including a
/// lone surrogate escape, is `None`, and the body goes the long way through
/// [`validate`], which gives the same result for what this accepts.
pub(super) fn well_formed(json: &str) -> Option<Credentials> {
    #[derive(Deserialize)]
    struct Body {
        #[serde(rename = "accessKey")]
        access_key: String,
        secret: String,
    }
    // Derived structs also read arrays (`["key","secret"]`); the schema does not.
    if !json.trim_start_matches([' ', '\t', '\n', '\r']).starts_with('{') {
        return None;
    }
    serde_json::from_str::<Body>(json)
        .ok()
        .map(|body| Credentials { access_key: body.access_key, secret: AccessSecret::new(body.secret) })
}

/// The schema's verdict on a body read by [`read_top_level`] (of a repeated
/// property the last binds, as with `JSON.parse`).
pub(super) fn validate(body: TopLevel) -> Result<Credentials, Vec<Detail>> {
    if body == TopLevel::NotObject {
        return Err(vec![Detail::must_be(String::new(), "object")]);
    }
    let mut details: Vec<Detail> =
        PROPERTIES.iter().filter(|p| body.member(p).is_none()).map(|p| Detail::required(p)).collect();
    for property in PROPERTIES {
        if body.member(property).is_some_and(|value| !matches!(value, Member::Text(_))) {
            details.push(Detail::must_be(format!("/{property}"), "string"));
        }
    }
    if !details.is_empty() {
        return Err(details);
    }
    let text = |property: &str| match body.member(property) {
        Some(Member::Text(text)) => text.clone(),
        _ => String::new(),
    };
    Ok(Credentials { access_key: text("accessKey"), secret: AccessSecret::new(text("secret")) })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn details(body: Value) -> Value {
        let top = read_top_level(&body.to_string()).expect("json");
        serde_json::to_value(validate(top).err().expect("invalid")).expect("json")
    }

    #[test]
    fn a_missing_secret_is_one_required_detail() {
        assert_eq!(
            details(json!({ "accessKey": "k" })),
            json!([{"path":"","code":"required","message":"must have required property 'secret'","info":{"missingProperty":"secret"}}])
        );
    }

    #[test]
    fn required_errors_come_before_type_errors() {
        assert_eq!(
            details(json!({ "secret": 5 })),
            json!([
                {"path":"","code":"required","message":"must have required property 'accessKey'","info":{"missingProperty":"accessKey"}},
                {"path":"/secret","code":"type","message":"must be string","info":{"type":"string"}}
            ])
        );
    }

    #[test]
    fn a_non_object_is_only_a_type_error() {
        for body in [json!([]), json!("x"), json!(1), json!(null)] {
            assert_eq!(
                details(body),
                json!([{"path":"","code":"type","message":"must be object","info":{"type":"object"}}])
            );
        }
    }

    #[test]
    fn the_one_pass_reading_agrees_with_the_schema_or_leaves_the_body_to_it() {
        let agree = [
            r#"{"accessKey":"k","secret":"s"}"#,
            r#"{"secret":"s\u00e9","extra":{"deep":[1,null]},"accessKey":"k"}"#,
            r#"{"accessKey":"","secret":""}"#,
        ];
        for json in agree {
            let fast = well_formed(json).expect("well formed");
            let slow = validate(read_top_level(json).expect("json")).expect("valid");
            assert_eq!(
                (fast.access_key, fast.secret.expose()),
                (slow.access_key, slow.secret.expose()),
                "{json}"
            );
        }
        let long_way = [
            r#"{"accessKey":"k"}"#,
            r#"{"accessKey":"k","secret":5}"#,
            r#"{"accessKey":"k","secret":null}"#,
            r#"{"accessKey":"k","accessKey":"j","secret":"s"}"#,
            r#"{"accessKey":"k","secret":"\ud800"}"#,
            r#"["k","s"]"#,
            r#"{"accessKey":"k","secret":"s"} x"#,
        ];
        for json in long_way {
            assert!(well_formed(json).is_none(), "{json}");
        }
    }

    #[test]
    fn empty_strings_and_extra_properties_pass_the_schema() {
        let top = read_top_level(r#"{"accessKey":"","secret":"","extra":[1]}"#).expect("json");
        assert!(validate(top).is_ok());
    }

    #[test]
    fn deep_valid_json_is_judged_by_the_schema_and_broken_json_is_not_json() {
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        let body = format!(r#"{{"accessKey":1,"secret":"b","x":{deep}}}"#);
        let top = read_top_level(&body).expect("valid JSON, however deep");
        let details = serde_json::to_value(validate(top).err().expect("invalid")).expect("json");
        assert_eq!(
            details,
            json!([{"path":"/accessKey","code":"type","message":"must be string","info":{"type":"string"}}])
        );
        assert!(matches!(read_top_level(&deep), Ok(TopLevel::NotObject)));
        for broken in ["{\"a\":", "[1,]", "{} x", "", "1e400x", "{\"accessKey\":\"k\",}"] {
            assert!(read_top_level(broken).is_err(), "{broken}");
        }
        assert!(matches!(read_top_level("1e400"), Ok(TopLevel::NotObject)));
        let last_wins = read_top_level(r#"{"accessKey":1,"secret":"s","accessKey":"k"}"#).expect("json");
        assert_eq!(validate(last_wins).ok().map(|c| c.access_key), Some("k".to_owned()));
    }
}
