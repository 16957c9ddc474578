//! Timestamp text to milliseconds since the Unix epoch: the formats the sources accept.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};

/// Epoch numbers whose magnitude is at least this are milliseconds; smaller ones are seconds.
pub const EPOCH_MILLIS_THRESHOLD: f64 = 1e11;

/// Zone-less date-time layouts, taken as UTC. `%.f` also matches no fraction at all.
const NAIVE_FORMATS: [&str; 4] = [
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
];

/// Parse `text` as a timestamp and return milliseconds since 1970-01-01T00:00:00Z.
///
/// Accepted forms, tried in this order (surrounding whitespace is ignored):
///
/// 1. **Unix epoch**, a plain decimal number with an optional sign and fraction
///    (`1700000000`, `1700000000.25`, `1700000000123`). Its unit is decided by its size:
///    a magnitude of at least 10^11 ([`EPOCH_MILLIS_THRESHOLD`]) is taken as **milliseconds**,
///    anything smaller as **seconds**. 10^11 seconds is in the year 5138 and 10^11 milliseconds
///    is 1973-03-03, so the rule only misreads milliseconds before March 1973 and seconds after
///    the year 5138. Fractions finer than a millisecond are rounded to the nearest millisecond
///    (in the date-time forms below they are truncated).
/// 2. **RFC 3339 / ISO 8601 with an offset**: `2024-01-01T12:00:00Z`,
///    `2024-01-01T12:00:00.5+02:00`, `2024-01-01 12:00:00-0500` (`T` or a space between date and
///    time, optional fractional seconds, `Z` or a numeric offset).
/// 3. **A date-time without a zone, taken as UTC**: `2024-01-01 12:00:00`,
///    `2024-01-01 12:00:00.123`, `2024-01-01T12:00:00`, and the same without seconds
///    (`2024-01-01 12:00`).
/// 4. **A date alone**, taken as midnight UTC: `2024-01-01`.
///
/// Anything else, including compact forms such as `20240101T120000`, is rejected.
///
/// Returns `None` when the text is in none of these forms or is outside the range of an `i64`
/// of milliseconds.
///
/// ```
/// use omen_ingest::parse_timestamp_ms;
///
/// assert_eq!(parse_timestamp_ms("1970-01-01 00:00:01"), Some(1_000));
/// assert_eq!(parse_timestamp_ms("1970-01-01T00:00:01+01:00"), Some(-3_599_000));
/// assert_eq!(parse_timestamp_ms("1700000000"), Some(1_700_000_000_000)); // seconds
/// assert_eq!(parse_timestamp_ms("1700000000000"), Some(1_700_000_000_000)); // milliseconds
/// assert_eq!(parse_timestamp_ms("yesterday"), None);
/// ```
pub fn parse_timestamp_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if is_plain_number(text) {
        return parse_epoch(text);
    }
    if let Ok(dt) = text.parse::<DateTime<FixedOffset>>() {
        return Some(dt.timestamp_millis());
    }
    for format in NAIVE_FORMATS {
        if let Ok(dt) = NaiveDateTime::parse_from_str(text, format) {
            return Some(dt.and_utc().timestamp_millis());
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|dt| dt.and_utc().timestamp_millis())
}

/// An optional sign, digits, and an optional `.` with digits: nothing else (no exponent).
fn is_plain_number(text: &str) -> bool {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    !(int.is_empty() && frac.is_empty()) && all_digits(int) && all_digits(frac)
}

