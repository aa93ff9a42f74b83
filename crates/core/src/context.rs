//! Who is asking: what each caller hands the core along with a request, so
//! that throttling, audit and logs see the client, the contract and the
//! request without the adapters knowing about any of them.

use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

/// The wire contract a login came in through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Contract {
    /// Contract A: `login_check` (username and password), and its refresh.
    LoginCheck,
    /// Contract B: UserLogin and ApiKey.
    ApiKey,
    /// Contract C: accessKey and secret.
    AccessKey,
    /// OAuth 2.0's token, introspection and revocation endpoints.
    OAuth2,
    /// The admin portal's sign-in.
    Portal,
}

impl Contract {
    /// Every contract, in the order of [`Contract::index`].
    pub const ALL: [Contract; 5] =
        [Contract::LoginCheck, Contract::ApiKey, Contract::AccessKey, Contract::OAuth2, Contract::Portal];

    /// Its position in [`Contract::ALL`]: an array index, free to compute.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The contract's name, as metrics labels and logs spell it.
    pub fn name(self) -> &'static str {
        match self {
            Contract::LoginCheck => "login_check",
            Contract::ApiKey => "apikey",
            Contract::AccessKey => "accesskey",
            Contract::OAuth2 => "oauth2",
            Contract::Portal => "portal",
        }
    }
}

/// One request, told apart from the others of this process in logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestId(u64);

impl RequestId {
    /// The next id of this process. A counter, not randomness: it only has
    /// to be unique here, and it costs one atomic add per request.
    pub fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// What a login brings besides its credentials.
#[derive(Debug, Clone)]
pub struct LoginContext {
    /// The client's address (the TCP peer, or what a trusted proxy says).
    pub client: Option<IpAddr>,
    pub contract: Contract,
    pub request_id: RequestId,
    /// The request as it came, where a login Tollgate cannot answer may be
    /// forwarded to the legacy service (DESIGN.md §10).
    pub forwarded: Option<Forwarded>,
}

impl LoginContext {
    pub fn new(contract: Contract, client: Option<IpAddr>) -> Self {
        Self { client, contract, request_id: RequestId::next(), forwarded: None }
    }

    /// Keeps the request's body and media type for lazy migration.
    pub fn forwarding(mut self, body: bytes::Bytes, content_type: String) -> Self {
        self.forwarded = Some(Forwarded { body, content_type });
        self
    }
}

/// A login request as the client sent it: what a legacy endpoint receives.
#[derive(Clone)]
pub struct Forwarded {
    pub body: bytes::Bytes,
    pub content_type: String,
}

/// The body holds credentials: never printed.
impl fmt::Debug for Forwarded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Forwarded({} bytes of {})", self.body.len(), self.content_type)
    }
}

/// Who changes something through the management plane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The command line, run by whoever can reach the database.
    Cli,
    /// An administrator signed in to the admin API or the portal.
    Admin(String),
    /// Tollgate itself (lockouts, refresh-token reuse, lazy migration).
    System,
}

impl Actor {
    /// As the audit log spells it: the admin's name, `cli` or `system`.
    pub fn name(&self) -> &str {
        match self {
            Actor::Cli => "cli",
            Actor::Admin(name) => name,
            Actor::System => "system",
        }
    }
}

/// What a management operation brings besides its arguments.
#[derive(Debug, Clone)]
pub struct AdminContext {
    pub actor: Actor,
    pub source_ip: Option<IpAddr>,
    pub request_id: RequestId,
}

impl AdminContext {
    /// An operation from the command line.
    pub fn cli() -> Self {
        Self { actor: Actor::Cli, source_ip: None, request_id: RequestId::next() }
    }

    /// An operation Tollgate performs on its own.
    pub fn system() -> Self {
        Self { actor: Actor::System, source_ip: None, request_id: RequestId::next() }
    }

    /// An operation of a signed-in administrator.
    pub fn admin(name: impl Into<String>, source_ip: Option<IpAddr>) -> Self {
        Self { actor: Actor::Admin(name.into()), source_ip, request_id: RequestId::next() }
    }
}
