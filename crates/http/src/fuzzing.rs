//! Entry points for the fuzz targets under `fuzz/` and for the replay of
//! their corpus in the ordinary test run (`tests/fuzz_corpus.rs`), behind
//! the `fuzzing` feature; not an API.
//!
//! A request input is a request's head and body as text: `name: value`
//! lines, an empty line, then the body, so that corpus files read like the
//! requests they stand for (and may repeat a header, as attackers do). Each
//! entry runs one parser exactly as its handler does, up to the core's call,
//! and panics on what must never happen: a parser refusing with anything but
//! a 4xx, a bearer token outside RFC 6750's alphabet, a forged or altered
//! JWT accepted, a signed JWT that does not read back as it was signed.

use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;
use bytes::Bytes;
use tollgate_core::jwt::{JwtCodec, SubjectClaims};
use uuid::Uuid;

use crate::forward_auth::{Bearer, bearer_token};

/// A request as the fuzzer wrote it.
pub struct FuzzRequest {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl FuzzRequest {
    /// Header lines the `http` crate would not accept off the wire (a bad
    /// name or value) are dropped, as hyper would refuse the request.
    pub fn parse(data: &[u8]) -> Self {
        let (head, body) = match head_end(data) {
            Some(at) => (&data[..at], &data[at + 2..]),
            None => (data, &data[data.len()..]),
        };
        let mut headers = HeaderMap::new();
        for line in head.split(|&b| b == b'\n') {
            let Some(colon) = line.iter().position(|&b| b == b':') else { continue };
            let value = line[colon + 1..].trim_ascii();
            if let (Ok(name), Ok(value)) =
                (HeaderName::from_bytes(line[..colon].trim_ascii()), HeaderValue::from_bytes(value))
            {
                headers.append(name, value);
            }
        }
        Self { headers, body: Bytes::copy_from_slice(body) }
    }
}

/// Where the head ends (`\n\n`).
fn head_end(data: &[u8]) -> Option<usize> {
    data.windows(2).position(|pair| pair == b"\n\n")
}

fn block_on<F: Future>(future: F) -> F::Output {
    thread_local! {
        // The readers time out slow bodies, so they need tokio's clock.
        static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap_or_else(|err| panic!("a tokio runtime for the fuzz targets: {err}"));
    }
    RUNTIME.with(|runtime| runtime.block_on(future))
}

/// A parser's refusal is the client's fault by definition: a 5xx here would
/// tell a client the server broke on its input.
fn assert_client_error(what: &str, result: &Result<(), Response>) {
    if let Err(response) = result {
        assert!(response.status().is_client_error(), "{what} refused with {}", response.status());
    }
}

/// Contract A: `POST /v1/login_check` and `POST /v1/token/refresh`.
pub fn login_check(data: &[u8]) {
    let request = FuzzRequest::parse(data);
    let [login, refresh] = block_on(crate::contracts::login_check::fuzz_read(&request.headers, request.body));
    assert_client_error("login_check", &login);
    assert_client_error("token/refresh", &refresh);
}

/// Contract B: `POST /api/login`, JSON or XML, with its answer negotiated.
pub fn api_key(data: &[u8]) {
    let request = FuzzRequest::parse(data);
    let result = block_on(crate::contracts::apikey::fuzz_read(&request.headers, request.body));
    assert_client_error("api/login", &result);
}

/// Contract C: `POST /login`.
pub fn access_key(data: &[u8]) {
    let request = FuzzRequest::parse(data);
    let result = block_on(crate::contracts::accesskey::fuzz_read(&request.headers, request.body));
    assert_client_error("login", &result);
}

/// OAuth 2.0's token endpoint: the form and the client's credentials
/// (`Authorization: Basic` or the form's).
pub fn oauth_token(data: &[u8]) {
    let request = FuzzRequest::parse(data);
    let result = block_on(crate::oauth2::fuzz_read(&request.headers, request.body));
    assert_client_error("oauth2/token", &result);
}

/// The `Authorization` header, read as a bearer token (forward-auth,
/// introspection) and as OAuth 2.0 client credentials.
pub fn authorization(data: &[u8]) {
    let mut request = FuzzRequest::parse(data);
    if let Bearer::Token(token) = bearer_token(&request.headers) {
        let body = token.trim_end_matches('=');
        assert!(!body.is_empty() && token.len() <= 8192, "bearer token of length {}", token.len());
        assert!(
            body.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)),
            "bearer token outside RFC 6750's b64token: {token:?}"
        );
    }
    request.headers.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    let result = block_on(crate::oauth2::fuzz_read(&request.headers, Bytes::from_static(b"grant_type=x")));
    assert_client_error("client authentication", &result);
}

