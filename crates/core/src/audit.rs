//! The audit trail (DESIGN.md §8): one row per management change — from the
//! command line, the admin API or the portal — and per security event
//! (a lockout, a refresh token reused, a lazy migration). Never a secret.

use std::net::IpAddr;

use time::OffsetDateTime;

/// Every action an audit row may name.
pub const ACTIONS: &[&str] = &[
    "principal.create",
    "principal.update",
    "principal.delete",
    "password.set",
    "apikey.issue",
    "apikey.revoke",
    "accesskey.create",
    "accesskey.state",
    "accesskey.roll",
    "token.revoke",
    "keys.rotate",
    "lockout.start",
    "lockout.clear",
    "import.run",
    "migration.lazy",
    "refresh.reuse",
];

/// One event to record.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub at: OffsetDateTime,
    /// The admin's name, `cli` or `system`.
    pub actor: String,
    /// One of [`ACTIONS`].
    pub action: &'static str,
    /// The principal or key acted on.
    pub target: Option<String>,
    pub source_ip: Option<IpAddr>,
    /// A JSON object, or nothing; never a secret.
    pub details: Option<serde_json::Value>,
}

/// A recorded event; `id` grows in write order.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub id: i64,
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub source_ip: Option<String>,
    pub details: Option<serde_json::Value>,
}

/// Which events to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub action: Option<String>,
    pub actor: Option<String>,
    pub target: Option<String>,
    /// Only events older than this id (the next page).
    pub before_id: Option<i64>,
    pub limit: u32,
}
