//! [`Limits`] on request size, and the check of the compressed body's length.

use crate::error::{RejectReason, Rejection};

/// Size limits for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest compressed body accepted (the `Content-Length` can be checked against it before
    /// reading the body).
    pub max_body_bytes: usize,
    /// Largest decoded protobuf accepted, checked against the snappy header before allocating.
    pub max_decoded_bytes: usize,
}

impl Default for Limits {
    /// 16 MiB compressed and 32 MiB decoded: a Prometheus batch (2,000 samples by default,
    /// 10,000 at most in common setups) is well under 1 MiB decoded.
    fn default() -> Self {
        Limits {
            max_body_bytes: 16 << 20,
            max_decoded_bytes: 32 << 20,
        }
    }
}

/// 413 when the compressed body (or its announced `Content-Length`) is over `max_body_bytes`.
pub fn check_body_len(len: usize, max_body_bytes: usize) -> Result<(), Rejection> {
    if len > max_body_bytes {
        return Err(Rejection::new(
            RejectReason::BodyTooLarge,
            format!("request body of {len} bytes exceeds the limit of {max_body_bytes} bytes"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_len_table() {
        let cases: &[(&str, usize, usize, Result<(), u16>)] = &[
            ("empty", 0, 10, Ok(())),
            ("at the limit", 10, 10, Ok(())),
            ("over", 11, 10, Err(413)),
            ("zero limit", 1, 0, Err(413)),
        ];
        for &(name, len, max, expected) in cases {
            assert_eq!(
                check_body_len(len, max).map_err(|r| r.status),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn default_limits_hold_a_prometheus_batch() {
        let limits = Limits::default();
        assert!(limits.max_body_bytes <= limits.max_decoded_bytes);
        assert!(limits.max_decoded_bytes >= 1 << 20);
    }
}
