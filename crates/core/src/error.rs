//! The core's error enums. Each contract maps these to its own wire format in
//! one place; nothing here decides a status code.

use thiserror::Error;

/// Why storage could not do what was asked.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database could not be reached or answered with an error; the
    /// message is for logs only, never for clients.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A uniqueness rule was broken (a name or key that already exists).
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// Stored data could not be decoded (a bug or a hand-edited database).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

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
    #[error("token invalid: {0}")]
    Invalid(String),
    #[error("token expired")]
    Expired,
    #[error("token revoked")]
    Revoked,
    #[error("principal disabled or removed")]
    PrincipalDisabled,
    #[error(transparent)]
    Store(#[from] StoreError),
}
