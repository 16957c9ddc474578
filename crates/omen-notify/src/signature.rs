//! Signing deliveries and checking signatures: `X-Omen-Signature: sha256=<hex>` is the
//! lowercase hex HMAC-SHA256, keyed with the channel's secret, of `"<timestamp>.<body>"`, where
//! `<timestamp>` is `X-Omen-Timestamp` (Unix seconds, decimal) and `<body>` the raw body bytes.
//! Signing the timestamp with the body lets a receiver refuse replays of old deliveries.

use std::time::Duration;

use ring::hmac;

use crate::VerifyError;

/// The header carrying the signature, `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "x-omen-signature";
/// The header carrying the Unix time of the attempt in seconds; it is part of what is signed.
pub const TIMESTAMP_HEADER: &str = "x-omen-timestamp";
/// The header carrying the notification's idempotency key, the same on every attempt.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// Headers Omen sets on every delivery; a channel may not set them.
pub(crate) const RESERVED_HEADERS: [&str; 3] =
    [SIGNATURE_HEADER, TIMESTAMP_HEADER, IDEMPOTENCY_KEY_HEADER];

const PREFIX: &str = "sha256=";

/// The `X-Omen-Signature` value for `body` sent at `timestamp` (Unix seconds).
///
/// ```
/// let header = omen_notify::sign(b"secret", 1_700_000_000, br#"{"a":1}"#);
/// assert!(header.starts_with("sha256="));
/// assert_eq!(header.len(), 7 + 64);
/// omen_notify::verify(b"secret", &header, 1_700_000_000, br#"{"a":1}"#, 1_700_000_010,
///     std::time::Duration::from_secs(300)).unwrap();
/// ```
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    sign_with(&hmac::Key::new(hmac::HMAC_SHA256, secret), timestamp, body)
}

pub(crate) fn sign_with(key: &hmac::Key, timestamp: i64, body: &[u8]) -> String {
    let tag = hmac::sign(key, &message(timestamp, body));
    let mut out = String::with_capacity(PREFIX.len() + 64);
    out.push_str(PREFIX);
    for byte in tag.as_ref() {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    out
}

/// Check a signature as a receiver would: `header_value` must be `sign(secret, timestamp,
/// body)` (compared in constant time), and `timestamp` within `tolerance` of `now` (both Unix
/// seconds).
pub fn verify(
    secret: &[u8],
    header_value: &str,
    timestamp: i64,
    body: &[u8],
    now: i64,
    tolerance: Duration,
) -> Result<(), VerifyError> {
    let hex = header_value
        .trim()
        .strip_prefix(PREFIX)
        .ok_or(VerifyError::Malformed)?;
    let tag = decode_hex(hex).ok_or(VerifyError::Malformed)?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hmac::verify(&key, &message(timestamp, body), &tag).map_err(|_| VerifyError::Mismatch)?;
    let age_seconds = now.saturating_sub(timestamp);
    if age_seconds.unsigned_abs() > tolerance.as_secs() {
        return Err(VerifyError::Stale {
            age_seconds,
            tolerance_seconds: tolerance.as_secs(),
        });
    }
    Ok(())
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn message(timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(body.len() + 21);
    message.extend_from_slice(timestamp.to_string().as_bytes());
    message.push(b'.');
    message.extend_from_slice(body);
    message
}

/// 64 lowercase hex digits into 32 bytes.
fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOLERANCE: Duration = Duration::from_secs(300);

    #[test]
    fn matches_an_independent_hmac_sha256() {
        // RFC 4231 test case 2 (key "Jefe") pins ring's HMAC-SHA256 and the hex encoding...
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"Jefe");
        let tag = hmac::sign(&key, b"what do ya want for nothing?");
        let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // ...and `sign` is that HMAC over "<timestamp>.<body>", in lowercase hex.
        let ours = sign(b"Jefe", 42, b"body");
        let direct = hmac::sign(&key, b"42.body");
        let direct: String = direct.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(ours, format!("sha256={direct}"));
    }

    #[test]
    fn round_trip_and_tampering() {
        let body = br#"{"alert":"HighLatency"}"#;
        let header = sign(b"k", 1000, body);
        verify(b"k", &header, 1000, body, 1000, TOLERANCE).unwrap();
        #[derive(Clone)]
        struct Case<'a> {
            name: &'a str,
            secret: &'a [u8],
            header: &'a str,
            timestamp: i64,
            body: &'a [u8],
            want: VerifyError,
        }
        let upper = header.to_uppercase().replace("SHA256", "sha256");
        let base = Case {
            name: "",
            secret: b"k",
            header: &header,
            timestamp: 1000,
            body,
            want: VerifyError::Mismatch,
        };
        let cases = [
            Case {
                name: "other body",
                body: b"{}",
                ..base.clone()
            },
            Case {
                name: "other timestamp",
                timestamp: 1001,
                ..base.clone()
            },
            Case {
                name: "other secret",
                secret: b"j",
                ..base.clone()
            },
            Case {
                name: "no prefix",
                header: &header[7..],
                want: VerifyError::Malformed,
                ..base.clone()
            },
            Case {
                name: "short",
                header: &header[..70],
                want: VerifyError::Malformed,
                ..base.clone()
            },
            Case {
                name: "upper case",
                header: &upper,
                want: VerifyError::Malformed,
                ..base.clone()
            },
        ];
        for case in cases {
            let got = verify(
                case.secret,
                case.header,
                case.timestamp,
                case.body,
                1000,
                TOLERANCE,
            );
            assert_eq!(got, Err(case.want), "{}", case.name);
        }
        let mut flipped = header.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert_eq!(
            verify(b"k", &flipped, 1000, body, 1000, TOLERANCE),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn old_and_future_timestamps_are_refused() {
        let header = sign(b"k", 1000, b"x");
        verify(b"k", &header, 1000, b"x", 1300, TOLERANCE).unwrap();
        verify(b"k", &header, 1000, b"x", 700, TOLERANCE).unwrap();
        assert_eq!(
            verify(b"k", &header, 1000, b"x", 1301, TOLERANCE),
            Err(VerifyError::Stale {
                age_seconds: 301,
                tolerance_seconds: 300
            })
        );
        assert!(matches!(
            verify(b"k", &header, 1000, b"x", 600, TOLERANCE),
            Err(VerifyError::Stale {
                age_seconds: -400,
                ..
            })
        ));
    }
}
