//! Detection quality against point labels, pooled over many series: point-wise and delay-k
//! event precision, recall and F1 of the engine's verdicts, and the best F1 any threshold on the
//! anomaly score could reach.
//!
//! The event metric is the one of the AIOps Challenge 2018 (KPI anomaly detection). A labelled
//! anomaly segment is a maximal run of consecutive anomalous points in one series; it is caught
//! when at least one of its first `delay + 1` points is flagged, and then all its points count as
//! true positives, otherwise all its points count as false negatives (a flag later in the
//! segment is too late and does not help). Flagged points outside every segment are false
//! positives, as in the point-wise metric.
//!
//! Counts are summed over all series before precision, recall and F1 are computed, so long
//! series weigh more than short ones, and a segment never runs across two series.
//!
//! | file | job |
//! |---|---|
//! | `metrics.rs` | counts to precision, recall and F1 |
//! | `verdicts.rs` | segments, point-wise and delay-k counts of the engine's verdicts |
//! | `sweep.rs` | best F1 over all thresholds on the score, in O(n log n) |

mod metrics;
mod sweep;
mod verdicts;

use serde::Serialize;

use crate::{Error, Result};

pub use metrics::{Counts, Metrics};
pub use sweep::Sweep;
pub use verdicts::EventMetrics;

/// One series' ground truth and detector output, one entry per point in time order.
///
/// The three vectors always have the same length; [`LabelledSeries::new`] checks it.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledSeries {
    labels: Vec<bool>,
    scores: Vec<f64>,
    verdicts: Vec<bool>,
}

impl LabelledSeries {
    /// Bundles a series' labels, scores and verdicts.
    ///
    /// `labels[i]` says point `i` is really anomalous, `scores[i]` is the detector's anomaly
    /// score (normally in [0, 1]; NaN means "no score" and is never flagged by a threshold),
    /// and `verdicts[i]` says the engine flagged the point.
    ///
    /// # Errors
    ///
    /// [`Error::LabelledLengthMismatch`] when the three lengths differ.
    pub fn new(labels: Vec<bool>, scores: Vec<f64>, verdicts: Vec<bool>) -> Result<Self> {
        if labels.len() != scores.len() || labels.len() != verdicts.len() {
            return Err(Error::LabelledLengthMismatch {
                labels: labels.len(),
                scores: scores.len(),
                verdicts: verdicts.len(),
            });
        }
        Ok(Self {
            labels,
            scores,
            verdicts,
        })
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the series has no points.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Ground truth: whether each point is anomalous.
    pub fn labels(&self) -> &[bool] {
        &self.labels
    }

    /// The detector's anomaly score of each point.
    pub fn scores(&self) -> &[f64] {
        &self.scores
    }

    /// The engine's verdict: whether each point was flagged as anomalous.
    pub fn verdicts(&self) -> &[bool] {
        &self.verdicts
    }
}

/// Everything [`evaluate`] measures, pooled over all series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelledReport {
    /// Number of series evaluated.
    pub series: usize,
    /// Number of points over all series.
    pub points: usize,
    /// Number of points labelled anomalous over all series.
    pub labelled_points: usize,
    /// The delay k of the event metric: a segment must be flagged within its first k + 1 points.
    pub delay: usize,
    /// Point-wise precision, recall and F1 of the engine's verdicts.
    pub point: Metrics,
    /// Delay-k event metrics (AIOps 2018) of the engine's verdicts.
    pub event: EventMetrics,
    /// The best point-wise F1 of any threshold on the score (an upper bound tuned on the labels).
    pub best_point_f1: Sweep,
    /// The best delay-k event F1 of any threshold on the score (an upper bound tuned on the
    /// labels).
    pub best_event_f1: Sweep,
}

/// Measures the verdicts and scores of `series` against their labels, with event delay `delay`.
///
/// Cost: O(n log n) in the total number of points n, for the threshold sweeps.
pub fn evaluate(series: &[LabelledSeries], delay: usize) -> LabelledReport {
    LabelledReport {
        series: series.len(),
        points: series.iter().map(LabelledSeries::len).sum(),
        labelled_points: labelled_points(series),
        delay,
        point: verdicts::point_counts(series).metrics(),
        event: verdicts::event_metrics(series, delay),
        best_point_f1: sweep::best_point_f1(series),
        best_event_f1: sweep::best_event_f1(series, delay),
    }
}

