//! Who calls the admin API: the bearer of any Tollgate token (A, B, C or
//! OAuth 2.0) of an enabled principal holding the admin role, checked as
//! `/auth/verify?role=…` checks it.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use tollgate_core::{AdminContext, VerifyError};

use super::problem::Problem;
use crate::AppState;
use crate::forward_auth::{Bearer, bearer_token};

/// An administrator's request: what the core's audit trail records.
pub(crate) struct Caller(pub AdminContext);

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let plane = state.admin_plane().ok_or_else(Problem::internal)?;
        let token = match bearer_token(&parts.headers) {
            Bearer::Absent => return Err(Problem::unauthorized("Bearer")),
            Bearer::Malformed => return Err(Problem::unauthorized(r#"Bearer error="invalid_token""#)),
            Bearer::Token(token) => token,
        };
        let identity = state.service.verify_bearer(token).await.map_err(|err| match err {
            VerifyError::Store(err) => {
                crate::http_util::log_failure("admin token check", &err);
                Problem::new(StatusCode::SERVICE_UNAVAILABLE, "The database cannot be reached; try again.")
            }
            _ => Problem::unauthorized(r#"Bearer error="invalid_token""#),
        })?;
        if !identity.roles.contains(&plane.role) {
            return Err(Problem::forbidden(&plane.role));
        }
        let source = crate::http_util::client_address_of(state, &parts.extensions, &parts.headers);
        Ok(Caller(AdminContext::admin(identity.name.clone(), source)))
    }
}
