//! The reference handlers of DESIGN.md §6, served by a minimal axum app so
//! that `bench/run.sh` can measure, in the same run as Tollgate, what this
//! machine gives any axum service: `GET /healthz`; `POST /json`, a handler
//! that parses a JSON body and answers a fixed reply; and `POST /jwt`, the
//! same handler signing an HS384 JWT with `jsonwebtoken`. Their ratios to
//! `/healthz` are the ceiling the contract C target is measured against.
//!
//!   tollgate-calibrate 127.0.0.1:18481

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Login {
    access_key: String,
    secret: String,
}

/// Claims of the size contract C issues.
#[derive(Serialize)]
struct Claims<'a> {
    uid: uuid::Uuid,
    ar: [&'a str; 1],
    ak: uuid::Uuid,
    realm: &'a str,
    iat: u64,
    exp: u64,
    jti: uuid::Uuid,
}

// Tollgate's allocator, so that the comparison is of handlers, not of mallocs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const KEY: &[u8] = b"calibration key, 48 bytes or more, as Tollgate requires";

async fn healthz() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], r#"{"status":"ok"}"#)
}

async fn json(Json(login): Json<Login>) -> impl IntoResponse {
    let accepted = !login.access_key.is_empty() && !login.secret.is_empty();
    (if accepted { StatusCode::CREATED } else { StatusCode::UNAUTHORIZED }, "ok")
}

async fn jwt(Json(login): Json<Login>) -> axum::response::Response {
    if login.access_key.is_empty() || login.secret.is_empty() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let iat = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let claims = Claims {
        uid: uuid::Uuid::new_v4(),
        ar: ["ROLE_PARTNER"],
        ak: uuid::Uuid::new_v4(),
        realm: "Partner",
        iat,
        exp: iat + 3600,
        jti: uuid::Uuid::new_v4(),
    };
    match jsonwebtoken::encode(&Header::new(Algorithm::HS384), &claims, &EncodingKey::from_secret(KEY)) {
        Ok(token) => {
            (StatusCode::CREATED, [(CONTENT_TYPE, "text/plain; charset=utf-8")], token).into_response()
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:18481".into());
    let app =
        Router::new().route("/healthz", get(healthz)).route("/json", post(json)).route("/jwt", post(jwt));
    let listener = tokio::net::TcpListener::bind(&address).await?;
    axum::serve(listener, app).await
}
