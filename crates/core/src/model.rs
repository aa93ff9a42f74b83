//! The one model under the three contracts: principals and the tokens that
//! identify them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::secret::TokenHash;

/// A principal's stable identifier (the `uid` / `X-Auth-Subject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PrincipalId(pub Uuid);

impl PrincipalId {
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }
}

impl Default for PrincipalId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for PrincipalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Somebody (a person or a service) who can log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub id: PrincipalId,
    /// The unique login name.
    pub name: String,
    pub roles: Vec<String>,
    pub realm: Option<String>,
    /// Free key/value pairs that become token claims (`ca`, `cid`, `domain`, ...).
    pub attributes: BTreeMap<String, String>,
    pub enabled: bool,
    pub created_at: OffsetDateTime,
    /// Tokens issued at or before this instant are void ("revoke all tokens of
    /// this principal" is one write, whatever the number of tokens).
    pub tokens_revoked_at: Option<OffsetDateTime>,
    /// Password guessing at its name (DESIGN.md §9), as the database holds it.
    pub lockout: crate::protection::LockState,
    /// The stored password's format (`argon2id`, or a legacy one), if any.
    pub password_format: Option<String>,
}

/// A password as stored: its format (`argon2id`, or the legacy format it
/// was imported in) and the hash in that format's text form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPassword {
    pub format: String,
    pub hash: String,
}

impl StoredPassword {
    /// The format every password set by Tollgate is stored in.
    pub const ARGON2ID: &'static str = "argon2id";

    pub fn argon2id(phc: String) -> Self {
        Self { format: Self::ARGON2ID.to_owned(), hash: phc }
    }
}

/// What a new principal is made of.
#[derive(Debug, Clone)]
pub struct NewPrincipal {
    pub id: PrincipalId,
    /// The name in normal form (NFC).
    pub name: String,
    /// The name's case-folded form: unique, so that names differing only in
    /// letter case or Unicode form cannot both exist.
    pub name_key: String,
    pub roles: Vec<String>,
    pub realm: Option<String>,
    pub attributes: BTreeMap<String, String>,
    /// `None` for a principal that logs in with keys only.
    pub password: Option<StoredPassword>,
    /// A disabled principal exists but can neither log in nor use a token.
    pub enabled: bool,
    pub created_at: OffsetDateTime,
}

/// What an operator may change about a principal after creating it (its
/// name never changes: tokens and audit rows name it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalProfile {
    pub roles: Vec<String>,
    pub realm: Option<String>,
    pub attributes: BTreeMap<String, String>,
}

/// Which contract minted an opaque token: it decides nothing about validity,
/// but is kept for revocation, introspection and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Contract A (`login_check`) access token.
    LoginCheck,
    /// Contract B (UserLogin/ApiKey) token.
    ApiKey,
}

impl TokenKind {
    pub fn code(self) -> i16 {
        match self {
            TokenKind::LoginCheck => 1,
            TokenKind::ApiKey => 2,
        }
    }

    pub fn from_code(code: i16) -> Option<Self> {
        match code {
            1 => Some(TokenKind::LoginCheck),
            2 => Some(TokenKind::ApiKey),
            _ => None,
        }
    }

    /// The contract's name, as used in metrics labels and logs.
    pub fn contract(self) -> &'static str {
        match self {
            TokenKind::LoginCheck => "login_check",
            TokenKind::ApiKey => "apikey",
        }
    }
}

/// An opaque access token as stored: only its hash, never the token.
#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub hash: TokenHash,
    pub kind: TokenKind,
    pub principal_id: PrincipalId,
    /// The login session (refresh family) the token descends from, if any.
    pub session_id: Option<Uuid>,
    /// The API key or access key it was issued with, if any.
    pub credential_id: Option<CredentialId>,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// One login of contract A: the family every refresh descends from.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: Uuid,
    pub principal_id: PrincipalId,
    pub created_at: OffsetDateTime,
}

/// A refresh token as stored (hash only).
#[derive(Debug, Clone)]
pub struct RefreshRecord {
    pub hash: TokenHash,
    pub session_id: Uuid,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// A stored opaque token together with everything needed to judge it.
#[derive(Debug, Clone)]
pub struct TokenLookup {
    pub kind: TokenKind,
    pub principal: Principal,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// Revoked by itself, through its session, or through its credential.
    pub revoked: bool,
    /// When the credential it was issued with expires (its tokens end then).
    pub credential_expires_at: Option<OffsetDateTime>,
}

/// A stored refresh token and the state of its family.
#[derive(Debug, Clone)]
pub struct RefreshLookup {
    pub session_id: Uuid,
    pub principal: Principal,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub spent_at: Option<OffsetDateTime>,
    /// The pair that replaced this token, sealed with a key only the holder of
    /// this refresh token can derive (used by the grace period).
    pub successor: Option<Vec<u8>>,
    pub session_revoked: bool,
}

/// Who a valid bearer token identifies: what the APIs behind Tollgate learn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub principal_id: PrincipalId,
    pub name: String,
    pub roles: Vec<String>,
    pub realm: Option<String>,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// The access key (OAuth 2.0 client) a JWT was issued to.
    pub client_id: Option<String>,
    /// A JWT's `jti`.
    pub token_id: Option<Uuid>,
}

