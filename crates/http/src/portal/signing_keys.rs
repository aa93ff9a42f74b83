//! `/signing-keys`: the keys that sign and check JWTs, and their staged
//! rotation (as `POST /admin/v1/signing-keys/rotate`).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::csrf::{Action, FormFields};
use super::page::{Layout, PortalError, Stamp, is_refusal, refusal_status, render, see_other, user_message};
use super::session::{Admin, plane};
use crate::AppState;

struct KeyRow {
    kid: String,
    algorithm: &'static str,
    state: &'static str,
    created_at: Option<Stamp>,
    signs_from: Option<Stamp>,
}

#[derive(Template)]
#[template(path = "portal/signing_keys.html")]
struct SigningKeysPage {
    layout: Layout,
    form_token: String,
    keys: Vec<KeyRow>,
    rotatable: bool,
}

async fn page(
    state: &AppState,
    admin: &Admin,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<String>,
) -> Result<Response, PortalError> {
    let keys = plane(state)?.service.list_signing_keys().await?;
    let rotatable = keys.iter().all(|key| key.algorithm.is_asymmetric());
    let keys = keys
        .iter()
        .map(|key| KeyRow {
            kid: key.kid.clone(),
            algorithm: key.algorithm.as_str(),
            state: key.state.as_str(),
            created_at: Stamp::maybe(key.created_at),
            signs_from: Stamp::maybe(key.signs_from),
        })
        .collect();
    let page = SigningKeysPage {
        layout: Layout::new("Signing keys", "signing-keys", Some(admin))
            .with_notice(notice)
            .with_error(error),
        form_token: admin.form_token.clone(),
        keys,
        rotatable,
    };
    Ok(render(status, &page))
}

/// `GET /signing-keys`.
pub(super) async fn list(
    State(state): State<AppState>,
    admin: Admin,
    query: FormFields,
) -> Result<Response, PortalError> {
    page(&state, &admin, StatusCode::OK, query.get("notice"), None).await
}

/// `POST /signing-keys/rotate`.
pub(super) async fn rotate(
    State(state): State<AppState>,
    Action { admin, .. }: Action,
) -> Result<Response, PortalError> {
    match plane(&state)?.service.rotate_signing_key(&admin.context, None).await {
        Ok(_) => Ok(see_other("/signing-keys?notice=rotated")),
        Err(err) if is_refusal(&err) => {
            page(&state, &admin, refusal_status(&err), None, Some(user_message(&err))).await
        }
        Err(err) => Err(err.into()),
    }
}
