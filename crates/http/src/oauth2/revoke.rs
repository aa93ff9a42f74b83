//! `POST /oauth2/revoke` (RFC 7009): a client revokes a token of its own
//! principal. Unknown tokens, and tokens of others, get the same 200 without
//! effect, so the endpoint reveals nothing about tokens.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::client_auth::required_client;
use super::error::OAuthError;
use super::form::Form;
use crate::AppState;

pub(super) async fn revoke_token(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let result = async {
        let form = Form::read(&headers, body).await?;
        let client = required_client(&state, &headers, &form).await?;
        let token = form.require("token", "token is required.")?;
        state.service.revoke_as_client(&client, token).await?;
        Ok::<_, OAuthError>(())
    }
    .await;
    match result {
        Ok(()) => {
            let mut response = StatusCode::OK.into_response();
            crate::http_util::no_store(response.headers_mut());
            response
        }
        Err(err) => err.into_response(),
    }
}