const FUZZ_SECRET: &[u8] = b"the fuzz targets' HS384 secret, 48 bytes long.!!";

/// One codec for every input (keying HMAC per input would be the fuzzer's
/// own cost, not the code's).
static CODEC: LazyLock<JwtCodec> = LazyLock::new(|| JwtCodec::hs384(FUZZ_SECRET, Duration::from_secs(5)));

/// The token `jwt_verify` alters, signed once.
static SIGNED: LazyLock<String> = LazyLock::new(|| {
    let claims = SubjectClaims {
        uid: Uuid::from_u128(1),
        ar: &["reader".to_owned()],
        ak: Uuid::from_u128(2),
        realm: Some("realm"),
        attributes: &BTreeMap::new(),
    };
    let Ok(template) = CODEC.prepare(&claims) else { panic!("preparing a token") };
    let Ok(signed) = CODEC.sign(&template, 1_700_000_000, 1_700_003_600, Uuid::from_u128(3)) else {
        panic!("signing a token")
    };
    signed
});

/// JWT verification: text that was not signed with the key is refused, and
/// a signed token changed anywhere either is refused or still says exactly
/// what was signed (base64's spare bits).
pub fn jwt_verify(data: &[u8]) {
    let codec = &*CODEC;
    if let Ok(text) = std::str::from_utf8(data) {
        assert!(codec.verify(text).is_err(), "an unsigned token was accepted: {text:?}");
    }
    let signed = &*SIGNED;
    let mut altered = signed.clone().into_bytes();
    for (at, &change) in data.iter().enumerate() {
        let index = at % altered.len();
        altered[index] ^= change;
    }
    if altered == signed.as_bytes() {
        return;
    }
    let Ok(text) = std::str::from_utf8(&altered) else { return };
    if let Ok(read) = codec.verify(text) {
        assert_eq!(
            (read.uid, read.ak, read.ar.as_slice(), read.realm.as_deref(), read.iat, read.exp, read.jti),
            (
                Uuid::from_u128(1),
                Uuid::from_u128(2),
                ["reader".to_owned()].as_slice(),
                Some("realm"),
                1_700_000_000,
                1_700_003_600,
                Some(Uuid::from_u128(3))
            ),
            "an altered token was accepted with other claims: {text:?}"
        );
    }
}

/// JWT signing: the hand-assembled payload (a template plus each token's
/// own claims) of any roles, realm and attributes reads back, through
/// jsonwebtoken and through plain JSON, as exactly what was signed.
pub fn jwt_sign(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\u{0}');
    let roles: Vec<String> = parts.next().unwrap_or_default().split(',').map(str::to_owned).collect();
    let realm = parts.next();
    let mut attributes = BTreeMap::new();
    while let (Some(name), Some(value)) = (parts.next(), parts.next()) {
        // Claims Tollgate sets itself are refused as attribute names.
        if !tollgate_core::admin::RESERVED_CLAIMS.contains(&name) {
            attributes.insert(name.to_owned(), value.to_owned());
        }
    }
    let codec = &*CODEC;
    let claims = SubjectClaims {
        uid: Uuid::from_u128(7),
        ar: &roles,
        ak: Uuid::from_u128(8),
        realm,
        attributes: &attributes,
    };
    let Ok(template) = codec.prepare(&claims) else { panic!("preparing a token") };
    let iat = i64::from(data.len() as u32) + 1_700_000_000;
    let Ok(token) = codec.sign(&template, iat, iat + 3600, Uuid::from_u128(9)) else {
        panic!("signing a token")
    };
    let read = codec.verify(&token).unwrap_or_else(|err| panic!("a token we signed was refused: {err}"));
    assert_eq!((read.uid, read.ak, &read.ar, read.realm.as_deref()), (claims.uid, claims.ak, &roles, realm));
    assert_eq!((read.iat, read.exp, read.jti), (iat, iat + 3600, Some(Uuid::from_u128(9))));

    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap_or_default();
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap_or_else(|err| panic!("the payload is not base64url: {err}"));
    let payload: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&payload)
        .unwrap_or_else(|err| panic!("the payload is not a JSON object: {err}"));
    for (name, value) in &attributes {
        assert_eq!(payload.get(name).and_then(|v| v.as_str()), Some(value.as_str()), "attribute {name:?}");
    }
}