/// Number of points labelled anomalous over all series.
fn labelled_points(series: &[LabelledSeries]) -> usize {
    series
        .iter()
        .map(|s| s.labels.iter().filter(|&&label| label).count())
        .sum()
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::LabelledSeries;

    /// A series from compact strings: labels and verdicts as `1`/`0`, one char per point.
    pub(crate) fn series(labels: &str, scores: &[f64], verdicts: &str) -> LabelledSeries {
        let bits = |s: &str| s.chars().map(|c| c == '1').collect::<Vec<_>>();
        LabelledSeries::new(bits(labels), scores.to_vec(), bits(verdicts)).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::series;
    use super::*;

    #[test]
    fn new_rejects_unequal_lengths_and_names_them() {
        let err = LabelledSeries::new(vec![false; 3], vec![0.0; 2], vec![false; 3]).unwrap_err();
        assert!(matches!(
            err,
            Error::LabelledLengthMismatch {
                labels: 3,
                scores: 2,
                verdicts: 3
            }
        ));
        assert_eq!(
            err.to_string(),
            "labelled series has 3 labels, 2 scores and 3 verdicts; all three must have one \
             entry per point"
        );
        assert!(LabelledSeries::new(vec![false; 3], vec![0.0; 3], vec![false; 2]).is_err());
        assert!(
            LabelledSeries::new(vec![], vec![], vec![])
                .unwrap()
                .is_empty()
        );
    }

    /// Every ratio of `report` is exactly zero and its thresholds are unset.
    fn assert_all_zero(report: &LabelledReport) {
        for metrics in [
            &report.point,
            &report.event.metrics,
            &report.best_point_f1.metrics,
            &report.best_event_f1.metrics,
        ] {
            assert_eq!(
                (metrics.precision, metrics.recall, metrics.f1),
                (0.0, 0.0, 0.0)
            );
        }
        assert_eq!(report.best_point_f1.threshold, None);
        assert_eq!(report.best_event_f1.threshold, None);
        assert_eq!(report.event.mean_detection_delay, None);
        // No NaN anywhere, so the report is valid JSON with numbers.
        let json = serde_json::to_string(report).unwrap();
        assert!(!json.contains("NaN"), "{json}");
    }

    #[test]
    fn empty_input_gives_zeros() {
        let report = evaluate(&[], 3);
        assert_eq!(
            (report.series, report.points, report.labelled_points),
            (0, 0, 0)
        );
        assert_eq!(report.point.counts, Counts::default());
        assert_all_zero(&report);
        let report = evaluate(&[series("", &[], "")], 3);
        assert_eq!((report.series, report.points), (1, 0));
        assert_all_zero(&report);
    }

    #[test]
    fn input_without_labels_gives_zeros_and_counts_false_positives() {
        let report = evaluate(&[series("0000", &[0.1, 0.9, 0.5, f64::NAN], "0110")], 1);
        assert_eq!((report.points, report.labelled_points), (4, 0));
        assert_eq!(report.point.counts.false_positives, 2);
        assert_eq!(report.event.metrics.counts.false_positives, 2);
        assert_eq!(report.event.segments, 0);
        // The best threshold flags nothing: nothing to find, so any flag only costs.
        assert_eq!(report.best_point_f1.metrics.counts, Counts::default());
        assert_all_zero(&report);
    }

    #[test]
    fn report_pools_both_metrics_and_serialises_flat() {
        // Series 1: segment [1, 3] flagged at its 3rd point, one FP at 5.
        // Series 2: segment [0, 1] flagged at once.
        let a = series("011100", &[0.1, 0.2, 0.3, 0.8, 0.1, 0.7], "000101");
        let b = series("110", &[0.9, 0.1, 0.1], "100");
        let report = evaluate(&[a, b], 1);
        assert_eq!(
            (
                report.series,
                report.points,
                report.labelled_points,
                report.delay
            ),
            (2, 9, 5, 1)
        );
        // Point-wise: TP = 2 (points 3 and b0), FP = 1, FN = 3.
        assert_eq!(
            report.point.counts,
            Counts {
                true_positives: 2,
                false_positives: 1,
                false_negatives: 3,
            }
        );
        // Delay 1: series 1's segment is flagged too late (index 2 > 1), series 2's caught.
        assert_eq!(report.event.metrics.counts.true_positives, 2);
        assert_eq!(report.event.metrics.counts.false_negatives, 3);
        assert_eq!(
            (report.event.segments, report.event.caught_segments),
            (2, 1)
        );

        let json: serde_json::Value = serde_json::to_value(&report).unwrap();
        assert_eq!(json["point"]["true_positives"], 2);
        assert_eq!(json["event"]["caught_segments"], 1);
        assert_eq!(json["event"]["mean_detection_delay"], 0.0);
        assert!(json["best_event_f1"]["threshold"].is_f64());
        assert!(json["best_event_f1"]["f1"].is_f64());
    }
}
