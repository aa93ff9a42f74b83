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
        .map(|body| Credentials { access_key: body.access_key, secret: body.secret })
}

/// The body as the schema sees it: an object's top-level properties, each a
/// string or not (of a repeated name the last wins, as with `JSON.parse`),
/// or something else. Nested values are skipped unread, which serde_json
/// does without recursion, so a deep but valid body is judged like any
/// other instead of failing as if it were not JSON.
pub(super) enum TopLevel {
    Object(Vec<(String, Option<String>)>),
    NotObject,
}

/// `Err` only for text that is not JSON.
pub(super) fn read_top_level(json: &str) -> Result<TopLevel, serde_json::Error> {
    use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};

    struct ObjectVisitor;
    impl<'de> Visitor<'de> for ObjectVisitor {
        type Value = Vec<(String, Option<String>)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut properties: Self::Value = Vec::new();
            while let Some(name) = map.next_key::<String>()? {
                let value = map.next_value::<StringOrNot>()?.0;
                match properties.iter_mut().find(|(seen, _)| *seen == name) {
                    Some(property) => property.1 = value,
                    None => properties.push((name, value)),
                }
            }
            Ok(properties)
        }
    }

    let starts_an_object = json.trim_start_matches([' ', '\t', '\n', '\r']).starts_with('{');
    let mut reader = serde_json::Deserializer::from_str(json);
    let top = if starts_an_object {
        TopLevel::Object(reader.deserialize_map(ObjectVisitor)?)
    } else {
        // Read only to tell JSON from not-JSON (numbers arrive as maps
        // under serde_json's arbitrary precision, so no visitor decides).
        serde::Deserialize::deserialize(&mut reader).map(|IgnoredAny| TopLevel::NotObject)?
    };
    reader.end()?;
    Ok(top)
}

/// A property's value: its text if it is a string, else `None` (read past).
struct StringOrNot(Option<String>);

impl<'de> Deserialize<'de> for StringOrNot {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
        struct Kind;
        impl<'de> Visitor<'de> for Kind {
            type Value = StringOrNot;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E>(self, v: &str) -> Result<StringOrNot, E> {
                Ok(StringOrNot(Some(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<StringOrNot, E> {
                Ok(StringOrNot(Some(v)))
            }
            fn visit_bool<E>(self, _: bool) -> Result<StringOrNot, E> {
                Ok(StringOrNot(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<StringOrNot, E> {
                Ok(StringOrNot(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<StringOrNot, E> {
                Ok(StringOrNot(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<StringOrNot, E> {
                Ok(StringOrNot(None))
            }
            fn visit_unit<E>(self) -> Result<StringOrNot, E> {
                Ok(StringOrNot(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StringOrNot, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(StringOrNot(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StringOrNot, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(StringOrNot(None))
            }
        }
        deserializer.deserialize_any(Kind)
    }
}

pub(super) fn validate(body: TopLevel) -> Result<Credentials, Vec<Detail>> {
    let TopLevel::Object(mut object) = body else {
        return Err(vec![Detail::must_be(String::new(), "object")]);
    };
    let find = |object: &[(String, Option<String>)], property: &str| {
        object.iter().position(|(name, _)| name == property)
    };
    let mut details: Vec<Detail> =
        PROPERTIES.iter().filter(|p| find(&object, p).is_none()).map(|p| Detail::required(p)).collect();
    for property in PROPERTIES {
        if find(&object, property).is_some_and(|i| object[i].1.is_none()) {
            details.push(Detail::must_be(format!("/{property}"), "string"));
        }
    }
    if !details.is_empty() {
        return Err(details);
    }
    let mut take = |p: &str| find(&object, p).and_then(|i| object[i].1.take()).unwrap_or_default();
    Ok(Credentials { access_key: take("accessKey"), secret: take("secret") })
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
            assert_eq!((fast.access_key, fast.secret), (slow.access_key, slow.secret), "{json}");
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
