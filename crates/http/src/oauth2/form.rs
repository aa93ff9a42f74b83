//! Reading an `application/x-www-form-urlencoded` request body the way RFC
//! 6749 §3.2 wants it: no parameter repeated, empty values count as absent.

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
        for (name, value) in form_urlencoded::parse(bytes) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_decoded_and_empty_ones_count_as_absent() {
        let Ok(form) =
            Form::parse(b"grant_type=client_credentials&client_id=abc&client_secret=a%2Fb+c&scope=")
        else {
            panic!("refused")
        };
        assert_eq!(form.get("client_secret"), Some("a/b c"));
        assert_eq!(form.get("grant_type"), Some("client_credentials"));
        assert_eq!(form.get("scope"), None);
    }

    #[test]
    fn thousands_of_distinct_parameters_pass_and_one_repeat_among_them_does_not() {
        let many: String = (0..5000).map(|i| format!("p{i}=v&")).collect();
        assert!(Form::parse(many.as_bytes()).is_ok());
        assert!(Form::parse(format!("{many}p17=again").as_bytes()).is_err());
    }

    #[test]
    fn a_repeated_parameter_is_refused_even_when_spelled_differently() {
        assert!(Form::parse(b"a=1&a=2").is_err());
        assert!(Form::parse(b"a=1&%61=2").is_err());
        assert!(Form::parse(b"a=1&a=").is_ok(), "empty values count as absent");
    }
}
