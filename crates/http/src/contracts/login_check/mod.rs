//! Contract A (seed 000): `POST /v1/login_check` with a username and a
//! password, answered with an opaque 24 h token and a refresh token; plus
//! `POST /v1/token/refresh`, which rotates the refresh token.

mod error;
mod wire;

use std::time::Instant;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use tollgate_core::{Contract, SessionTokens};

pub use error::{LoginCheckError, error_list, internal_error};
use wire::{LoginCheckRequest, RefreshRequest, SessionResponse};

use crate::AppState;
use crate::http_util::{headers_and_body, login_context};
use crate::metrics::{Outcome, record_login};

/// Where the refresh endpoint lives (not in the document; our extension).
pub const REFRESH_PATH: &str = "/v1/token/refresh";

/// The contract's routes, with the login at `path`.
pub fn routes(path: &str) -> Router<AppState> {
    Router::new().route(path, post(login_check)).route(REFRESH_PATH, post(refresh_token))
}

async fn login_check(State(state): State<AppState>, request: Request) -> Response {
    let context = login_context(&state, &request, Contract::LoginCheck);
    let (headers, body) = headers_and_body(request);
    let started = Instant::now();
    let result = async {
        let request = LoginCheckRequest::parse(&headers, body).await?;
        let context = crate::http_util::forwardable(&state, context, &headers, request.raw.clone());
        Ok::<_, LoginCheckError>(
            state.service.login_with_password(&context, &request.username, &request.password).await?,
        )
    }
    .await;
    respond(&state, result, started)
}

async fn refresh_token(State(state): State<AppState>, request: Request) -> Response {
    let context = login_context(&state, &request, Contract::LoginCheck);
    let (headers, body) = headers_and_body(request);
    let started = Instant::now();
    let result = async {
        let request = RefreshRequest::parse(&headers, body).await?;
        Ok::<_, LoginCheckError>(
            state.service.refresh_session(&context, request.refresh_token.expose()).await?,
        )
    }
    .await;
    respond(&state, result, started)
}

fn respond(state: &AppState, result: Result<SessionTokens, LoginCheckError>, started: Instant) -> Response {
    let outcome = match &result {
        Ok(_) => Outcome::Success,
        Err(err) => err.outcome(),
    };
    record_login(state.service.tally(), Contract::LoginCheck, outcome, started);
    let mut response = match result {
        Ok(tokens) => Json(SessionResponse::of(&tokens)).into_response(),
        Err(err) => err.into_response(),
    };
    crate::http_util::no_store(response.headers_mut());
    response
}

/// Contract A's request readers as the handlers run them, up to the core's
/// call: the status each answers (fuzz targets, `fuzz/`).
#[cfg(feature = "fuzzing")]
pub(crate) async fn fuzz_read(
    headers: &axum::http::HeaderMap,
    body: bytes::Bytes,
) -> [Result<(), Response>; 2] {
    let login = LoginCheckRequest::parse(headers, axum::body::Body::from(body.clone())).await;
    let refresh = RefreshRequest::parse(headers, axum::body::Body::from(body)).await;
    [
        login.map(drop).map_err(IntoResponse::into_response),
        refresh.map(drop).map_err(IntoResponse::into_response),
    ]
}