/// An epoch number, in seconds or milliseconds by [`EPOCH_MILLIS_THRESHOLD`].
fn parse_epoch(text: &str) -> Option<i64> {
    if let Ok(n) = text.parse::<i64>() {
        // Integers stay exact, without a detour through f64.
        return if n.unsigned_abs() as f64 >= EPOCH_MILLIS_THRESHOLD {
            Some(n)
        } else {
            n.checked_mul(1_000)
        };
    }
    let n: f64 = text.parse().ok()?;
    let ms = if n.abs() >= EPOCH_MILLIS_THRESHOLD {
        n
    } else {
        n * 1_000.0
    }
    .round();
    // i64::MAX as f64 rounds up to 2^63, which is itself out of range: hence the strict `<`.
    (ms.is_finite() && ms.abs() < i64::MAX as f64).then_some(ms as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-01-01T00:00:00Z in milliseconds.
    const NEW_YEAR_2024: i64 = 1_704_067_200_000;

    const CASES: &[(&str, &str, Option<i64>)] = &[
        // (name, text, expected milliseconds)
        ("space, seconds", "2024-01-01 00:00:00", Some(NEW_YEAR_2024)),
        (
            "space, fraction",
            "2024-01-01 00:00:00.250",
            Some(NEW_YEAR_2024 + 250),
        ),
        (
            "space, microseconds truncate",
            "2024-01-01 00:00:00.123456",
            Some(NEW_YEAR_2024 + 123),
        ),
        (
            "space, no seconds",
            "2024-01-01 00:01",
            Some(NEW_YEAR_2024 + 60_000),
        ),
        (
            "T, no zone is UTC",
            "2024-01-01T00:00:00",
            Some(NEW_YEAR_2024),
        ),
        (
            "T, fraction, no zone",
            "2024-01-01T00:00:00.5",
            Some(NEW_YEAR_2024 + 500),
        ),
        (
            "T, no seconds",
            "2024-01-01T00:01",
            Some(NEW_YEAR_2024 + 60_000),
        ),
        ("RFC 3339 Z", "2024-01-01T00:00:00Z", Some(NEW_YEAR_2024)),
        (
            "RFC 3339 lowercase z",
            "2024-01-01T00:00:00z",
            Some(NEW_YEAR_2024),
        ),
        (
            "RFC 3339 fraction Z",
            "2024-01-01T00:00:00.001Z",
            Some(NEW_YEAR_2024 + 1),
        ),
        (
            "RFC 3339 positive offset",
            "2024-01-01T02:00:00+02:00",
            Some(NEW_YEAR_2024),
        ),
        (
            "RFC 3339 negative offset",
            "2023-12-31T19:00:00-05:00",
            Some(NEW_YEAR_2024),
        ),
        (
            "offset without colon",
            "2024-01-01T02:00:00+0200",
            Some(NEW_YEAR_2024),
        ),
        ("space and Z", "2024-01-01 00:00:00Z", Some(NEW_YEAR_2024)),
        (
            "space and offset",
            "2024-01-01 01:00:00+01:00",
            Some(NEW_YEAR_2024),
        ),
        (
            "date only is midnight UTC",
            "2024-01-01",
            Some(NEW_YEAR_2024),
        ),
        (
            "surrounding spaces",
            "  2024-01-01 00:00:00 ",
            Some(NEW_YEAR_2024),
        ),
        ("epoch seconds", "1704067200", Some(NEW_YEAR_2024)),
        (
            "epoch seconds, fraction",
            "1704067200.25",
            Some(NEW_YEAR_2024 + 250),
        ),
        (
            "epoch seconds, plus sign",
            "+1704067200",
            Some(NEW_YEAR_2024),
        ),
        ("epoch zero", "0", Some(0)),
        ("negative epoch seconds", "-1", Some(-1_000)),
        ("epoch milliseconds", "1704067200000", Some(NEW_YEAR_2024)),
        (
            "epoch milliseconds, fraction rounds",
            "1704067200000.6",
            Some(NEW_YEAR_2024 + 1),
        ),
        (
            "just under threshold is seconds",
            "99999999999",
            Some(99_999_999_999_000),
        ),
        (
            "threshold is milliseconds",
            "100000000000",
            Some(100_000_000_000),
        ),
        ("fraction without integer part", ".5", Some(500)),
        ("empty", "", None),
        ("blank", "   ", None),
        ("words", "yesterday", None),
        ("exponent is not an epoch", "1e9", None),
        ("nan is not a time", "NaN", None),
        ("lone dot", ".", None),
        ("lone sign", "-", None),
        ("month 13", "2024-13-01 00:00:00", None),
        ("hour 25", "2024-01-01 25:00:00", None),
        ("compact ISO", "20240101T000000", None),
        ("day first", "01/02/2024 00:00:00", None),
        ("trailing garbage", "2024-01-01 00:00:00 UTC+", None),
        ("epoch out of range", "99999999999999999999", None),
    ];

    #[test]
    fn timestamp_cases() {
        for (name, text, expected) in CASES {
            assert_eq!(
                parse_timestamp_ms(text),
                *expected,
                "case `{name}`: {text:?}"
            );
        }
    }
}
