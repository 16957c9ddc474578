//! The kind of each metric family (counter, gauge, ...), from remote-write metadata.
//!
//! Remote-write 1.0 sends metadata in requests of its own, every minute or so, keyed by metric
//! family name; 2.0 puts the type on each series. A counter is modelled on its rate, so the
//! kind matters: until a family's metadata has arrived, a name ending in `_total` is taken as a
//! counter (the Prometheus naming convention) and anything else as unknown (modelled as it is).

use std::collections::HashMap;
use std::sync::RwLock;

use omen_core::MetricKind;
use omen_remote_write::{Metadata, MetricType};

/// Family name to type, learned from metadata.
#[derive(Debug, Default)]
pub(crate) struct FamilyTypes {
    types: RwLock<HashMap<String, MetricType>>,
}

/// Suffixes by which a histogram's or summary's series are named after their family.
const COUNTER_SUFFIXES: [&str; 3] = ["_bucket", "_sum", "_count"];

impl FamilyTypes {
    /// Remember the types in `metadata` (the newest wins).
    pub(crate) fn learn(&self, metadata: &[Metadata]) {
        if metadata.is_empty() {
            return;
        }
        let mut types = self.types.write().unwrap_or_else(|e| e.into_inner());
        for entry in metadata {
            match types.get(&entry.metric_family_name) {
                Some(known) if *known == entry.metric_type => {}
                _ => {
                    types.insert(entry.metric_family_name.clone(), entry.metric_type);
                }
            }
        }
    }

    /// How many families are known.
    pub(crate) fn len(&self) -> usize {
        self.types.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// The kind of the series named `name`: from its own type when the request gave one (2.0),
    /// else from its family's metadata, else from its name.
    #[cfg(test)]
    pub(crate) fn kind_of(&self, name: &str, own: Option<MetricType>) -> MetricKind {
        match own_kind(own) {
            MetricKind::Unknown => self.read().kind_of(name),
            kind => kind,
        }
    }

    /// The table, held for reading while a request's series are given their kinds.
    pub(crate) fn read(&self) -> Known<'_> {
        Known(self.types.read().unwrap_or_else(|e| e.into_inner()))
    }
}

/// The kind a series' own type (2.0) says, [`MetricKind::Unknown`] when it says nothing: then
/// [`Known::kind_of`] its name decides.
pub(crate) fn own_kind(own: Option<MetricType>) -> MetricKind {
    own.and_then(|t| kind_of_type(t, false))
        .unwrap_or(MetricKind::Unknown)
}

/// The family types, read-locked.
pub(crate) struct Known<'a>(std::sync::RwLockReadGuard<'a, HashMap<String, MetricType>>);

impl Known<'_> {
    /// The kind of the series named `name` from its family's metadata, else from its name.
    pub(crate) fn kind_of(&self, name: &str) -> MetricKind {
        let types = &self.0;
        if let Some(kind) = types.get(name).and_then(|t| kind_of_type(*t, false)) {
            return kind;
        }
        for suffix in COUNTER_SUFFIXES {
            if let Some(family) = name.strip_suffix(suffix)
                && let Some(kind) = types.get(family).and_then(|t| kind_of_type(*t, true))
            {
                return kind;
            }
        }
        if name.ends_with("_total") {
            MetricKind::Counter
        } else {
            MetricKind::Unknown
        }
    }
}

/// The kind a series of type `metric_type` is modelled as; `suffixed` says whether its name is
/// its family's plus `_bucket`, `_sum` or `_count` (cumulative counts).
fn kind_of_type(metric_type: MetricType, suffixed: bool) -> Option<MetricKind> {
    match metric_type {
        MetricType::Counter => Some(MetricKind::Counter),
        MetricType::Gauge => Some(MetricKind::Gauge),
        MetricType::Histogram | MetricType::GaugeHistogram | MetricType::Summary if suffixed => {
            Some(MetricKind::Counter)
        }
        // A summary's quantiles are gauges.
        MetricType::Summary => Some(MetricKind::Gauge),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(name: &str, metric_type: MetricType) -> Metadata {
        Metadata {
            metric_family_name: name.into(),
            metric_type,
            help: String::new(),
            unit: String::new(),
        }
    }

    #[test]
    fn kinds() {
        let families = FamilyTypes::default();
        families.learn(&[
            metadata("node_load1", MetricType::Gauge),
            metadata("http_requests", MetricType::Counter),
            metadata("rpc_duration_seconds", MetricType::Summary),
            metadata("request_seconds", MetricType::Histogram),
        ]);
        let cases = [
            ("gauge by metadata", "node_load1", None, MetricKind::Gauge),
            (
                "own type wins",
                "node_load1",
                Some(MetricType::Counter),
                MetricKind::Counter,
            ),
            (
                "counter family without _total",
                "http_requests",
                None,
                MetricKind::Counter,
            ),
            (
                "summary quantile",
                "rpc_duration_seconds",
                None,
                MetricKind::Gauge,
            ),
            (
                "summary count",
                "rpc_duration_seconds_count",
                None,
                MetricKind::Counter,
            ),
            (
                "histogram bucket",
                "request_seconds_bucket",
                None,
                MetricKind::Counter,
            ),
            (
                "unknown _total by name",
                "x_total",
                None,
                MetricKind::Counter,
            ),
            ("unknown otherwise", "x", None, MetricKind::Unknown),
        ];
        for (name, metric, own, want) in cases {
            assert_eq!(families.kind_of(metric, own), want, "{name}");
        }
        assert_eq!(families.len(), 4);
    }
}
