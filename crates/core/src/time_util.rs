//! Time helpers: storage keeps instants as Unix milliseconds, the model uses
//! `OffsetDateTime`.

use std::time::Duration;
use time::OffsetDateTime;

/// The current instant, truncated to whole milliseconds so that what is
/// stored and what is returned to a client are the same instant.
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000_000 * 1_000_000).unwrap_or(now)
}

pub fn to_millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

pub fn from_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `t` in UTC as RFC 3339, fractional seconds only where there are some:
/// how the management plane (CLI `--json`, admin API, audit) writes times.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `t` in UTC as RFC 3339 with `digits` (1-9) fractional digits, e.g.
/// `2026-11-24T09:30:00.250Z`: what the gateways' headers and contract B's
/// `ExpireDate` show. Written by hand: this runs on every token check, and
/// `time`'s general formatter costs more than the rest of the header.
pub fn rfc3339_utc(t: OffsetDateTime, digits: u8) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let digits = digits.clamp(1, 9);
    let mut out = String::with_capacity(21 + usize::from(digits));
    let pad = |out: &mut String, value: u32, width: usize| {
        let mut buffer = itoa::Buffer::new();
        let text = buffer.format(value);
        out.extend(std::iter::repeat_n('0', width.saturating_sub(text.len())));
        out.push_str(text);
    };
    match u32::try_from(t.year()) {
        Ok(year) if year <= 9999 => pad(&mut out, year, 4),
        // Outside four digits RFC 3339 has no answer; ISO 8601's sign it is.
        _ => out.push_str(&format!("{:+05}", t.year())),
    }
    out.push('-');
    pad(&mut out, u32::from(u8::from(t.month())), 2);
    out.push('-');
    pad(&mut out, u32::from(t.day()), 2);
    out.push('T');
    pad(&mut out, u32::from(t.hour()), 2);
    out.push(':');
    pad(&mut out, u32::from(t.minute()), 2);
    out.push(':');
    pad(&mut out, u32::from(t.second()), 2);
    out.push('.');
    // Truncated, not rounded, as `time` does.
    pad(&mut out, t.nanosecond() / 10u32.pow(9 - u32::from(digits)), usize::from(digits));
    out.push('Z');
    out
}

/// `t + d`, saturating instead of overflowing on absurd configured lifetimes.
pub fn add(t: OffsetDateTime, d: Duration) -> OffsetDateTime {
    time::Duration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d))
        .unwrap_or(time::macros::datetime!(9999-12-31 23:59:59 UTC))
}

/// `t - d`, saturating at the Unix epoch (nothing Tollgate keeps is older).
pub fn sub(t: OffsetDateTime, d: Duration) -> OffsetDateTime {
    time::Duration::try_from(d)
        .ok()
        .and_then(|d| t.checked_sub(d))
        .map_or(OffsetDateTime::UNIX_EPOCH, |at| at.max(OffsetDateTime::UNIX_EPOCH))
}

#[cfg(test)]
mod tests {
    use time::macros::{datetime, format_description};

    use super::*;

    #[test]
    fn rfc3339_is_what_time_formats() {
        let instants = [
            datetime!(2026-11-24 09:30:00.25 UTC),
            datetime!(2024-02-29 23:59:59.999_999_999 UTC),
            datetime!(1970-01-01 00:00:00 UTC),
            datetime!(0001-01-01 00:00:00.000_000_1 UTC),
            datetime!(9999-12-31 23:59:59.123_456_7 +02:00),
        ];
        for t in instants {
            let utc = t.to_offset(time::UtcOffset::UTC);
            let three =
                format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
            let seven =
                format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]Z");
            assert_eq!(rfc3339_utc(t, 3), utc.format(three).expect("format"), "{t}");
            assert_eq!(rfc3339_utc(t, 7), utc.format(seven).expect("format"), "{t}");
        }
    }
}
