//! Reading an `application/x-www-form-urlencoded` request body the way RFC
//! 6749 §3.2 wants it: no parameter repeated, empty values count as absent.

use std::collections::HashMap;

use axum::body::Body;
use axum::http::HeaderMap;

use super::error::OAuthError;
use crate::http_util::{media_type, read_body};

pub(super) struct Form(HashMap<String, String>);

impl Form {
    pub(super) async fn read(headers: &HeaderMap, body: Body) -> Result<Self, OAuthError> {
        if media_type(headers).as_deref() != Some("application/x-www-form-urlencoded") {
            return Err(OAuthError::InvalidRequest("The body must be application/x-www-form-urlencoded."));
        }
        let bytes =
            read_body(body).await.ok_or(OAuthError::InvalidRequest("The request body is too large."))?;
        let mut params = HashMap::new();
        for (name, value) in form_urlencoded::parse(&bytes) {
            if value.is_empty() {
                continue;
            }
            if params.insert(name.into_owned(), value.into_owned()).is_some() {
                return Err(OAuthError::InvalidRequest("A parameter was given more than once."));
            }
        }
        Ok(Self(params))
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub(super) fn require(&self, name: &str, missing: &'static str) -> Result<&str, OAuthError> {
        self.get(name).ok_or(OAuthError::InvalidRequest(missing))
    }
}
