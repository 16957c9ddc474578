//! [`MetricKind`]: what kind of metric a series is, from the sender's metadata.

use serde::{Deserialize, Serialize};

/// What kind of metric a series is, from the sender's metadata.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// A value that goes up and down: modelled as it is.
    Gauge,
    /// A monotonic count: modelled on its per-second rate, with resets handled.
    Counter,
    /// No metadata: modelled as a gauge.
    #[default]
    Unknown,
}

impl MetricKind {
    /// The name used in the API and in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Gauge => "gauge",
            MetricKind::Counter => "counter",
            MetricKind::Unknown => "unknown",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_serde_names() {
        for (name, kind, want) in [
            ("gauge", MetricKind::Gauge, "gauge"),
            ("counter", MetricKind::Counter, "counter"),
            ("unknown, the default", MetricKind::default(), "unknown"),
        ] {
            assert_eq!(kind.as_str(), want, "{name}");
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{want}\""),
                "{name}"
            );
        }
    }
}
