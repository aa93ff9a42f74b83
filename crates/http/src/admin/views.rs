//! The management plane's JSON: what the admin API answers and what the
//! command line prints with `--json`, one shape for both (camelCase as on
//! the wire, times RFC 3339 UTC).

use std::collections::BTreeMap;

use serde::Serialize;
use time::OffsetDateTime;
use tollgate_core::Principal;
use tollgate_core::admin::{CreatedAccessKey, IssuedApiKey, Lockout, SigningKeyStatus};
use tollgate_core::audit::AuditRecord;
use tollgate_core::model::{AccessKeyInfo, ApiKeyStatus};
use tollgate_core::time_util::rfc3339;
use utoipa::ToSchema;

fn time(at: OffsetDateTime) -> String {
    rfc3339(at)
}

fn maybe_time(at: Option<OffsetDateTime>) -> Option<String> {
    at.map(rfc3339)
}

/// A principal: who tokens are issued to.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrincipalView {
    #[schema(format = Uuid)]
    pub id: String,
    pub name: String,
    pub roles: Vec<String>,
    pub realm: Option<String>,
    pub attributes: BTreeMap<String, String>,
    pub enabled: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// `null` (no password), `argon2id`, or the legacy format it was
    /// imported in (until the first login rehashes it).
    pub password_format: Option<String>,
    /// Set while a lockout (too many failed logins) runs.
    #[schema(format = DateTime)]
    pub locked_until: Option<String>,
}

impl PrincipalView {
    pub fn of(principal: &Principal, now: OffsetDateTime) -> Self {
        Self {
            id: principal.id.to_string(),
            name: principal.name.clone(),
            roles: principal.roles.clone(),
            realm: principal.realm.clone(),
            attributes: principal.attributes.clone(),
            enabled: principal.enabled,
            created_at: time(principal.created_at),
            password_format: principal.password_format.clone(),
            locked_until: maybe_time(principal.lockout.locked_until.filter(|until| now < *until)),
        }
    }
}

/// A newly issued API key: the only time `apiKey` is shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssuedApiKeyView {
    #[schema(format = Uuid)]
    pub id: String,
    /// The holder's name.
    pub principal: String,
    /// Contract B's `ApiKey`; shown once, never stored.
    pub api_key: String,
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&IssuedApiKey> for IssuedApiKeyView {
    fn from(issued: &IssuedApiKey) -> Self {
        Self {
            id: issued.id.0.to_string(),
            principal: issued.principal.clone(),
            api_key: issued.api_key.expose().to_owned(),
            expires_at: maybe_time(issued.expires_at),
            created_at: time(issued.created_at),
        }
    }
}

/// An API key as listed (never the key itself).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyView {
    #[schema(format = Uuid)]
    pub id: String,
    pub principal: String,
    /// `active`, `expired` or `revoked`.
    #[schema(example = "active")]
    pub state: &'static str,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// To the minute.
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    #[schema(format = DateTime)]
    pub revoked_at: Option<String>,
}

impl From<&ApiKeyStatus> for ApiKeyView {
    fn from(status: &ApiKeyStatus) -> Self {
        let key = &status.key;
        Self {
            id: key.id.0.to_string(),
            principal: key.principal_name.clone(),
            state: status.state.as_str(),
            created_at: time(key.created_at),
            last_used_at: maybe_time(key.last_used_at),
            expires_at: maybe_time(key.expires_at),
            revoked_at: maybe_time(key.revoked_at),
        }
    }
}

/// A newly created access key: the only time `secret` is shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedAccessKeyView {
    #[schema(format = Uuid)]
    pub id: String,
    pub principal: String,
    /// Contract C's `accessKey` (40 hex digits); also the OAuth 2.0 `client_id`.
    pub access_key: String,
    /// Shown once, never stored.
    pub secret: String,
    /// `active` or `pending`.
    pub state: &'static str,
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&CreatedAccessKey> for CreatedAccessKeyView {
    fn from(created: &CreatedAccessKey) -> Self {
        Self {
            id: created.id.0.to_string(),
            principal: created.principal.clone(),
            access_key: created.access_key.clone(),
            secret: created.secret.expose().to_owned(),
            state: created.state.as_str(),
            expires_at: maybe_time(created.expires_at),
            created_at: time(created.created_at),
        }
    }
}

/// An access key as listed (never the secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessKeyView {
    #[schema(format = Uuid)]
    pub id: String,
    pub principal: String,
    pub access_key: String,
    /// `pending`, `active`, `expired` or `revoked`.
    #[schema(example = "active")]
    pub state: &'static str,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// To the minute.
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

