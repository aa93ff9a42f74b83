//! `POST /oauth2/revoke` (RFC 7009): a client revokes a token of its own
//! principal. Unknown tokens, and tokens of others, get the same 200 without
//! effect, so the endpoint reveals nothing about tokens.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tollgate_core::Contract;

use super::client_auth::required_client;
use super::error::OAuthError;
use super::form::Form;
use crate::AppState;
use crate::http_util::{headers_and_body, login_context};

pub(super) async fn revoke_token(State(state): State<AppState>, request: Request) -> Response {
    let context = login_context(&state, &request, Contract::OAuth2);
    let (headers, body) = headers_and_body(request);
    let result = async {
        let form = Form::read(&headers, body).await?;
        let client = required_client(&state, &context, &headers, &form).await?;
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
