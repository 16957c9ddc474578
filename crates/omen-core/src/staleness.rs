//! Prometheus staleness markers: the receiver counts them and the live engine ends a series'
//! episode on them, so both take the one definition from here.

/// The bits of Prometheus's staleness marker: a NaN that means "this series ended" (a target
/// went away or a series disappeared from a scrape). Senders use it for nothing else.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// Whether `value` is the staleness marker, compared by bits: an ordinary NaN
/// (`0x7ff8000000000001` from Prometheus, or any other payload) is not one.
pub fn is_stale_marker(value: f64) -> bool {
    value.to_bits() == STALE_NAN_BITS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bits_are_stale() {
        let cases: &[(&str, f64, bool)] = &[
            ("stale marker", f64::from_bits(STALE_NAN_BITS), true),
            (
                "prometheus normal NaN",
                f64::from_bits(0x7ff8_0000_0000_0001),
                false,
            ),
            ("rust NaN", f64::NAN, false),
            (
                "negative stale payload",
                f64::from_bits(STALE_NAN_BITS | (1 << 63)),
                false,
            ),
            ("infinity", f64::INFINITY, false),
            ("zero", 0.0, false),
        ];
        for &(name, value, expected) in cases {
            assert_eq!(is_stale_marker(value), expected, "{name}");
        }
    }
}
