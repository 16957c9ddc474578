//! Deterministic synthetic series shared by the detector tests.

/// One minute in milliseconds.
pub(crate) const MINUTE: i64 = 60_000;
/// One day in milliseconds.
pub(crate) const DAY: i64 = 24 * 60 * MINUTE;

/// A deterministic, roughly uniform wiggle in [-1, 1) (the classic shader hash).
pub(crate) fn wiggle(i: usize) -> f64 {
    ((i as f64 * 12.9898).sin() * 43_758.545).rem_euclid(1.0) * 2.0 - 1.0
}

/// A daily sine around 100 with amplitude 30, by timestamp.
pub(crate) fn daily(t: i64) -> f64 {
    100.0 + 30.0 * (t as f64 / DAY as f64 * std::f64::consts::TAU).sin()
}
