//! Lazy migration's client (DESIGN.md §10): posts a login Tollgate cannot
//! answer, as it came, to the legacy service's endpoint, and reads the
//! answer in that contract's wire format. One pooled `reqwest` client
//! (rustls, certificates verified), bounded by `[migration] timeout`.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use tollgate_core::login::{Upstream, UpstreamAnswer, UpstreamClaims};
use tollgate_core::{Contract, Forwarded};

/// Most of an upstream answer read: a token is short.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Where each contract's unknown logins go.
#[derive(Debug, Clone, Default)]
pub struct UpstreamSettings {
    pub login_check: Option<String>,
    pub apikey: Option<String>,
    pub accesskey: Option<String>,
    /// Checks the signature of the upstream's contract C JWTs (HMAC).
    pub accesskey_jwt_secret: Option<Vec<u8>>,
    /// How long one forwarded login may take, connection included.
    pub timeout: Duration,
}

impl UpstreamSettings {
    pub fn any(&self) -> bool {
        self.login_check.is_some() || self.apikey.is_some() || self.accesskey.is_some()
    }
}

/// The legacy endpoints, over HTTP.
pub struct HttpUpstream {
    client: reqwest::Client,
    settings: UpstreamSettings,
}

impl HttpUpstream {
    pub fn new(settings: UpstreamSettings) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            // A legacy endpoint that redirects is answering something else.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { client, settings })
    }

    fn endpoint(&self, contract: Contract) -> Option<&str> {
        match contract {
            Contract::LoginCheck => self.settings.login_check.as_deref(),
            Contract::ApiKey => self.settings.apikey.as_deref(),
            Contract::AccessKey => self.settings.accesskey.as_deref(),
            Contract::OAuth2 | Contract::Portal => None,
        }
    }

    /// The answer's status and (bounded) body.
    async fn post(&self, url: &str, request: &Forwarded) -> Result<(StatusCode, Vec<u8>), String> {
        let mut response = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, request.content_type.as_str())
            .body(request.body.clone())
            .send()
            .await
            .map_err(|err| describe(&err))?;
        let status = StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|err| describe(&err))? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err("the answer is too large".into());
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, body))
    }

    /// A success of the contract's own kind, read as that contract writes it.
    fn judge_success(&self, contract: Contract, status: StatusCode, body: &[u8]) -> UpstreamAnswer {
        match (contract, status) {
            (Contract::LoginCheck, StatusCode::OK) => {
                let token = serde_json::from_slice::<Value>(body)
                    .ok()
                    .and_then(|answer| answer.get("token").and_then(Value::as_str).map(str::len));
                match token {
                    Some(len) if len > 0 => UpstreamAnswer::Accepted(None),
                    _ => UpstreamAnswer::Unavailable("a 200 without a token".into()),
                }
            }
            (Contract::ApiKey, StatusCode::OK) => UpstreamAnswer::Accepted(None),
            (Contract::AccessKey, StatusCode::CREATED) => match self.claims(body) {
                Ok(claims) => UpstreamAnswer::Accepted(Some(claims)),
                Err(why) => UpstreamAnswer::Unavailable(why),
            },
            (_, status) => UpstreamAnswer::Unavailable(format!("an unexpected {status}")),
        }
    }

    /// The principal and key a legacy contract C JWT names, its signature
    /// checked when `jwt_secret` is configured.
    fn claims(&self, body: &[u8]) -> Result<UpstreamClaims, String> {
        let token = std::str::from_utf8(body).map_err(|_| "the JWT is not text".to_owned())?.trim();
        let claims: Value = match &self.settings.accesskey_jwt_secret {
            Some(secret) => verified_claims(token, secret)?,
            None => {
                let payload = token.split('.').nth(1).ok_or("not a JWT")?;
                let bytes =
                    URL_SAFE_NO_PAD.decode(payload).map_err(|_| "the JWT's payload is not base64url")?;
                serde_json::from_slice(&bytes).map_err(|_| "the JWT's payload is not JSON")?
            }
        };
        let uuid = |name: &str| {
            claims
                .get(name)
                .and_then(Value::as_str)
                .and_then(|text| uuid::Uuid::parse_str(text).ok())
                .ok_or_else(|| format!("the JWT has no {name} UUID"))
        };
        let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
        let roles = match claims.get("ar") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(roles)) => roles
                .iter()
                .map(|role| role.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .ok_or("ar is not a list of strings")?,
            Some(_) => return Err("ar is not a list of strings".into()),
        };
        let attributes: BTreeMap<String, String> = ["ca", "cid", "domain"]
            .into_iter()
            .filter_map(|name| Some((name.to_owned(), text(name)?)))
            .collect();
        Ok(UpstreamClaims { uid: uuid("uid")?, roles, ak: uuid("ak")?, realm: text("realm"), attributes })
    }
}

/// The claims of an HMAC-signed JWT whose signature and expiry hold.
fn verified_claims(token: &str, secret: &[u8]) -> Result<Value, String> {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
    let header = decode_header(token).map_err(|_| "not a JWT".to_owned())?;
    if !matches!(header.alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
        return Err("the JWT is not HMAC-signed".into());
    }
    let mut validation = Validation::new(header.alg);
    validation.required_spec_claims.clear();
    validation.validate_aud = false;
    decode::<Value>(token, &DecodingKey::from_secret(secret), &validation)
        .map(|data| data.claims)
        .map_err(|_| "the JWT fails migration.accesskey.jwt_secret".into())
}

#[async_trait]
impl Upstream for HttpUpstream {
    fn serves(&self, contract: Contract) -> bool {
        self.endpoint(contract).is_some()
    }

    async fn forward(&self, contract: Contract, request: &Forwarded) -> UpstreamAnswer {
        let Some(url) = self.endpoint(contract) else {
            return UpstreamAnswer::Unavailable("no upstream".into());
        };
        match self.post(url, request).await {
            Err(why) => UpstreamAnswer::Unavailable(why),
            Ok((status, _)) if status.is_client_error() => UpstreamAnswer::Refused,
            Ok((status, body)) => self.judge_success(contract, status, &body),
        }
    }
}

/// Why a request failed, without the URL's query or anything sent.
fn describe(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        "timed out".into()
    } else if err.is_connect() {
        "cannot connect".into()
    } else {
        "the request failed".into()
    }
}
