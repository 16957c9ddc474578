//! [`MetricType`]: the metric family type of remote-write metadata.

/// A metric family's type, as in `MetricMetadata.MetricType` (1.0) and `Metadata.MetricType`
/// (2.0). The numbers are the same in both, except that 2.0 calls 0 "unspecified".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricType {
    /// 0: unknown (1.0) or unspecified (2.0).
    Unknown,
    /// 1: a counter.
    Counter,
    /// 2: a gauge.
    Gauge,
    /// 3: a histogram.
    Histogram,
    /// 4: a gauge histogram.
    GaugeHistogram,
    /// 5: a summary.
    Summary,
    /// 6: an info metric.
    Info,
    /// 7: a state set.
    StateSet,
}

impl MetricType {
    /// The type for a wire number; numbers this crate does not know are `Unknown`.
    pub fn from_wire(number: i32) -> MetricType {
        match number {
            1 => MetricType::Counter,
            2 => MetricType::Gauge,
            3 => MetricType::Histogram,
            4 => MetricType::GaugeHistogram,
            5 => MetricType::Summary,
            6 => MetricType::Info,
            7 => MetricType::StateSet,
            _ => MetricType::Unknown,
        }
    }

    /// The wire number.
    pub fn to_wire(self) -> i32 {
        match self {
            MetricType::Unknown => 0,
            MetricType::Counter => 1,
            MetricType::Gauge => 2,
            MetricType::Histogram => 3,
            MetricType::GaugeHistogram => 4,
            MetricType::Summary => 5,
            MetricType::Info => 6,
            MetricType::StateSet => 7,
        }
    }

    /// The name as Prometheus's 1.0 enum spells it (`COUNTER`, `GAUGE` …).
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Unknown => "UNKNOWN",
            MetricType::Counter => "COUNTER",
            MetricType::Gauge => "GAUGE",
            MetricType::Histogram => "HISTOGRAM",
            MetricType::GaugeHistogram => "GAUGEHISTOGRAM",
            MetricType::Summary => "SUMMARY",
            MetricType::Info => "INFO",
            MetricType::StateSet => "STATESET",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_numbers_round_trip() {
        for number in 0..8 {
            assert_eq!(MetricType::from_wire(number).to_wire(), number);
        }
        let unknown: &[(&str, i32)] = &[("negative", -1), ("future", 8), ("huge", i32::MAX)];
        for &(name, number) in unknown {
            assert_eq!(MetricType::from_wire(number), MetricType::Unknown, "{name}");
        }
        assert_eq!(MetricType::from_wire(2).as_str(), "GAUGE");
    }
}
