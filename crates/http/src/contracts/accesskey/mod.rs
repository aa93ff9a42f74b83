//! Contract C (seed 002): `POST /login` with an access key and its secret,
//! answered with 201 and the bare HS384 JWT.
//!
//! - `schema.rs`: the body's JSON schema, checked as AJV 8 reports it
//! - `error.rs`: the contract's errors and their one mapping to the wire

mod error;
mod schema;

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use error::AccessKeyLoginError;
use tollgate_core::Contract;

use crate::AppState;
use crate::http_util::{
    BodyError, headers_and_body, login_context, media_type, no_store, read_body, replace_lone_surrogates,
};
use crate::metrics::{Outcome, record_login};

pub fn routes(path: &str) -> Router<AppState> {
    Router::new().route(path, post(login))
}

async fn login(State(state): State<AppState>, request: Request) -> Response {
    let context = login_context(&state, &request, Contract::AccessKey);
    let (headers, body) = headers_and_body(request);
    let started = Instant::now();
    let result = async {
        let (credentials, raw) = read_request(&headers, body).await?;
        let context = crate::http_util::forwardable(&state, context, &headers, raw);
        Ok::<_, AccessKeyLoginError>(
            state
                .service
                .login_with_access_key(&context, &credentials.access_key, &credentials.secret)
                .await?,
        )
    }
    .await;
    record_login(
        state.service.tally(),
        Contract::AccessKey,
        result.as_ref().map_or_else(AccessKeyLoginError::outcome, |_| Outcome::Success),
        started,
    );
    let mut response = match result {
        Ok(jwt) => (
            StatusCode::CREATED,
            [(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"))],
            jwt.expose().to_owned(),
        )
            .into_response(),
        Err(err) => err.into_response(),
    };
    no_store(response.headers_mut());
    response
}

/// JSON only (415 otherwise), parsed (400), then the schema (400 with
/// details).
async fn read_request(
    headers: &HeaderMap,
    body: Body,
) -> Result<(schema::Credentials, axum::body::Bytes), AccessKeyLoginError> {
    let is_json = media_type(headers).is_some_and(|m| m == "application/json" || m.ends_with("+json"));
    if !is_json {
        return Err(AccessKeyLoginError::UnsupportedMediaType);
    }
    let bytes = read_body(body).await.map_err(|err| match err {
        BodyError::TooLarge => AccessKeyLoginError::TooLarge,
        BodyError::Incomplete => AccessKeyLoginError::MalformedJson,
    })?;
    // LoopBack strips a BOM and, like `JSON.parse`, accepts unpaired
    // surrogate escapes; such a string then simply fails as a credential.
    let text = std::str::from_utf8(&bytes).map_err(|_| AccessKeyLoginError::MalformedJson)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(credentials) = schema::well_formed(text) {
        return Ok((credentials, bytes.clone()));
    }
    let body = schema::read_top_level(&replace_lone_surrogates(text))
        .map_err(|_| AccessKeyLoginError::MalformedJson)?;
    Ok((schema::validate(body).map_err(AccessKeyLoginError::Schema)?, bytes.clone()))
}

/// Contract C's request reader as the handler runs it, up to the core's
/// call (fuzz targets, `fuzz/`).
#[cfg(feature = "fuzzing")]
pub(crate) async fn fuzz_read(headers: &HeaderMap, body: bytes::Bytes) -> Result<(), Response> {
    read_request(headers, Body::from(body)).await.map(drop).map_err(IntoResponse::into_response)
}
