//! Which format the answer is in: `Accept` decides (honouring q-values);
//! without a usable `Accept` (absent, only wildcards, or naming neither
//! format) the request's own `Content-Type`; else JSON.

use axum::http::HeaderMap;
use axum::http::header::ACCEPT;

use crate::http_util::media_type;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Json,
    /// XML, remembering which media type names it for the answer.
    Xml(XmlType),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum XmlType {
    Application,
    Text,
}

impl Format {
    pub(super) fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json; charset=utf-8",
            Format::Xml(XmlType::Application) => "application/xml; charset=utf-8",
            Format::Xml(XmlType::Text) => "text/xml; charset=utf-8",
        }
    }

    fn of_media_type(media_type: &str) -> Option<Self> {
        match media_type {
            "application/json" | "text/json" => Some(Format::Json),
            "application/xml" => Some(Format::Xml(XmlType::Application)),
            "text/xml" => Some(Format::Xml(XmlType::Text)),
            _ => None,
        }
    }
}

pub(super) fn response_format(headers: &HeaderMap) -> Format {
    from_accept(headers)
        .or_else(|| media_type(headers).as_deref().and_then(Format::of_media_type))
        .unwrap_or(Format::Json)
}

/// The acceptable format with the highest q-value; on a tie, the one listed
/// first. Wildcards express no preference between the two.
fn from_accept(headers: &HeaderMap) -> Option<Format> {
    let mut best: Option<(f32, Format)> = None;
    let ranges = headers.get_all(ACCEPT).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(','));
    for range in ranges {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let Some(format) = Format::of_media_type(&media) else { continue };
        let q = parts
            .filter_map(|p| p.split_once('='))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("q"))
            .map_or(Some(1.0), |(_, value)| {
                value.trim().parse::<f32>().ok().filter(|q| (0.0..=1.0).contains(q))
            });
        let Some(q) = q else { continue };
        if q > 0.0 && best.is_none_or(|(best_q, _)| q > best_q) {
            best = Some((q, format));
        }
    }
    best.map(|(_, format)| format)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use axum::http::header::CONTENT_TYPE;

    use super::*;

    fn format(accept: Option<&str>, content_type: Option<&str>) -> Format {
        let mut headers = HeaderMap::new();
        if let Some(a) = accept {
            headers.insert(ACCEPT, HeaderValue::from_str(a).expect("header"));
        }
        if let Some(c) = content_type {
            headers.insert(CONTENT_TYPE, HeaderValue::from_str(c).expect("header"));
        }
        response_format(&headers)
    }

    const XML: Format = Format::Xml(XmlType::Application);
    const TEXT_XML: Format = Format::Xml(XmlType::Text);

    #[test]
    fn accept_decides_with_q_values() {
        assert_eq!(format(Some("application/xml"), Some("application/json")), XML);
        assert_eq!(format(Some("application/json"), Some("application/xml")), Format::Json);
        assert_eq!(format(Some("application/json;q=0.5, application/xml"), None), XML);
        assert_eq!(format(Some("application/json;q=0.9, text/xml;q=0.8"), Some("text/xml")), Format::Json);
        assert_eq!(format(Some("text/xml"), Some("application/json")), TEXT_XML);
        assert_eq!(format(Some("application/xml, application/json"), None), XML);
        assert_eq!(format(Some("text/html, */*;q=0.1, application/xml;q=0.2"), None), XML);
    }

    #[test]
    fn without_a_usable_accept_the_content_type_decides_then_json() {
        assert_eq!(format(None, Some("application/xml; charset=utf-8")), XML);
        assert_eq!(format(Some("*/*"), Some("text/xml")), TEXT_XML);
        assert_eq!(format(Some("text/html"), Some("application/xml")), XML);
        assert_eq!(format(Some("application/json;q=0"), Some("application/xml")), XML);
        assert_eq!(format(Some("application/xml;q=abc"), Some("application/json")), Format::Json);
        assert_eq!(format(None, Some("text/plain")), Format::Json);
        assert_eq!(format(None, None), Format::Json);
    }
}
