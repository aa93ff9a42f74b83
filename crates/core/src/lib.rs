//! Tollgate's core: the model (principals, credentials, tokens), the one
//! login/token service every contract calls, and the narrow storage interface
//! it needs. Nothing here knows about HTTP, wire formats or SQL.

pub mod admin;
pub mod error;
pub mod jwt;
pub mod model;
pub mod password;
pub mod secret;
pub mod server_keys;
pub mod service;
pub mod signing_keys;
pub mod store;
pub mod time_util;
pub mod usage;

pub use error::{LoginError, StoreError, VerifyError};
pub use model::{Identity, Principal, PrincipalId};
pub use server_keys::ServerKeys;
pub use service::{
    Introspection, IssuedJwt, IssuedToken, LoginService, SessionTokens, TokenKindHint, TokenPolicy,
};
pub use store::Store;
