//! `POST /oauth2/token`.

use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Serialize;

use super::client_auth::{optional_client, required_client};
use super::error::OAuthError;
use super::form::Form;
use crate::AppState;
use crate::metrics::{Outcome, record_login};

/// RFC 6749 §5.1.
#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
}

pub(super) async fn issue_token(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let result = grant(&state, &headers, body).await;
    let outcome = match &result {
        Ok(_) => Outcome::Success,
        Err(OAuthError::InvalidClient | OAuthError::InvalidGrant) => Outcome::BadCredentials,
        Err(OAuthError::Overloaded) => Outcome::Overloaded,
        Err(OAuthError::ServerError) => Outcome::Error,
        Err(_) => Outcome::InvalidRequest,
    };
    record_login("oauth2", outcome, started);
    super::respond(result)
}

async fn grant(state: &AppState, headers: &HeaderMap, body: Body) -> Result<TokenResponse, OAuthError> {
    let form = Form::read(headers, body).await?;
    match form.require("grant_type", "grant_type is required.")? {
        "client_credentials" => {
            let client = required_client(state, headers, &form).await?;
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
            optional_client(state, headers, &form).await?;
            let refresh_token = form.require("refresh_token", "refresh_token is required.")?;
            let tokens =
                state.service.refresh_session(refresh_token).await.map_err(OAuthError::from_grant)?;
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
