//! The login contracts, one folder each. A contract parses its own wire
//! format, calls the core's `LoginService`, and renders the result or the
//! error in its own format; its error mapping lives in one file.

pub mod accesskey;
pub mod apikey;
pub mod login_check;
