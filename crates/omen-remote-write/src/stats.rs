//! [`WriteStats`]: what a request held and what was kept, and [`InvalidReason`]s for what was
//! dropped.

/// Why one series was dropped. [`InvalidReason::as_str`] is stable, for a metrics label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InvalidReason {
    /// No `__name__` label, or an empty one.
    MissingMetricName,
    /// A label with an empty name.
    EmptyLabelName,
    /// Two labels with the same name.
    DuplicateLabelName,
    /// A label name or value that is not UTF-8.
    InvalidUtf8,
    /// 2.0: a label reference outside the symbol table, or a metadata reference outside it.
    BadSymbolRef,
    /// 2.0: `labels_refs` of odd length.
    OddLabelRefs,
    /// 2.0: a series with neither samples nor histograms.
    NoSamples,
    /// 2.0: a series with both samples and histograms.
    SamplesAndHistograms,
    /// A native histogram that Prometheus would refuse (e.g. a count that does not match its
    /// buckets); see `histogram.rs`.
    InvalidHistogram,
}

impl InvalidReason {
    /// The number of reasons.
    pub const COUNT: usize = 9;

    /// Every reason, in declaration order.
    pub const ALL: [InvalidReason; InvalidReason::COUNT] = [
        InvalidReason::MissingMetricName,
        InvalidReason::EmptyLabelName,
        InvalidReason::DuplicateLabelName,
        InvalidReason::InvalidUtf8,
        InvalidReason::BadSymbolRef,
        InvalidReason::OddLabelRefs,
        InvalidReason::NoSamples,
        InvalidReason::SamplesAndHistograms,
        InvalidReason::InvalidHistogram,
    ];

    /// A stable snake_case name, for a metrics label and the response message.
    pub fn as_str(self) -> &'static str {
        match self {
            InvalidReason::MissingMetricName => "missing_metric_name",
            InvalidReason::EmptyLabelName => "empty_label_name",
            InvalidReason::DuplicateLabelName => "duplicate_label_name",
            InvalidReason::InvalidUtf8 => "invalid_utf8",
            InvalidReason::BadSymbolRef => "bad_symbol_ref",
            InvalidReason::OddLabelRefs => "odd_label_refs",
            InvalidReason::NoSamples => "no_samples",
            InvalidReason::SamplesAndHistograms => "samples_and_histograms",
            InvalidReason::InvalidHistogram => "invalid_histogram",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Dropped series counted by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InvalidCounts([u64; InvalidReason::COUNT]);

impl InvalidCounts {
    /// The count for one reason.
    pub fn get(&self, reason: InvalidReason) -> u64 {
        self.0[reason.index()]
    }

    /// All dropped series.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// `(reason, count)` for every reason with a non-zero count, in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = (InvalidReason, u64)> + '_ {
        InvalidReason::ALL
            .into_iter()
            .map(|r| (r, self.get(r)))
            .filter(|&(_, n)| n > 0)
    }

    pub(crate) fn add(&mut self, reason: InvalidReason) {
        self.0[reason.index()] += 1;
    }
}

/// What one request held and what the decoder kept. "Accepted" means in a valid series: the
/// float samples of those are in [`crate::WriteBatch::series`]; accepted histograms and
/// exemplars are counted and then ignored, because Omen models float samples only.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Series (`TimeSeries` entries) in the request.
    pub series_received: u64,
    /// Series that passed validation.
    pub series_accepted: u64,
    /// Series dropped, by reason.
    pub invalid_series: InvalidCounts,
    /// Float samples in the request.
    pub samples_received: u64,
    /// Float samples in valid series, i.e. in the batch.
    pub samples_accepted: u64,
    /// Float samples dropped with their series.
    pub invalid_samples: u64,
    /// Staleness markers among the accepted samples.
    pub stale_markers: u64,
    /// Native histogram samples in the request.
    pub histograms_received: u64,
    /// Native histogram samples in valid series (accepted and ignored).
    pub histograms_accepted: u64,
    /// Exemplars in the request.
    pub exemplars_received: u64,
    /// Exemplars in valid series with valid label references (accepted and ignored).
    pub exemplars_accepted: u64,
    /// Exemplars dropped: in an invalid series, or (2.0) with bad label references.
    pub invalid_exemplars: u64,
    /// Metadata entries: 1.0 `MetricMetadata`, or 2.0 series carrying a type, help or unit.
    pub metadata_received: u64,
    /// Valid series whose labels arrived out of order and were sorted (kept, not dropped).
    pub series_resorted: u64,
    /// Labels with an empty value removed from valid series (an empty value means "no such
    /// label" in Prometheus).
    pub empty_label_values_dropped: u64,
    /// The first dropped series, printed with its reason, for the response message.
    pub first_invalid: Option<(InvalidReason, String)>,
}

impl WriteStats {
    /// Whether nothing was dropped.
    pub fn all_valid(&self) -> bool {
        self.invalid_series.total() == 0 && self.invalid_exemplars == 0
    }

    pub(crate) fn reject_series(
        &mut self,
        reason: InvalidReason,
        samples: usize,
        exemplars: usize,
        describe: impl FnOnce() -> String,
    ) {
        self.invalid_series.add(reason);
        self.invalid_samples += samples as u64;
        self.invalid_exemplars += exemplars as u64;
        if self.first_invalid.is_none() {
            self.first_invalid = Some((reason, describe()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_indexed_in_order_and_named_uniquely() {
        for (i, reason) in InvalidReason::ALL.into_iter().enumerate() {
            assert_eq!(reason.index(), i);
        }
        let mut names: Vec<&str> = InvalidReason::ALL.iter().map(|r| r.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), InvalidReason::COUNT);
    }

    #[test]
    fn counts_add_up() {
        let mut stats = WriteStats::default();
        assert!(stats.all_valid());
        stats.reject_series(InvalidReason::NoSamples, 0, 1, || "a".into());
        stats.reject_series(InvalidReason::MissingMetricName, 3, 0, || "b".into());
        stats.reject_series(InvalidReason::MissingMetricName, 2, 0, || "c".into());
        assert_eq!(stats.invalid_series.total(), 3);
        assert_eq!(
            stats.invalid_series.get(InvalidReason::MissingMetricName),
            2
        );
        assert_eq!(stats.invalid_samples, 5);
        assert_eq!(stats.invalid_exemplars, 1);
        assert_eq!(
            stats.first_invalid,
            Some((InvalidReason::NoSamples, "a".into()))
        );
        assert_eq!(
            stats.invalid_series.iter().collect::<Vec<_>>(),
            [
                (InvalidReason::MissingMetricName, 2),
                (InvalidReason::NoSamples, 1)
            ]
        );
        assert!(!stats.all_valid());
    }
}
