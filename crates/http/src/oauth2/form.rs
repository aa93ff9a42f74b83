//! Reading an `application/x-www-form-urlencoded` request body the way RFC
//! 6749 §3.2 wants it: no parameter repeated, empty values count as absent.

use std::borrow::Cow;

use axum::body::Body;
use axum::http::HeaderMap;

use super::error::OAuthError;
use crate::http_util::{BodyError, media_type, read_body};

pub(super) struct Form(Vec<(String, String)>);

/// Up to this many parameters, repeats are found by scanning.
const FEW_PARAMETERS: usize = 16;

impl Form {
    pub(super) async fn read(headers: &HeaderMap, body: Body) -> Result<Self, OAuthError> {
        if media_type(headers).as_deref() != Some("application/x-www-form-urlencoded") {
            return Err(OAuthError::InvalidRequest("The body must be application/x-www-form-urlencoded."));
        }
        let bytes = read_body(body).await.map_err(|err| match err {
            BodyError::TooLarge => OAuthError::InvalidRequest("The request body is too large."),
            BodyError::Incomplete => OAuthError::InvalidRequest("The request body was not received in full."),
        })?;
        Self::parse(&bytes)
    }

    fn parse(bytes: &[u8]) -> Result<Self, OAuthError> {
        let repeated = || OAuthError::InvalidRequest("A parameter was given more than once.");
        let mut params: Vec<(String, String)> = Vec::with_capacity(4);
        for (name, value) in bytes.split(|&b| b == b'&').filter_map(pair) {
            if value.is_empty() {
                continue;
            }
            // A scan per parameter for the few a client sends; a hostile
            // body of thousands is checked once, sorted, below.
            if params.len() < FEW_PARAMETERS && params.iter().any(|(seen, _)| *seen == name) {
                return Err(repeated());
            }
            params.push((name.into_owned(), value.into_owned()));
        }
        if params.len() > FEW_PARAMETERS {
            let mut names: Vec<&str> = params.iter().map(|(name, _)| name.as_str()).collect();
            names.sort_unstable();
            if names.windows(2).any(|pair| pair[0] == pair[1]) {
                return Err(repeated());
            }
        }
        Ok(Self(params))
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(seen, _)| seen == name).map(|(_, value)| value.as_str())
    }

    pub(super) fn require(&self, name: &str, missing: &'static str) -> Result<&str, OAuthError> {
        self.get(name).ok_or(OAuthError::InvalidRequest(missing))
    }
}

/// One `name=value` of the body, decoded as `form_urlencoded` decodes it
/// (`+` is a space, `%XY` a byte, a stray `%` itself, then UTF-8 with
/// replacement characters), borrowed when nothing needs decoding.
fn pair(segment: &[u8]) -> Option<(Cow<'_, str>, Cow<'_, str>)> {
    if segment.is_empty() {
        return None;
    }
    let (name, value) = match segment.iter().position(|&b| b == b'=') {
        Some(at) => (&segment[..at], &segment[at + 1..]),
        None => (segment, &segment[segment.len()..]),
    };
    Some((decode(name), decode(value)))
}

fn decode(part: &[u8]) -> Cow<'_, str> {
    let escaped = part.iter().fold(false, |escaped, &b| escaped | (b == b'%') | (b == b'+'));
    if !escaped {
        return String::from_utf8_lossy(part);
    }
    let hex = |b: u8| char::from(b).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let mut bytes = Vec::with_capacity(part.len());
    let mut i = 0;
    while let Some(&b) = part.get(i) {
        let escape =
            (b == b'%').then(|| Some(hex(*part.get(i + 1)?)? << 4 | hex(*part.get(i + 2)?)?)).flatten();
        match (b, escape) {
            (_, Some(byte)) => {
                bytes.push(byte);
                i += 3;
            }
            (b'+', None) => {
                bytes.push(b' ');
                i += 1;
            }
            (b, None) => {
                bytes.push(b);
                i += 1;
            }
        }
    }
    Cow::Owned(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_read_as_form_urlencoded_reads_them() {
        let bodies: [&[u8]; 6] = [
            b"grant_type=client_credentials&client_id=abc&client_secret=a%2Fb+c",
            b"&&a=1&&b&c=%C3%A9&d=+&e=%zz",
            b"x=\xff\xfe&y=caf\xc3\xa9",
            b"=v&k=",
            b"",
            b"a=%4&b=%&c=%%41&d=%e9&e=%C3&f=%7e%7E%20",
        ];
        for body in bodies {
            let expected: Vec<(String, String)> = form_urlencoded::parse(body)
                .filter(|(_, value)| !value.is_empty())
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect();
            let Ok(Form(params)) = Form::parse(body) else { panic!("refused {body:?}") };
            assert_eq!(params, expected, "{body:?}");
        }
    }

    #[test]
    fn a_repeated_parameter_is_refused_even_when_spelled_differently() {
        assert!(Form::parse(b"a=1&a=2").is_err());
        assert!(Form::parse(b"a=1&%61=2").is_err());
        assert!(Form::parse(b"a=1&a=").is_ok(), "empty values count as absent");
    }
}
