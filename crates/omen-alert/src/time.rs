//! Timestamps as the two Prometheus programs write them, from epoch milliseconds (never the
//! wall clock).
//!
//! - Prometheus posting to Alertmanager (`/api/v2/alerts`, go-openapi `strfmt.DateTime`):
//!   always three fractional digits, `2026-11-21T10:29:09.761Z`, `...:39.000Z`.
//! - Alertmanager's webhook (Go's `time.Time` JSON, RFC 3339 with nanoseconds and trailing
//!   zeros dropped): `2026-11-21T10:28:39Z`, `2026-11-21T10:29:09.761Z`; a firing alert's end
//!   is Go's zero time, `0001-01-01T00:00:00Z`.

use chrono::{DateTime, SecondsFormat, Utc};

/// Go's zero `time.Time` in JSON: the `endsAt` of a firing alert in a webhook.
pub const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn datetime(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// `2026-11-21T10:29:09.761Z`: RFC 3339, UTC, always milliseconds (Prometheus' posts).
pub fn rfc3339_millis(ms: i64) -> String {
    datetime(ms).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `2026-11-21T10:28:39Z` or `2026-11-21T10:29:09.76Z`: RFC 3339, UTC, fraction without
/// trailing zeros (Go's `time.RFC3339Nano`, as Alertmanager's webhook writes times).
pub fn rfc3339_go(ms: i64) -> String {
    let millis = rfc3339_millis(ms);
    // `…:SS.mmmZ`: drop trailing zeros of the fraction, and the dot with them.
    let body = &millis[..millis.len() - 1];
    let (seconds, fraction) = body.rsplit_once('.').unwrap_or((body, ""));
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{seconds}Z")
    } else {
        format!("{seconds}.{fraction}Z")
    }
}

/// Epoch milliseconds of an RFC 3339 timestamp (any offset).
pub fn parse_rfc3339_ms(text: &str) -> Result<i64, String> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.timestamp_millis())
        .map_err(|err| {
            format!(
                "`{text}` is not an RFC 3339 time ({err}); write it like \"2026-12-24T18:00:00Z\""
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_formats_match_the_captured_payloads() {
        // 2026-11-21T10:29:09.761Z, from prometheus-alerts-post.json.
        let t = 1_795_256_949_761;
        struct Case {
            ms: i64,
            millis: &'static str,
            go: &'static str,
        }
        let cases = [
            Case {
                ms: t,
                millis: "2026-11-21T10:29:09.761Z",
                go: "2026-11-21T10:29:09.761Z",
            },
            Case {
                ms: t - 761,
                millis: "2026-11-21T10:29:09.000Z",
                go: "2026-11-21T10:29:09Z",
            },
            Case {
                ms: t - 1,
                millis: "2026-11-21T10:29:09.760Z",
                go: "2026-11-21T10:29:09.76Z",
            },
            Case {
                ms: 0,
                millis: "1970-01-01T00:00:00.000Z",
                go: "1970-01-01T00:00:00Z",
            },
        ];
        for case in cases {
            assert_eq!(rfc3339_millis(case.ms), case.millis);
            assert_eq!(rfc3339_go(case.ms), case.go);
            assert_eq!(parse_rfc3339_ms(case.millis), Ok(case.ms));
        }
        assert_eq!(parse_rfc3339_ms("2026-11-21T11:29:09.761+01:00"), Ok(t));
        assert!(
            parse_rfc3339_ms("yesterday")
                .unwrap_err()
                .contains("RFC 3339")
        );
    }
}
