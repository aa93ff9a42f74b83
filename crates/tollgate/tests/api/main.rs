//! Black-box tests of the real server on an ephemeral port, speaking HTTP.
//! One test binary (fast to link), one module per area.
//!
//! Backend: SQLite by default; `TOLLGATE_TEST_BACKEND=postgres` runs the same
//! tests against a fresh schema of the PostgreSQL at `TEST_POSTGRES_URL`.

mod accesskey;
mod admin;
mod apikey;
mod cli;
mod cluster;
mod faults;
mod forward_auth;
mod helpers;
mod import;
mod jwks;
mod legacy;
mod login_check;
mod migration;
mod nginx;
mod oauth2;
mod ops;
mod portal;
mod protection;
mod refresh;
mod security;
mod server;
mod tls;
