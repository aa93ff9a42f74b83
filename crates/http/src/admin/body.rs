//! Reading admin request bodies: JSON only (415 otherwise), bounded (413),
//! and every mistake named by a JSON Pointer to the member (400).

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::problem::Problem;
use crate::AppState;
use crate::http_util::{BodyError, media_type, read_body_up_to};

/// Largest admin request body.
pub(crate) const MAX_ADMIN_BODY: usize = 1024 * 1024;

const JSON: &str = "application/json";
const MERGE_PATCH: &str = "application/merge-patch+json";

/// A JSON body (`application/json`) read into `T`. An empty body reads as
/// `{}`, so that a request whose members are all optional needs none.
pub(crate) struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, _: &AppState) -> Result<Self, Problem> {
        let bytes = read_json(request, &[JSON]).await?;
        parse(&bytes).map(JsonBody)
    }
}

/// A JSON merge patch (RFC 7396): `application/merge-patch+json` or
/// `application/json`, an object.
pub(crate) struct MergePatch(pub Map<String, Value>);

impl FromRequest<AppState> for MergePatch {
    type Rejection = Problem;

    async fn from_request(request: Request, _: &AppState) -> Result<Self, Problem> {
        let bytes = read_json(request, &[MERGE_PATCH, JSON]).await?;
        parse(&bytes).map(MergePatch)
    }
}

async fn read_json(request: Request, accepted: &[&str]) -> Result<Vec<u8>, Problem> {
    let declared = request.headers().contains_key(CONTENT_TYPE).then(|| media_type(request.headers()));
    let bytes = read_body_up_to(request.into_body(), MAX_ADMIN_BODY).await.map_err(|err| match err {
        BodyError::TooLarge => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("The body is larger than {MAX_ADMIN_BODY} bytes."),
        ),
        BodyError::Incomplete => Problem::invalid("", "The body did not arrive whole."),
    })?;
    if bytes.is_empty() {
        return Ok(b"{}".to_vec());
    }
    match declared {
        Some(Some(media)) if accepted.contains(&media.as_str()) => Ok(bytes.to_vec()),
        _ => Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("The body must be sent as {}.", accepted.join(" or ")),
        )),
    }
}

/// Deserializes `bytes`, naming the member at fault.
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let pointer = pointer_of(err.path());
        problem(&pointer, &err.into_inner())
    })?;
    deserializer.end().map_err(|err| problem("", &err))?;
    Ok(value)
}

fn problem(pointer: &str, err: &serde_json::Error) -> Problem {
    let message = without_position(&err.to_string());
    if !err.is_data() {
        return Problem::invalid("", format!("The body is not valid JSON: {message}."));
    }
    // serde names the member only inside its message.
    let named = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split_once('`'))
            .map(|(member, _)| member.to_owned())
    };
    if let Some(member) = named("unknown field `") {
        // The path ends at the unknown member already.
        let at = child("", &member);
        let pointer = if pointer.ends_with(&at) { pointer.to_owned() } else { child(pointer, &member) };
        return Problem::invalid(pointer, format!("Unknown member {member:?}."));
    }
    if let Some(member) = named("missing field `") {
        return Problem::invalid(child(pointer, &member), format!("The member {member:?} is required."));
    }
    Problem::invalid(pointer, capitalized(&message))
}

/// `path` as a JSON Pointer (RFC 6901).
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer = child(&pointer, &index.to_string()),
            Segment::Map { key } | Segment::Enum { variant: key } => pointer = child(&pointer, key),
            Segment::Unknown => {}
        }
    }
    pointer
}

/// `pointer` to the member `name` of what `parent` points at.
pub(crate) fn child(parent: &str, name: &str) -> String {
    format!("{parent}/{}", name.replace('~', "~0").replace('/', "~1"))
}

/// serde_json's message without its " at line L column C".
fn without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) if message[at..].contains(" column ") => message[..at].to_owned(),
        _ => message.to_owned(),
    }
}

fn capitalized(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Body {
        name: String,
        roles: Option<Vec<String>>,
        attributes: Option<std::collections::BTreeMap<String, String>>,
    }

    fn pointer(json: &str) -> String {
        let problem = parse::<Body>(json.as_bytes()).expect_err(json);
        assert_eq!(problem.status, 400, "{json}");
        problem.errors.expect("errors")[0].pointer.clone()
    }

    #[test]
    fn every_mistake_names_its_member() {
        assert_eq!(pointer(r#"{"name": 1}"#), "/name");
        assert_eq!(pointer(r#"{"name": "a", "roles": ["x", 2]}"#), "/roles/1");
        assert_eq!(pointer(r#"{"name": "a", "attributes": {"a/b": 1}}"#), "/attributes/a~1b");
        assert_eq!(pointer(r#"{"name": "a", "extra": true}"#), "/extra");
        assert_eq!(pointer(r#"{}"#), "/name");
        assert_eq!(pointer(r#"{"name": "a""#), "");
        assert_eq!(pointer(r#"{"name": "a"} x"#), "");
        assert_eq!(pointer(r#"[]"#), "");
    }
}
