//! Time helpers: storage keeps instants as Unix milliseconds, the model uses
//! `OffsetDateTime`.

use std::time::Duration;
use time::OffsetDateTime;

/// The current instant, truncated to whole milliseconds so that what is
/// stored and what is returned to a client are the same instant.
pub fn now() -> OffsetDateTime {
    from_millis(to_millis(OffsetDateTime::now_utc()))
}

pub fn to_millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

pub fn from_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `t + d`, saturating instead of overflowing on absurd configured lifetimes.
pub fn add(t: OffsetDateTime, d: Duration) -> OffsetDateTime {
    time::Duration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d))
        .unwrap_or(time::macros::datetime!(9999-12-31 23:59:59 UTC))
}
