//! `POST /oauth2/token`.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::response::Response;
use tollgate_core::secret::PlainToken;
use tollgate_core::{Contract, LoginContext};

use super::client_auth::{optional_client, required_client};
use super::error::OAuthError;
use super::form::Form;
use crate::AppState;
use crate::http_util::{headers_and_body, login_context};
use crate::metrics::{Outcome, record_login};

/// RFC 6749 §5.1.
struct TokenResponse {
    access_token: PlainToken,
    token_type: &'static str,
    expires_in: u64,
    refresh_token: Option<PlainToken>,
}

impl TokenResponse {
    /// The bytes serde gives, written directly: JWTs are long, and serde
    /// checks them for escapes byte by byte. Tokens are base64url and dots,
    /// so one branch-free pass shows they need none.
    fn to_json(&self) -> Vec<u8> {
        fn string(out: &mut Vec<u8>, text: &str) {
            let plain = text.bytes().fold(true, |plain, b| plain & (b >= 0x20 && b != b'"' && b != b'\\'));
            if plain {
                out.push(b'"');
                out.extend_from_slice(text.as_bytes());
                out.push(b'"');
            } else {
                // Writing a string into a Vec cannot fail.
                let _ = serde_json::to_writer(&mut *out, text);
            }
        }
        let refresh_len = self.refresh_token.as_ref().map_or(0, |token| token.expose().len());
        let mut out = Vec::with_capacity(self.access_token.expose().len() + refresh_len + 96);
        out.extend_from_slice(b"{\"access_token\":");
        string(&mut out, self.access_token.expose());
        out.extend_from_slice(b",\"token_type\":");
        string(&mut out, self.token_type);
        out.extend_from_slice(b",\"expires_in\":");
        out.extend_from_slice(itoa::Buffer::new().format(self.expires_in).as_bytes());
        if let Some(refresh_token) = &self.refresh_token {
            out.extend_from_slice(b",\"refresh_token\":");
            string(&mut out, refresh_token.expose());
        }
        out.push(b'}');
        out
    }
}

pub(super) async fn issue_token(State(state): State<AppState>, request: Request) -> Response {
    let context = login_context(&state, &request, Contract::OAuth2);
    let (headers, body) = headers_and_body(request);
    let started = Instant::now();
    let result = grant(&state, &context, &headers, body).await;
    let outcome = match &result {
        Ok(_) => Outcome::Success,
        Err(OAuthError::InvalidClient | OAuthError::InvalidGrant) => Outcome::BadCredentials,
        Err(OAuthError::Overloaded) => Outcome::Overloaded,
        Err(OAuthError::RateLimited(_)) => Outcome::RateLimited,
        Err(OAuthError::ServerError) => Outcome::Error,
        Err(_) => Outcome::InvalidRequest,
    };
    record_login(state.service.tally(), Contract::OAuth2, outcome, started);
    super::respond_json(result.map(|response| response.to_json()))
}

async fn grant(
    state: &AppState,
    context: &LoginContext,
    headers: &HeaderMap,
    body: Body,
) -> Result<TokenResponse, OAuthError> {
    let form = Form::read(headers, body).await?;
    match form.require("grant_type", "grant_type is required.")? {
        "client_credentials" => {
            let client = required_client(state, context, headers, &form).await?;
            let issued = state.service.issue_client_jwt(&client).map_err(OAuthError::from_grant)?;
            Ok(TokenResponse {
                access_token: issued.token,
                token_type: "Bearer",
                expires_in: issued.expires_in.as_secs(),
                refresh_token: None,
            })
        }
        "refresh_token" => {
            // Contract A's refresh tokens belong to public clients; a client
            // that does authenticate must do so correctly.
            optional_client(state, context, headers, &form).await?;
            let refresh_token = form.require("refresh_token", "refresh_token is required.")?;
            let tokens = state
                .service
                .refresh_session(context, refresh_token)
                .await
                .map_err(OAuthError::from_grant)?;
            let expires_in = (tokens.expires_at - tokens.issued_at).whole_seconds().max(0);
            Ok(TokenResponse {
                access_token: tokens.token,
                token_type: "Bearer",
                expires_in: u64::try_from(expires_in).unwrap_or_default(),
                refresh_token: Some(tokens.refresh_token),
            })
        }
        _ => Err(OAuthError::UnsupportedGrantType),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_json_is_what_serde_writes() {
        let cases = [
            ("eyJhbGciOiJIUzM4NCJ9.e30.c2ln", None),
            ("opaque", Some("refresh")),
            ("quote\" back\\slash \n é", Some("\u{1}")),
        ];
        for (access_token, refresh_token) in cases {
            let response = TokenResponse {
                access_token: PlainToken::new(access_token),
                token_type: "Bearer",
                expires_in: 3600,
                refresh_token: refresh_token.map(PlainToken::new),
            };
            let mut expected = serde_json::json!({
                "access_token": access_token, "token_type": "Bearer", "expires_in": 3600,
            });
            if let Some(refresh_token) = refresh_token {
                expected["refresh_token"] = refresh_token.into();
            }
            assert_eq!(
                String::from_utf8(response.to_json()).expect("utf-8"),
                serde_json::to_string(&expected).expect("json")
            );
        }
    }
}
