//! Contract B in XML: `<Request><UserLogin>…</UserLogin><ApiKey>…</ApiKey></Request>`
//! in, `<Response><Token>…</Token><ExpireInSec>20</ExpireInSec><ExpireDate>…</ExpireDate></Response>`
//! out.
//!
//! The reader is deliberately narrow: no DTD is ever accepted (so no entity
//! can be declared, expanded or fetched), only the five predefined entities
//! and character references are resolved, and nesting is bounded.
//! Namespaces and prefixes are ignored (ASP.NET clients send
//! `xmlns="http://schemas.datacontract.org/2004/07/…"` and `i:nil`), element
//! order does not matter, and element names match in any letter case.

use quick_xml::Reader;
use quick_xml::escape::escape;
use quick_xml::events::{BytesRef, Event};
use time::OffsetDateTime;

use super::LoginRequest;
use super::error::ApiKeyLoginError;

/// Deeper than this is not a login request.
const MAX_DEPTH: usize = 16;

#[derive(Clone, Copy)]
enum Field {
    UserLogin,
    ApiKey,
}

fn field(local_name: &[u8]) -> Option<Field> {
    if local_name.eq_ignore_ascii_case(b"UserLogin") {
        Some(Field::UserLogin)
    } else if local_name.eq_ignore_ascii_case(b"ApiKey") {
        Some(Field::ApiKey)
    } else {
        None
    }
}

pub(super) fn parse_request(text: &str) -> Result<LoginRequest, ApiKeyLoginError> {
    parse(text).ok_or(ApiKeyLoginError::BadRequest)
}

fn parse(text: &str) -> Option<LoginRequest> {
    let mut reader = Reader::from_str(text);
    let mut request = LoginRequest { user_login: None, api_key: None };
    let mut depth = 0usize;
    let mut seen_root = false;
    // The field being read (only at depth 2) and its text so far.
    let mut current: Option<(Field, String)> = None;
    loop {
        match reader.read_event().ok()? {
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::DocType(_) => return None,
            Event::Start(element) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return None;
                }
                match depth {
                    1 => enter_root(&mut seen_root, element.local_name().as_ref())?,
                    2 => current = field(element.local_name().as_ref()).map(|f| (f, String::new())),
                    // Markup inside a string property cannot be bound.
                    _ if current.is_some() => return None,
                    _ => {}
                }
            }
            Event::Empty(element) => match depth {
                0 => enter_root(&mut seen_root, element.local_name().as_ref())?,
                // `<UserLogin/>` or `<UserLogin i:nil="true"/>`: no value.
                1 => {
                    if let Some(f) = field(element.local_name().as_ref()) {
                        *slot(&mut request, f) = None;
                    }
                }
                _ if current.is_some() => return None,
                _ => {}
            },
            Event::End(_) => {
                if depth == 2
                    && let Some((f, value)) = current.take()
                {
                    *slot(&mut request, f) = Some(value);
                }
                depth = depth.checked_sub(1)?;
            }
            Event::Text(text) => {
                let text = text.decode().ok()?;
                match &mut current {
                    Some((_, value)) => value.push_str(&text),
                    None if depth == 0 && !text.trim().is_empty() => return None,
                    None => {}
                }
            }
            Event::CData(data) => {
                let data = data.decode().ok()?;
                if let Some((_, value)) = &mut current {
                    value.push_str(&data);
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = resolve(&reference)?;
                if let Some((_, value)) = &mut current {
                    value.push(resolved);
                }
            }
            Event::Eof => break,
        }
    }
    (seen_root && depth == 0).then_some(request)
}

fn enter_root(seen_root: &mut bool, local_name: &[u8]) -> Option<()> {
    if *seen_root || !local_name.eq_ignore_ascii_case(b"Request") {
        return None;
    }
    *seen_root = true;
    Some(())
}

fn slot(request: &mut LoginRequest, f: Field) -> &mut Option<String> {
    match f {
        Field::UserLogin => &mut request.user_login,
        Field::ApiKey => &mut request.api_key,
    }
}

/// Character references and the five predefined entities; any other entity
/// would need a DTD, which is never accepted.
fn resolve(reference: &BytesRef<'_>) -> Option<char> {
    if reference.is_char_ref() {
        return reference.resolve_char_ref().ok().flatten().filter(|c| *c != '\0');
    }
    match reference.as_ref() {
        b"amp" => Some('&'),
        b"lt" => Some('<'),
        b"gt" => Some('>'),
        b"quot" => Some('"'),
        b"apos" => Some('\''),
        _ => None,
    }
}

pub(super) fn render_success(token: &str, expire_in_sec: u64, expires_at: OffsetDateTime) -> String {
    // ISO 8601 in UTC with seven fractional digits, as .NET writes DateTime.
    let date = tollgate_core::time_util::rfc3339_utc(expires_at, 7);
    format!(
        "<Response><Token>{}</Token><ExpireInSec>{expire_in_sec}</ExpireInSec><ExpireDate>{date}</ExpireDate></Response>",
        escape(token)
    )
}

pub(super) fn render_error(number: u16, description: &str) -> String {
    format!(
        "<Response><Result><ErrorNumber>{number}</ErrorNumber><Description>{}</Description></Result></Response>",
        escape(description)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind(xml: &str) -> Option<(Option<String>, Option<String>)> {
        parse(xml).map(|r| (r.user_login, r.api_key))
    }

    fn both(login: &str, key: &str) -> Option<(Option<String>, Option<String>)> {
        Some((Some(login.into()), Some(key.into())))
    }

    #[test]
    fn the_documents_sample_binds() {
        let xml =
            "<Request> <UserLogin>John.Doo</UserLogin> <ApiKey>hDn/LFXIPESM036W+s7VKg==</ApiKey> </Request>";
        assert_eq!(bind(xml), both("John.Doo", "hDn/LFXIPESM036W+s7VKg=="));
    }

    #[test]
    fn namespaces_order_case_and_predefined_entities_are_handled() {
        let xml = r#"<?xml version="1.0" encoding="utf-8"?>
            <Request xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.datacontract.org/2004/07/Api.Models">
              <apikey>k&amp;&#65;</apikey><Result i:nil="true"/><d:USERLOGIN xmlns:d="urn:x">J&lt;D</d:USERLOGIN>
            </Request>"#;
        assert_eq!(bind(xml), both("J<D", "k&A"));
    }

    #[test]
    fn dtds_custom_entities_wrong_roots_and_deep_nesting_are_refused() {
        let xxe = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><Request><UserLogin>&x;</UserLogin></Request>"#;
        assert!(bind(xxe).is_none());
        assert!(bind("<Request><UserLogin>&x;</UserLogin></Request>").is_none());
        assert!(bind("<Login><UserLogin>a</UserLogin></Login>").is_none());
        assert!(bind("<Request><UserLogin><b>a</b></UserLogin></Request>").is_none());
        assert!(bind("<Request><UserLogin>a</UserLogin>").is_none());
        assert!(bind("<Request/><Request/>").is_none());
        let deep = format!("<Request>{}{}</Request>", "<a>".repeat(100), "</a>".repeat(100));
        assert!(bind(&deep).is_none());
    }

    #[test]
    fn nil_and_empty_elements_have_no_value() {
        assert_eq!(bind(r#"<Request><UserLogin i:nil="true"/><ApiKey/></Request>"#), Some((None, None)));
    }
}
