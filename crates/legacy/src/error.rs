//! Why an imported password hash was refused. Messages name the format and
//! the field, never the hash, a salt or a password: they end up in import
//! reports that operators paste into tickets.

use thiserror::Error;

use crate::FORMATS;

/// Why a legacy hash record could not be taken.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LegacyHashError {
    /// The record (or a stored form read back) is not a JSON object.
    #[error("a password hash must be a JSON object {{\"format\": …, \"hash\": …}}")]
    NotAnObject,
    /// The object has no `format`.
    #[error("the password hash has no \"format\" (one of: {})", FORMATS.join(", "))]
    MissingFormat,
    /// `format` names no format this crate knows. The name is kept only when
    /// it looks like a name, so that a hash pasted into the wrong field is
    /// not echoed.
    #[error("unknown password hash format {} (known: {})", shown(.0), FORMATS.join(", "))]
    UnknownFormat(Option<String>),
    /// A field the format needs is absent (or null).
    #[error("{format}: missing field \"{field}\"")]
    MissingField { format: &'static str, field: &'static str },
    /// A field the format does not take.
    #[error("{format}: unknown field {} (this format takes: {})", shown(.field), .allowed.join(", "))]
    UnknownField { format: &'static str, field: Option<String>, allowed: &'static [&'static str] },
    /// A field of the wrong JSON type.
    #[error("{format}: field \"{field}\" must be {expected}")]
    WrongType { format: &'static str, field: &'static str, expected: &'static str },
    /// A `$2x$` bcrypt hash.
    #[error(
        "{format}: $2x$ bcrypt hashes are refused: $2x$ marks hashes made by PHP's crypt_blowfish before \
         5.3.7 (2011) with its sign-extension bug on non-ASCII bytes, which cannot be verified reliably; \
         these users must set a new password"
    )]
    Bcrypt2x { format: &'static str },
    /// The hash (or a field) is not shaped the way the format writes it.
    #[error("{format}: {reason}")]
    Malformed { format: &'static str, reason: &'static str },
    /// A cost parameter outside what this crate accepts (see the crate docs'
    /// table of caps).
    #[error("{format}: {what} {value} is outside the accepted {min}..={max}")]
    OutOfRange { format: &'static str, what: &'static str, value: u64, min: u64, max: u64 },
    /// An algorithm the format allows in general but this crate does not verify.
    #[error("{format}: {what} {} is not supported (supported: {supported})", shown(.name))]
    Unsupported { format: &'static str, what: &'static str, name: Option<String>, supported: &'static str },
}

/// A name from the input, quoted, or a placeholder when it is not shaped like
/// a name (and so might be a secret put in the wrong place).
fn shown(name: &Option<String>) -> String {
    match name {
        Some(name) => format!("\"{name}\""),
        None => "(a value not shown)".to_owned(),
    }
}

/// `value` when it is safe to repeat in a message: short, and only letters,
/// digits, `_` and `-`. Hashes are longer or hold `$`, `/`, `+` or `=`.
pub(crate) fn name_for_message(value: &str) -> Option<String> {
    let looks_like_a_name = !value.is_empty()
        && value.len() <= 24
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    looks_like_a_name.then(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_names_are_repeated() {
        assert_eq!(name_for_message("sha3-512"), Some("sha3-512".to_owned()));
        assert_eq!(name_for_message("$2y$10$abc"), None);
        assert_eq!(name_for_message("XohImNooBHFR0OVvjcYpJ3NgPQ1qq73WKhHvch0VQtg="), None);
        assert_eq!(name_for_message("5e884898da28047151d0e56f8dc62927"), None);
        assert_eq!(name_for_message(""), None);
    }
}
