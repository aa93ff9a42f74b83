//! The core's error enums. Each contract maps these to its own wire format in
//! one place; nothing here decides a status code. Causes are kept as
//! sources (never flattened into strings), so a log line can show the chain.

use std::fmt;
use std::sync::Arc;

use thiserror::Error;

use crate::jwt::JwtError;

/// The underlying error of a storage failure (a driver error, an I/O
/// error). Shared, because one failed group commit answers every request of
/// its batch with the same cause.
pub type Cause = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// What kind of write failed: each is handled alike (the whole transaction
/// is rolled back and every request in it answered with the contract's
/// 500), but logs and metrics say which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WriteFailure {
    /// The disk (or a quota) is full.
    Full,
    /// The operating system could not read or write the database's files.
    Io,
    /// Another writer held the lock longer than the database timeout.
    Busy,
    /// The connection to the database was lost.
    ConnectionLost,
    /// A row broke a rule of the schema (a key that already exists, a
    /// principal removed meanwhile).
    Constraint,
    /// The database file was deleted or replaced under the running server.
    FileLost,
    /// Anything else the database refused.
    Other,
}

impl WriteFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            WriteFailure::Full => "disk full",
            WriteFailure::Io => "I/O error",
            WriteFailure::Busy => "database busy",
            WriteFailure::ConnectionLost => "connection lost",
            WriteFailure::Constraint => "constraint violated",
            WriteFailure::FileLost => "database file deleted or replaced",
            WriteFailure::Other => "database error",
        }
    }
}

impl fmt::Display for WriteFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why storage could not do what was asked.
#[derive(Debug, Clone, Error)]
pub enum StoreError {
    /// The database could not be reached or did not answer in time.
    #[error("database unavailable")]
    Unavailable(#[source] Cause),
    /// A write was not committed; nothing of it is stored.
    #[error("database write failed: {class}")]
    WriteFailed {
        class: WriteFailure,
        #[source]
        source: Cause,
    },
    /// A uniqueness rule was broken (a name or key that already exists).
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// Stored data could not be decoded (a bug or a hand-edited database).
    #[error("corrupt stored data")]
    Corrupt(#[source] Cause),
}

impl StoreError {
    /// An error made here rather than by a driver (a stopped writer task).
    pub fn unavailable(reason: &'static str) -> Self {
        StoreError::Unavailable(Arc::new(Message(reason)))
    }
}

/// A cause that is only a message.
#[derive(Debug)]
pub struct Message(pub &'static str);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Message {}

/// Why a login or a refresh was refused.
#[derive(Debug, Error)]
pub enum LoginError {
    /// Unknown principal, wrong secret, disabled principal: one answer for all,
    /// so that outsiders cannot tell them apart.
    #[error("bad credentials")]
    BadCredentials,
    /// The presented key is not even shaped like one of ours.
    #[error("malformed key")]
    MalformedKey,
    /// The key exists and matches but was revoked or has expired.
    #[error("key revoked or expired")]
    KeyNotUsable,
    /// Password verification is saturated; the caller should retry later.
    #[error("password verification is overloaded")]
    Overloaded,
    /// Too many failed logins from the client's address: refused without
    /// checking credentials until the window ends.
    #[error("too many failed logins from this address")]
    RateLimited { retry_after: std::time::Duration },
    /// The threads that verify passwords are gone (a bug; they never stop).
    #[error("password verification is not running")]
    PasswordPool,
    /// The token could not be signed.
    #[error("cannot sign the token")]
    Signing(#[source] JwtError),
    /// Lazy migration: the legacy service is down, failed, timed out or
    /// answered what cannot be believed (DESIGN.md §10).
    #[error("the legacy service gave no usable answer: {0}")]
    Upstream(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a bearer token was not accepted. The variants exist for logs and
/// metrics; every contract answers them all alike.
#[derive(Debug, Error)]
pub enum VerifyError {
    #[error("token unknown")]
    Unknown,
    /// A JWT with a bad signature, algorithm, shape or claims.
    #[error("token invalid")]
    Invalid(#[source] JwtError),
    /// A correctly signed JWT whose `uid` is not its access key's holder.
    #[error("token claims do not match its access key")]
    ClaimsMismatch,
    /// A correctly signed JWT issued in the future, not valid yet, or meant
    /// to live longer than the configured lifetime (RFC 8725).
    #[error("token time claims refused")]
    TimeClaims(#[source] crate::jwt::TimeClaimError),
    #[error("token expired")]
    Expired,
    #[error("token revoked")]
    Revoked,
    #[error("principal disabled or removed")]
    PrincipalDisabled,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `err` and every cause below it, joined by `: ` — for one log line.
pub fn report(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // `#[error(transparent)]` repeats its source's message.
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_shows_the_whole_chain_once() {
        let io = std::io::Error::other("no space left on device");
        let err =
            LoginError::Store(StoreError::WriteFailed { class: WriteFailure::Full, source: Arc::new(io) });
        assert_eq!(report(&err), "database write failed: disk full: no space left on device");
    }
}
