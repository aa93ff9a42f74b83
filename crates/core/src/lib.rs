//! Tollgate's core: the model (principals, credentials, tokens), the one
//! login/token service every contract calls, the one admin service every
//! management entry point calls, the admin portal's sessions, and the
//! narrow storage interface they need.
//! Nothing here knows about HTTP, wire formats or SQL.

pub mod admin;
pub mod audit;
pub mod clock;
pub mod context;
pub mod error;
pub mod jwt;
pub mod login;
pub mod master_key;
pub mod model;
pub mod names;
pub mod password;
pub mod portal;
pub mod protection;
pub mod secret;
pub mod server_keys;
pub mod signing_keys;
pub mod store;
pub mod tally;
pub mod time_util;
pub mod usage;

pub use admin::AdminService;
pub use context::{AdminContext, Contract, Forwarded, LoginContext};
pub use error::{LoginError, StoreError, VerifyError};
pub use login::{
    Introspection, IssuedJwt, IssuedToken, LoginService, SessionTokens, TokenKindHint, TokenPolicy,
};
pub use model::{Identity, Principal, PrincipalId};
pub use server_keys::ServerKeys;
pub use store::Store;
