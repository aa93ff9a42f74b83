//! Client authentication (RFC 6749 §2.3.1): an access key is the client,
//! `client_id` its `accessKey` and `client_secret` its `secret`, sent with
//! HTTP Basic (each part form-urlencoded) or in the form, never both.

use std::sync::Arc;

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64::Engine as _;
use tollgate_core::LoginContext;
use tollgate_core::login::Client;
use tollgate_core::secret::AccessSecret;

use super::error::OAuthError;
use super::form::Form;
use crate::AppState;

/// A client's credentials as presented.
struct Presented {
    id: String,
    secret: AccessSecret,
    /// The Basic secret as sent, when form-decoding changed it: generated
    /// secrets are base64 (`+`, `/`), and many clients (`curl -u`, Python
    /// requests) send them without the encoding RFC 6749 §2.3.1 asks for, so
    /// a `+` would arrive as a space. Tried only when `secret` fails.
    secret_as_sent: Option<AccessSecret>,
}

/// The client's credentials as presented, if any.
fn presented(headers: &HeaderMap, form: &Form) -> Result<Option<Presented>, OAuthError> {
    // Two Authorization lines are ambiguous: no client at all.
    if crate::http_util::repeated(headers, &AUTHORIZATION) {
        return Err(OAuthError::InvalidClient);
    }
    let basic = match headers.get(AUTHORIZATION) {
        Some(value) => Some(parse_basic(value.to_str().map_err(|_| OAuthError::InvalidClient)?)?),
        None => None,
    };
    let posted = match (form.get("client_id"), form.get("client_secret")) {
        (Some(id), Some(secret)) => {
            Some(Presented { id: id.to_owned(), secret: AccessSecret::new(secret), secret_as_sent: None })
        }
        (None, None) => None,
        _ => return Err(OAuthError::InvalidClient),
    };
    match (basic, posted) {
        (Some(_), Some(_)) => {
            Err(OAuthError::InvalidRequest("Use one client authentication method, not two."))
        }
        (basic, posted) => Ok(basic.or(posted)),
    }
}

fn parse_basic(value: &str) -> Result<Presented, OAuthError> {
    let (scheme, encoded) = value.trim().split_once(' ').ok_or(OAuthError::InvalidClient)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::InvalidClient);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| OAuthError::InvalidClient)?;
    let decoded = String::from_utf8(decoded).map_err(|_| OAuthError::InvalidClient)?;
    let (id, secret) = decoded.split_once(':').ok_or(OAuthError::InvalidClient)?;
    let unescape = |part: &str| -> String {
        form_urlencoded::parse(format!("x={part}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let decoded_secret = unescape(secret);
    let secret_as_sent = (decoded_secret != secret).then(|| AccessSecret::new(secret));
    Ok(Presented { id: unescape(id), secret: AccessSecret::new(decoded_secret), secret_as_sent })
}

/// The authenticated client, or `invalid_client`.
pub(super) async fn required_client(
    state: &AppState,
    context: &LoginContext,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Arc<Client>, OAuthError> {
    optional_client(state, context, headers, form).await?.ok_or(OAuthError::InvalidClient)
}

/// The authenticated client if credentials were presented; wrong ones are
/// `invalid_client` all the same.
pub(super) async fn optional_client(
    state: &AppState,
    context: &LoginContext,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Option<Arc<Client>>, OAuthError> {
    let Some(presented) = presented(headers, form)? else { return Ok(None) };
    state
        .service
        .authenticate_client(context, &presented.id, &presented.secret, presented.secret_as_sent.as_ref())
        .await
        .map(Some)
        .map_err(OAuthError::from_client_auth)
}

/// Whether the client's credentials can be read, as the token endpoint
/// reads them (fuzz targets, `fuzz/`).
#[cfg(feature = "fuzzing")]
pub(super) fn fuzz_presented(headers: &HeaderMap, form: &Form) -> Result<(), OAuthError> {
    presented(headers, form).map(drop)
}
