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

use serde::Serialize;
use serde_json::{Map, Value};

const PROPERTIES: [&str; 2] = ["accessKey", "secret"];

pub(super) struct Credentials {
    pub access_key: String,
    pub secret: String,
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

pub(super) fn validate(body: Value) -> Result<Credentials, Vec<Detail>> {
    let Value::Object(mut object) = body else {
        return Err(vec![Detail::must_be(String::new(), "object")]);
    };
    let mut details: Vec<Detail> =
        PROPERTIES.iter().filter(|p| !object.contains_key(**p)).map(|p| Detail::required(p)).collect();
    for property in PROPERTIES {
        if object.get(property).is_some_and(|v| !v.is_string()) {
            details.push(Detail::must_be(format!("/{property}"), "string"));
        }
    }
    if !details.is_empty() {
        return Err(details);
    }
    let mut take = |p: &str| match object.remove(p) {
        Some(Value::String(s)) => s,
        _ => String::new(),
    };
    Ok(Credentials { access_key: take("accessKey"), secret: take("secret") })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn details(body: Value) -> Value {
        serde_json::to_value(validate(body).err().expect("invalid")).expect("json")
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
    fn empty_strings_and_extra_properties_pass_the_schema() {
        assert!(validate(json!({ "accessKey": "", "secret": "", "extra": [1] })).is_ok());
    }
}
