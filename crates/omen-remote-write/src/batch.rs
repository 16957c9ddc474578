//! What decoding a request gives: [`WriteBatch`] with owned [`SeriesSamples`], or, through
//! [`crate::decode_with`], borrowed [`SeriesRef`]s and a [`WriteSummary`]; and [`Metadata`].

use crate::labels::{METRIC_NAME_LABEL, ValidatedLabels};
use crate::metric_type::MetricType;
use crate::protocol::Protocol;
use crate::stats::WriteStats;

/// One valid series of a request and its float samples.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesSamples {
    /// The validated, sorted label set.
    pub labels: ValidatedLabels,
    /// `(timestamp in ms, value)`, in the order sent (the spec says oldest first; not checked
    /// here). Staleness markers are kept: see [`crate::is_stale_marker`].
    pub samples: Vec<(i64, f64)>,
    /// 2.0: the type from the series' own metadata (`None` when unspecified). 1.0 sends
    /// metadata apart, so this is `None` and the caller joins [`WriteBatch::metadata`] by
    /// metric family name.
    pub metric_type: Option<MetricType>,
}

/// One valid series, borrowed from the request body while [`crate::decode_with`] runs: the
/// zero-allocation view of a [`SeriesSamples`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SeriesRef<'a> {
    /// The validated label set, sorted by name, without empty values (as in [`ValidatedLabels`]).
    pub labels: &'a [(&'a str, &'a str)],
    /// `(timestamp in ms, value)`, in the order sent, staleness markers included.
    pub samples: &'a [(i64, f64)],
    /// 2.0: the type from the series' own metadata; `None` for 1.0 and when unspecified.
    pub metric_type: Option<MetricType>,
}

impl SeriesRef<'_> {
    /// The metric name (`__name__`), which every valid series has.
    pub fn name(&self) -> &str {
        self.labels
            .binary_search_by(|(n, _)| (*n).cmp(METRIC_NAME_LABEL))
            .map_or("", |i| self.labels[i].1)
    }

    /// The owned series: one allocation per string, one for the label list, one for the
    /// samples.
    pub fn to_series(&self) -> SeriesSamples {
        let mut labels = Vec::with_capacity(self.labels.len());
        labels.extend(
            self.labels
                .iter()
                .map(|&(n, v)| (n.to_owned(), v.to_owned())),
        );
        SeriesSamples {
            labels: ValidatedLabels::from_validated(labels),
            samples: self.samples.to_vec(),
            metric_type: self.metric_type,
        }
    }
}

/// A metric family's metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    /// The family name (for a histogram, without `_bucket`/`_sum`/`_count`).
    pub metric_family_name: String,
    /// The type.
    pub metric_type: MetricType,
    /// The help text (may be empty).
    pub help: String,
    /// The unit (may be empty).
    pub unit: String,
}

/// What [`crate::decode_with`] returns besides the series it hands to its visitor.
#[derive(Clone, Debug, PartialEq)]
pub struct WriteSummary {
    /// The protocol the request was decoded as.
    pub protocol: Protocol,
    /// As [`WriteBatch::metadata`].
    pub metadata: Vec<Metadata>,
    /// Counts of what the request held, what was kept and what was dropped.
    pub stats: WriteStats,
}

/// A decoded request: only its valid series, its metadata, and the counts of everything.
#[derive(Clone, Debug, PartialEq)]
pub struct WriteBatch {
    /// The protocol the request was decoded as.
    pub protocol: Protocol,
    /// Valid series that carry float samples, in request order. The same label set can appear
    /// more than once (Prometheus sends one entry per scrape). Valid series with only native
    /// histograms are counted in [`WriteBatch::stats`] and not listed.
    pub series: Vec<SeriesSamples>,
    /// 1.0: the request's `MetricMetadata` entries. 2.0: one entry per metric family among
    /// the valid series that carry a type, help or unit (consecutive series of one family give
    /// one entry).
    pub metadata: Vec<Metadata>,
    /// Counts of what the request held, what was kept and what was dropped.
    pub stats: WriteStats,
}
