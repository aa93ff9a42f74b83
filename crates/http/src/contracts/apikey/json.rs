//! Contract B in JSON: `{"Result":null,"UserLogin":"...","ApiKey":"..."}` in,
//! `{"Token":"...","ExpireInSec":20,"ExpireDate":"\/Date(ms)\/"}` out.

use time::OffsetDateTime;
use tollgate_core::time_util::to_millis;

use super::LoginRequest;
use super::error::ApiKeyLoginError;
use crate::json_body::{Member, TopLevel, read_top_level};

/// How deeply the body may nest (what serde_json follows; Json.NET's own
/// limit is lower still).
const MAX_DEPTH: usize = 128;

/// Property names match case-insensitively, as ASP.NET binds them; `Result`
/// and unknown properties are ignored whatever their value; a property that
/// is present but not a string cannot be bound (1002).
pub(super) fn parse_request(text: &str) -> Result<LoginRequest, ApiKeyLoginError> {
    let Ok(TopLevel::Object(object)) = read_top_level(text, Some(MAX_DEPTH)) else {
        return Err(ApiKeyLoginError::BadRequest);
    };
    let mut request = LoginRequest { user_login: None, api_key: None };
    for (name, value) in object {
        let slot = if name.eq_ignore_ascii_case("UserLogin") {
            &mut request.user_login
        } else if name.eq_ignore_ascii_case("ApiKey") {
            &mut request.api_key
        } else {
            continue;
        };
        *slot = match value {
            Member::Text(s) => Some(s),
            Member::Null => None,
            Member::Other => return Err(ApiKeyLoginError::BadRequest),
        };
    }
    Ok(request)
}

/// Written by hand because the wire escapes the slashes of the ASP.NET date
/// (`"\/Date(1770202477469)\/"`), which serde_json never does. The token is
/// a UUID and the numbers are digits, so nothing else needs escaping.
pub(super) fn render_success(token: &str, expire_in_sec: u64, expires_at: OffsetDateTime) -> String {
    format!(
        r#"{{"Token":"{token}","ExpireInSec":{expire_in_sec},"ExpireDate":"\/Date({})\/"}}"#,
        to_millis(expires_at)
    )
}

/// `{"Result":{"ErrorNumber":N,"Description":"..."}}`, fields in that order.
pub(super) fn render_error(number: u16, description: &str) -> String {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct ErrorResult<'a> {
        error_number: u16,
        description: &'a str,
    }
    #[derive(serde::Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct ErrorBody<'a> {
        result: ErrorResult<'a>,
    }
    let body = ErrorBody { result: ErrorResult { error_number: number, description } };
    serde_json::to_string(&body).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_names_match_in_any_letter_case_and_result_is_ignored() {
        let request =
            parse_request(r#"{"Result":{"x":[1]},"userlogin":"John.Doo","APIKEY":"k"}"#).expect("binds");
        assert_eq!(request.user_login.as_deref(), Some("John.Doo"));
        assert_eq!(request.api_key.as_deref(), Some("k"));
    }

    #[test]
    fn non_string_values_and_non_objects_cannot_be_bound() {
        assert!(parse_request(r#"{"UserLogin":5,"ApiKey":"k"}"#).is_err());
        assert!(parse_request(r#"[{"UserLogin":"a","ApiKey":"k"}]"#).is_err());
        assert!(parse_request(r#"{"UserLogin":"a","ApiKey":"k""#).is_err());
    }

    #[test]
    fn errors_list_the_number_before_the_description() {
        assert_eq!(render_error(1002, "x"), r#"{"Result":{"ErrorNumber":1002,"Description":"x"}}"#);
    }

    #[test]
    fn the_date_is_written_with_escaped_slashes() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_770_202_477_469_000_000).expect("time");
        assert_eq!(
            render_success("a45a039c-eb31-46f1-9ece-88aa5ccfe22c", 20, at),
            r#"{"Token":"a45a039c-eb31-46f1-9ece-88aa5ccfe22c","ExpireInSec":20,"ExpireDate":"\/Date(1770202477469)\/"}"#
        );
    }
}
