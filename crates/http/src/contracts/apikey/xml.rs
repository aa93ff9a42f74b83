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
//! What is bound must still be well-formed XML 1.0 with namespaces: only
//! XML characters, no repeated attribute, no prefix that was not declared.

use quick_xml::NsReader;
use quick_xml::escape::escape;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::ResolveResult;
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
    if !text.chars().all(is_xml_char) {
        return None;
    }
    let mut reader = NsReader::from_str(text);
    let mut request = LoginRequest { user_login: None, api_key: None };
    let mut depth = 0usize;
    let mut seen_root = false;
    // The field being read (only at depth 2) and its text so far.
    let mut current: Option<(Field, String)> = None;
    loop {
        let (namespace, event) = reader.read_resolved_event().ok()?;
        if let ResolveResult::Unknown(_) = namespace {
            return None;
        }
        if let Event::Start(element) | Event::Empty(element) = &event {
            well_formed_attributes(&reader, element)?;
        }
        match event {
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
                if text.contains("]]>") {
                    return None;
                }
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

/// XML 1.0's `Char`: what a document may contain at all, raw or by reference.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Attributes are never bound, but a repeated one, a `<` or an unknown
/// entity in a value, or an undeclared prefix makes the document not XML.
fn well_formed_attributes(reader: &NsReader<&[u8]>, element: &BytesStart<'_>) -> Option<()> {
    for attribute in element.attributes() {
        let attribute = attribute.ok()?;
        if attribute.value.contains(&b'<') || attribute.unescape_value().is_err() {
            return None;
        }
        if let (ResolveResult::Unknown(_), _) = reader.resolve_attribute(attribute.key) {
            return None;
        }
    }
    Some(())
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
        return reference.resolve_char_ref().ok().flatten().filter(|c| is_xml_char(*c));
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
        let xml = r#"<Request xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><UserLogin i:nil="true"/><ApiKey/></Request>"#;
        assert_eq!(bind(xml), Some((None, None)));
    }

    #[test]
    fn documents_that_are_not_well_formed_are_refused() {
        let login = "<UserLogin>a</UserLogin><ApiKey>k</ApiKey>";
        for xml in [
            format!(r#"<Request a="1" a="2">{login}</Request>"#),
            format!("<x:Request>{login}</x:Request>"),
            format!(r#"<Request><UserLogin i:nil="true"/>{login}</Request>"#),
            format!("<Request><Result>&#1;</Result>{login}</Request>"),
            format!("<Request><Result>\u{1}</Result>{login}</Request>"),
            "<Request><UserLogin>a\u{b}</UserLogin><ApiKey>k</ApiKey></Request>".to_owned(),
            "<Request><UserLogin>a&#xFFFE;</UserLogin><ApiKey>k</ApiKey></Request>".to_owned(),
            format!(r#"<Request a="<">{login}</Request>"#),
            format!(r#"<Request a="&nope;">{login}</Request>"#),
            format!("<Request>]]>{login}</Request>"),
        ] {
            assert!(bind(&xml).is_none(), "{xml}");
        }
        // Still fine: declared prefixes, references to XML characters.
        let xml = r#"<p:Request xmlns:p="urn:p" p:a="1" a="&amp;"><UserLogin>a&#x1F600;</UserLogin><ApiKey>k</ApiKey></p:Request>"#;
        assert_eq!(bind(xml), both("a\u{1F600}", "k"));
    }
}
