//! [`Collector`]: what both decoders do with each series once its bytes are read: count it,
//! validate its labels, and keep it or drop it.

use crate::batch::{Metadata, SeriesRef, WriteSummary};
use crate::decode::describe_pairs;
use crate::labels::METRIC_NAME_LABEL;
use crate::metric_type::MetricType;
use crate::protocol::Protocol;
use crate::stats::{InvalidReason, WriteStats};
use crate::validate::check_labels;
use omen_core::is_stale_marker;

/// How many samples, histograms and exemplars a series held.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Held {
    pub(crate) samples: usize,
    pub(crate) histograms: usize,
    pub(crate) exemplars: usize,
    /// Histograms that fail [`crate::histogram::check_histogram`]: any drops the series.
    pub(crate) bad_histograms: usize,
}

/// Hands each kept series to a visitor and counts everything seen.
pub(crate) struct Collector<F> {
    pub(crate) stats: WriteStats,
    visit: F,
}

impl<F: FnMut(SeriesRef<'_>)> Collector<F> {
    pub(crate) fn new(visit: F) -> Self {
        Collector {
            stats: WriteStats::default(),
            visit,
        }
    }

    fn receive(&mut self, held: Held) {
        let s = &mut self.stats;
        s.series_received += 1;
        s.samples_received += held.samples as u64;
        s.histograms_received += held.histograms as u64;
        s.exemplars_received += held.exemplars as u64;
    }

    /// Counts a series dropped before its labels could be read.
    pub(crate) fn reject(
        &mut self,
        held: Held,
        reason: InvalidReason,
        describe: impl FnOnce() -> String,
    ) {
        self.receive(held);
        self.stats
            .reject_series(reason, held.samples, held.exemplars, describe);
    }

    /// Validates a series' labels (sorting `pairs` and removing empty values if needed) and
    /// keeps it if they pass and its histograms are well-formed: a series with float samples
    /// goes to the visitor (one with none is counted and not visited), its histograms and its
    /// exemplars except `bad_exemplars` count as accepted. Returns the metric name of a kept series.
    pub(crate) fn accept<'a>(
        &mut self,
        held: Held,
        bad_exemplars: usize,
        pairs: &mut Vec<(&'a str, &'a str)>,
        samples: &[(i64, f64)],
        metric_type: Option<MetricType>,
    ) -> Option<&'a str> {
        self.receive(held);
        let checked = match check_labels(pairs) {
            Ok(_) if held.bad_histograms > 0 => Err(InvalidReason::InvalidHistogram),
            checked => checked,
        };
        let checked = match checked {
            Ok(checked) => checked,
            Err(reason) => {
                self.stats
                    .reject_series(reason, held.samples, held.exemplars, || {
                        describe_pairs(pairs)
                    });
                return None;
            }
        };
        let s = &mut self.stats;
        s.series_accepted += 1;
        s.series_resorted += u64::from(checked.resorted);
        s.empty_label_values_dropped += checked.empty_values as u64;
        s.samples_accepted += held.samples as u64;
        s.histograms_accepted += held.histograms as u64;
        s.exemplars_accepted += (held.exemplars - bad_exemplars) as u64;
        s.invalid_exemplars += bad_exemplars as u64;
        if checked.empty_values > 0 {
            pairs.retain(|(_, value)| !value.is_empty());
        }
        if checked.empty_values > 0 {
            pairs.retain(|(_, value)| !value.is_empty());
        }
        if !samples.is_empty() {
            s.stale_markers += samples.iter().filter(|&&(_, v)| is_stale_marker(v)).count() as u64;
            (self.visit)(SeriesRef {
                labels: pairs,
                samples,
                metric_type,
            });
        }
        let name = pairs.binary_search_by(|(n, _)| (*n).cmp(METRIC_NAME_LABEL));
        name.ok().map(|i| pairs[i].1)
    }

    pub(crate) fn finish(self, protocol: Protocol, metadata: Vec<Metadata>) -> WriteSummary {
        WriteSummary {
            protocol,
            metadata,
            stats: self.stats,
        }
    }
}
