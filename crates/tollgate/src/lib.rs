//! The `tollgate` binary's library half: configuration, the server's
//! start-up and shutdown, demo seeding and the admin command line. Kept as a
//! library so integration tests can start the real server in-process.

pub mod cli;
pub mod config;
pub mod demo;
#[cfg(test)]
mod packaged_config;
#[cfg(test)]
mod readme_reference;
pub mod server;
