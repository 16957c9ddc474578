//! One observation of one series.

use serde::{Deserialize, Serialize};

/// One observation: a timestamp in milliseconds since the Unix epoch and a value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    pub timestamp_ms: i64,
    /// The observed value. NaN and infinities are accepted by detectors and skipped.
    pub value: f64,
}

impl Sample {
    /// A sample at `timestamp_ms` with `value`.
    pub fn new(timestamp_ms: i64, value: f64) -> Self {
        Self {
            timestamp_ms,
            value,
        }
    }
}