impl From<&AccessKeyInfo> for AccessKeyView {
    fn from(key: &AccessKeyInfo) -> Self {
        Self {
            id: key.id.0.to_string(),
            principal: key.principal_name.clone(),
            access_key: key.access_key.clone(),
            state: key.state.as_str(),
            created_at: time(key.created_at),
            last_used_at: maybe_time(key.last_used_at),
            expires_at: maybe_time(key.expires_at),
        }
    }
}

/// A key that signs or checks JWTs; never its material.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SigningKeyView {
    /// The JWKS `kid`; for an HMAC secret (whose tokens carry none), a
    /// fingerprint to compare between nodes.
    pub kid: String,
    #[schema(example = "ES256")]
    pub algorithm: &'static str,
    /// `pending` (published, not signing yet), `signing`, `published`
    /// (replaced, still checking its tokens) or `retired`.
    pub state: &'static str,
    /// Unknown for a configured HMAC secret.
    #[schema(format = DateTime)]
    pub created_at: Option<String>,
    #[schema(format = DateTime)]
    pub signs_from: Option<String>,
}

impl From<&SigningKeyStatus> for SigningKeyView {
    fn from(status: &SigningKeyStatus) -> Self {
        Self {
            kid: status.kid.clone(),
            algorithm: status.algorithm.as_str(),
            state: status.state.as_str(),
            created_at: maybe_time(status.created_at),
            signs_from: maybe_time(status.signs_from),
        }
    }
}

/// A name with failed logins counted, or locked.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LockoutView {
    pub name: String,
    pub failures: u32,
    #[schema(format = DateTime)]
    pub locked_until: Option<String>,
}

impl From<&Lockout> for LockoutView {
    fn from(lockout: &Lockout) -> Self {
        Self {
            name: lockout.name.clone(),
            failures: lockout.failures,
            locked_until: maybe_time(lockout.locked_until),
        }
    }
}

/// One row of the audit trail.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEventView {
    pub id: i64,
    #[schema(format = DateTime)]
    pub at: String,
    /// The admin's name, `cli` or `system`.
    pub actor: String,
    #[schema(example = "principal.create")]
    pub action: String,
    /// The principal or key acted on.
    pub target: Option<String>,
    pub source_ip: Option<String>,
    /// A JSON object, or null; never a secret.
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

impl From<&AuditRecord> for AuditEventView {
    fn from(record: &AuditRecord) -> Self {
        Self {
            id: record.id,
            at: time(record.at),
            actor: record.actor.clone(),
            action: record.action.clone(),
            target: record.target.clone(),
            source_ip: record.source_ip.clone(),
            details: record.details.clone(),
        }
    }
}

/// How the records of one kind fared in an import.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportCountsView {
    #[schema(minimum = 0)]
    pub created: u64,
    /// Existed; the record changed its roles, realm, attributes, enabled,
    /// state or expiry (never its password or secret).
    #[schema(minimum = 0)]
    pub updated: u64,
    /// Existed as the record describes it (a password or secret Tollgate
    /// holds is never replaced).
    #[schema(minimum = 0)]
    pub unchanged: u64,
}

impl From<&tollgate_core::admin::ImportCounts> for ImportCountsView {
    fn from(counts: &tollgate_core::admin::ImportCounts) -> Self {
        Self { created: counts.created, updated: counts.updated, unchanged: counts.unchanged }
    }
}

/// A line of the import that was not imported.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportErrorView {
    /// Counted from 1.
    #[schema(minimum = 1)]
    pub line: u64,
    /// Why; never a secret from the line.
    pub error: String,
}

/// What an import did (a dry run: would do).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportReportView {
    pub principals: ImportCountsView,
    pub api_keys: ImportCountsView,
    pub access_keys: ImportCountsView,
    /// The lines that failed, by line number (at most 10 000 listed).
    pub errors: Vec<ImportErrorView>,
    /// Failed lines beyond those listed; absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub errors_not_listed: Option<u64>,
}

impl From<&tollgate_core::admin::ImportReport> for ImportReportView {
    fn from(report: &tollgate_core::admin::ImportReport) -> Self {
        Self {
            principals: (&report.principals).into(),
            api_keys: (&report.api_keys).into(),
            access_keys: (&report.access_keys).into(),
            errors: report
                .errors
                .iter()
                .map(|error| ImportErrorView { line: error.line, error: error.error.clone() })
                .collect(),
            errors_not_listed: (report.errors_not_listed > 0).then_some(report.errors_not_listed),
        }
    }
}
