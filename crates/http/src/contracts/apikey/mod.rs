//! Contract B (seed 001): `POST /api/login` with a login name and an API key,
//! in JSON or XML, answered with a short-lived token in the format the
//! client negotiates.
//!
//! - `negotiate.rs`: which format the answer is in (Accept, then Content-Type)
//! - `json.rs`, `xml.rs`: reading the request and writing the answer
//! - `error.rs`: the contract's errors and their one mapping to the wire

mod error;
mod json;
mod negotiate;
mod xml;

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tollgate_core::secret::ApiKey;
use tollgate_core::{Contract, IssuedToken};

use error::ApiKeyLoginError;
use negotiate::Format;

use crate::AppState;
use crate::http_util::{
    charset, decode_text, headers_and_body, login_context, media_type, no_store, read_body,
};
use crate::metrics::{Outcome, record_login};

/// What the client sent, whichever format it came in.
struct LoginRequest {
    user_login: Option<String>,
    api_key: Option<String>,
}

pub fn routes(path: &str) -> Router<AppState> {
    Router::new().route(path, post(login))
}

/// Whether `path` is the contract's path in another letter case
/// (`/API/Login`): ASP.NET's routing matches either, and legacy clients may
/// spell it so. Exact spellings are routed before this is asked.
pub(crate) fn is_path_in_other_case(mounted: &str, path: &str) -> bool {
    path.eq_ignore_ascii_case(mounted)
}

pub(crate) async fn login(State(state): State<AppState>, request: Request) -> Response {
    let context = login_context(&state, &request, Contract::ApiKey);
    let (headers, body) = headers_and_body(request);
    let started = Instant::now();
    let format = negotiate::response_format(&headers);
    let result = async {
        let (user_login, api_key, raw) = read_request(&headers, body).await?;
        let context = crate::http_util::forwardable(&state, context, &headers, raw);
        Ok::<_, ApiKeyLoginError>(state.service.login_with_api_key(&context, &user_login, &api_key).await?)
    }
    .await;
    record_login(
        state.service.tally(),
        Contract::ApiKey,
        result.as_ref().map_or_else(ApiKeyLoginError::outcome, |_| Outcome::Success),
        started,
    );
    let (status, body) = match &result {
        Ok(issued) => (axum::http::StatusCode::OK, render_success(format, issued)),
        Err(err) => (err.status(), err.render(format)),
    };
    let mut response = (status, [(CONTENT_TYPE, format.content_type())], body).into_response();
    if let Err(err) = &result {
        err.add_headers(response.headers_mut());
    }
    no_store(response.headers_mut());
    response
}

/// Media type (415), body (1002), both fields present and non-empty (1002).
async fn read_request(
    headers: &HeaderMap,
    body: Body,
) -> Result<(String, ApiKey, axum::body::Bytes), ApiKeyLoginError> {
    let is_xml = match media_type(headers).as_deref() {
        Some("application/json") => false,
        Some("application/xml" | "text/xml") => true,
        _ => return Err(ApiKeyLoginError::UnsupportedMediaType),
    };
    let bytes = read_body(body).await.map_err(|_| ApiKeyLoginError::BadRequest)?;
    // Only the media type decides 415; a body that cannot be read in its
    // declared charset cannot be bound (1002).
    let text = decode_text(&bytes, charset(headers).as_deref()).ok_or(ApiKeyLoginError::BadRequest)?;
    let text = text.as_str();
    let request = if is_xml { xml::parse_request(text)? } else { json::parse_request(text)? };
    match (request.user_login, request.api_key) {
        (Some(login), Some(key)) if !login.is_empty() && !key.is_empty() => {
            Ok((login, ApiKey::new(key), bytes.clone()))
        }
        _ => Err(ApiKeyLoginError::BadRequest),
    }
}

fn render_success(format: Format, issued: &IssuedToken) -> String {
    let seconds = issued.lifetime.as_secs();
    match format {
        Format::Json => json::render_success(issued.token.expose(), seconds, issued.expires_at),
        Format::Xml(_) => xml::render_success(issued.token.expose(), seconds, issued.expires_at),
    }
}

/// Contract B's request reader and answer negotiation as the handler runs
/// them, up to the core's call (fuzz targets, `fuzz/`).
#[cfg(feature = "fuzzing")]
pub(crate) async fn fuzz_read(headers: &HeaderMap, body: bytes::Bytes) -> Result<(), Response> {
    let format = negotiate::response_format(headers);
    match read_request(headers, Body::from(body)).await {
        Ok(_) => Ok(()),
        Err(err) => {
            let mut response =
                (err.status(), [(CONTENT_TYPE, format.content_type())], err.render(format)).into_response();
            err.add_headers(response.headers_mut());
            Err(response)
        }
    }
}
