//! [`Outcome`]: what the HTTP layer answers for a decoded request.

use crate::batch::{WriteBatch, WriteSummary};
use crate::protocol::{
    EXEMPLARS_WRITTEN_HEADER, HISTOGRAMS_WRITTEN_HEADER, SAMPLES_WRITTEN_HEADER,
};
use crate::stats::WriteStats;

/// The longest printed label set quoted in a message.
const MAX_EXAMPLE_CHARS: usize = 200;

/// The answer to a decoded request, assuming its valid series are then ingested. (When the
/// engine cannot take them, the HTTP layer answers 503 or 429 instead, and nothing counts as
/// written.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// 204 when everything was accepted, 400 when something was dropped (a partial write: the
    /// valid series are still in the batch and should be ingested).
    pub status: u16,
    /// For a 400: one line for a person, e.g. `dropped 3 of 31 series (3 samples):
    /// 2 missing_metric_name, 1 duplicate_label_name; first: {job="x"} (missing_metric_name)`.
    pub message: Option<String>,
    /// For `X-Prometheus-Remote-Write-Samples-Written`.
    pub samples_written: u64,
    /// For `X-Prometheus-Remote-Write-Histograms-Written`: histograms in valid series, which
    /// Omen accepts and does not model.
    pub histograms_written: u64,
    /// For `X-Prometheus-Remote-Write-Exemplars-Written`: exemplars in valid series, accepted
    /// and not modelled.
    pub exemplars_written: u64,
}

impl Outcome {
    /// The three 2.0 response headers, to send on every processed 2.0 request (2xx or 4xx).
    pub fn written_headers(&self) -> [(&'static str, u64); 3] {
        [
            (SAMPLES_WRITTEN_HEADER, self.samples_written),
            (HISTOGRAMS_WRITTEN_HEADER, self.histograms_written),
            (EXEMPLARS_WRITTEN_HEADER, self.exemplars_written),
        ]
    }
}

impl WriteBatch {
    /// What to answer: 204 when nothing was dropped, else 400 with a message saying how many
    /// series and of what kind, while the valid series are still ingested.
    pub fn outcome(&self) -> Outcome {
        self.stats.outcome()
    }
}

impl WriteSummary {
    /// As [`WriteBatch::outcome`].
    pub fn outcome(&self) -> Outcome {
        self.stats.outcome()
    }
}

impl WriteStats {
    /// As [`WriteBatch::outcome`], from the counts alone.
    pub fn outcome(&self) -> Outcome {
        let s = self;
        let message = (!s.all_valid()).then(|| {
            let mut parts = Vec::new();
            let dropped = s.invalid_series.total();
            if dropped > 0 {
                let mut what = vec![format!("{} samples", s.invalid_samples)];
                let histograms = s.histograms_received - s.histograms_accepted;
                if histograms > 0 {
                    what.push(format!("{histograms} histograms"));
                }
                let reasons: Vec<String> = s
                    .invalid_series
                    .iter()
                    .map(|(r, n)| format!("{n} {}", r.as_str()))
                    .collect();
                parts.push(format!(
                    "dropped {dropped} of {} series ({}): {}",
                    s.series_received,
                    what.join(", "),
                    reasons.join(", ")
                ));
            }
            if s.invalid_exemplars > 0 {
                parts.push(format!(
                    "dropped {} of {} exemplars",
                    s.invalid_exemplars, s.exemplars_received
                ));
            }
            if let Some((reason, example)) = &s.first_invalid {
                parts.push(format!(
                    "first: {} ({})",
                    truncate(example),
                    reason.as_str()
                ));
            }
            parts.join("; ")
        });
        Outcome {
            status: if message.is_some() { 400 } else { 204 },
            message,
            samples_written: s.samples_accepted,
            histograms_written: s.histograms_accepted,
            exemplars_written: s.exemplars_accepted,
        }
    }
}

fn truncate(s: &str) -> String {
    match s.char_indices().nth(MAX_EXAMPLE_CHARS) {
        Some((end, _)) => format!("{}…", &s[..end]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Protocol;
    use crate::stats::InvalidReason;

    fn batch(stats: WriteStats) -> WriteBatch {
        WriteBatch {
            protocol: Protocol::V2,
            series: Vec::new(),
            metadata: Vec::new(),
            stats,
        }
    }

    #[test]
    fn outcome_table() {
        let all_good = WriteStats {
            series_received: 31,
            series_accepted: 31,
            samples_received: 31,
            samples_accepted: 31,
            histograms_received: 2,
            histograms_accepted: 2,
            exemplars_received: 1,
            exemplars_accepted: 1,
            ..WriteStats::default()
        };
        let mut partial = WriteStats {
            series_received: 31,
            series_accepted: 28,
            samples_received: 31,
            samples_accepted: 28,
            ..WriteStats::default()
        };
        partial.reject_series(InvalidReason::MissingMetricName, 1, 0, || {
            r#"{job="x"}"#.into()
        });
        partial.reject_series(InvalidReason::MissingMetricName, 1, 0, || "unused".into());
        partial.reject_series(InvalidReason::DuplicateLabelName, 1, 0, || "unused".into());
        let exemplars_only = WriteStats {
            series_received: 1,
            series_accepted: 1,
            samples_received: 1,
            samples_accepted: 1,
            exemplars_received: 2,
            exemplars_accepted: 1,
            invalid_exemplars: 1,
            ..WriteStats::default()
        };
        let long = WriteStats {
            first_invalid: Some((InvalidReason::NoSamples, "x".repeat(500))),
            ..partial.clone()
        };
        // (name, stats, status, message, (samples, histograms, exemplars) written)
        type Case = (
            &'static str,
            WriteStats,
            u16,
            Option<String>,
            (u64, u64, u64),
        );
        let cases: Vec<Case> = vec![
            ("empty request", WriteStats::default(), 204, None, (0, 0, 0)),
            ("all accepted", all_good, 204, None, (31, 2, 1)),
            (
                "partial write",
                partial,
                400,
                Some(
                    "dropped 3 of 31 series (3 samples): 2 missing_metric_name, \
                     1 duplicate_label_name; first: {job=\"x\"} (missing_metric_name)"
                        .into(),
                ),
                (28, 0, 0),
            ),
            (
                "bad exemplar",
                exemplars_only,
                400,
                Some("dropped 1 of 2 exemplars".into()),
                (1, 0, 1),
            ),
            (
                "long example truncated",
                long,
                400,
                Some(format!(
                    "dropped 3 of 31 series (3 samples): 2 missing_metric_name, \
                     1 duplicate_label_name; first: {}… (no_samples)",
                    "x".repeat(200)
                )),
                (28, 0, 0),
            ),
        ];
        for (name, stats, status, message, written) in cases {
            let outcome = batch(stats).outcome();
            assert_eq!(outcome.status, status, "{name}");
            assert_eq!(outcome.message, message, "{name}");
            let got = (
                outcome.samples_written,
                outcome.histograms_written,
                outcome.exemplars_written,
            );
            assert_eq!(got, written, "{name}");
            assert!(
                !outcome.message.unwrap_or_default().contains('\n'),
                "{name}"
            );
        }
    }

    #[test]
    fn headers_use_the_final_2_0_names() {
        let outcome = batch(WriteStats {
            samples_accepted: 5,
            ..WriteStats::default()
        })
        .outcome();
        assert_eq!(
            outcome.written_headers(),
            [
                ("X-Prometheus-Remote-Write-Samples-Written", 5),
                ("X-Prometheus-Remote-Write-Histograms-Written", 0),
                ("X-Prometheus-Remote-Write-Exemplars-Written", 0),
            ]
        );
    }
}