impl Identity {
    pub fn of(principal: &Principal, issued_at: OffsetDateTime, expires_at: OffsetDateTime) -> Self {
        Self {
            principal_id: principal.id,
            name: principal.name.clone(),
            roles: principal.roles.clone(),
            realm: principal.realm.clone(),
            issued_at,
            expires_at,
            client_id: None,
            token_id: None,
        }
    }
}

/// Identifier of an API key (contract B) or access key (contract C).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CredentialId(pub Uuid);

impl fmt::Display for CredentialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An API key (contract B) as stored: a keyed hash of its 16 bytes, never
/// the key.
#[derive(Debug, Clone)]
pub struct ApiKeyRecord {
    pub id: CredentialId,
    pub principal_id: PrincipalId,
    pub key_hash: [u8; 32],
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
}

/// An API key and its state, for listing.
#[derive(Debug, Clone)]
pub struct ApiKeyInfo {
    pub id: CredentialId,
    pub principal_name: String,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
    pub last_used_at: Option<OffsetDateTime>,
}

/// Where an API key stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKeyState {
    Active,
    /// Past its expiry time.
    Expired,
    /// Revoked (final).
    Revoked,
}

impl ApiKeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiKeyState::Active => "active",
            ApiKeyState::Expired => "expired",
            ApiKeyState::Revoked => "revoked",
        }
    }
}

impl ApiKeyInfo {
    /// The key's state at `now`.
    pub fn state_at(&self, now: OffsetDateTime) -> ApiKeyState {
        if self.revoked_at.is_some() {
            ApiKeyState::Revoked
        } else if self.expires_at.is_some_and(|at| at <= now) {
            ApiKeyState::Expired
        } else {
            ApiKeyState::Active
        }
    }
}

/// An API key and its state now, for listing.
#[derive(Debug, Clone)]
pub struct ApiKeyStatus {
    pub key: ApiKeyInfo,
    pub state: ApiKeyState,
}

/// An API key found by its hash, with its holder.
#[derive(Debug, Clone)]
pub struct ApiKeyLookup {
    pub id: CredentialId,
    pub principal: Principal,
    pub expires_at: Option<OffsetDateTime>,
    pub revoked: bool,
}

/// An access key's life (contract C): `pending` → `active` → `expired` /
/// `revoked`. `revoked` is final; every other move is allowed (an expired key
/// may be re-activated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessKeyState {
    Pending,
    Active,
    Expired,
    Revoked,
}

impl AccessKeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessKeyState::Pending => "pending",
            AccessKeyState::Active => "active",
            AccessKeyState::Expired => "expired",
            AccessKeyState::Revoked => "revoked",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(AccessKeyState::Pending),
            "active" => Some(AccessKeyState::Active),
            "expired" => Some(AccessKeyState::Expired),
            "revoked" => Some(AccessKeyState::Revoked),
            _ => None,
        }
    }

    /// The state as it stands at `now`: an active key past its expiry time
    /// is expired.
    pub fn effective(self, expires_at: Option<OffsetDateTime>, now: OffsetDateTime) -> Self {
        match self {
            AccessKeyState::Active if expires_at.is_some_and(|at| at <= now) => AccessKeyState::Expired,
            other => other,
        }
    }
}

/// An access key (contract C; also an OAuth 2.0 client) as stored: the
/// public `access_key` and a keyed hash of the secret, never the secret.
#[derive(Debug, Clone)]
pub struct AccessKeyRecord {
    pub id: CredentialId,
    pub principal_id: PrincipalId,
    pub access_key: String,
    pub secret_hash: [u8; 32],
    pub state: AccessKeyState,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
    /// A secret imported as a legacy hash (DESIGN.md §10), until the first
    /// login replaces it with `secret_hash`.
    pub legacy_secret: Option<StoredPassword>,
}

/// An access key with its holder and everything needed to judge it.
#[derive(Debug, Clone)]
pub struct AccessKeyLookup {
    pub id: CredentialId,
    pub access_key: String,
    pub principal: Principal,
    pub secret_hash: [u8; 32],
    /// The secret as a legacy hash, until the first login rehashes it.
    pub legacy_secret: Option<StoredPassword>,
    pub state: AccessKeyState,
    pub expires_at: Option<OffsetDateTime>,
    /// Tokens issued with the key at or before this instant are void.
    pub tokens_revoked_at: Option<OffsetDateTime>,
}

/// An access key for listing.
#[derive(Debug, Clone)]
pub struct AccessKeyInfo {
    pub id: CredentialId,
    pub principal_name: String,
    pub access_key: String,
    pub state: AccessKeyState,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
    pub last_used_at: Option<OffsetDateTime>,
}
