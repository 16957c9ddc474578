//! The best F1 over all thresholds t on the score (a point is flagged when score ≥ t).
//!
//! Both sweeps turn the series into steps: a score and what flagging at that score adds. For
//! the point-wise F1 a labelled point adds one true positive and an unlabelled point one false
//! positive. For the delay-k event F1 a segment is caught as soon as t ≤ its best score among
//! its first `delay + 1` points, and then adds all its points as true positives; unlabelled
//! points add false positives as before. The steps are sorted by score, highest first, and
//! added group by group (equal scores together, as all points scoring exactly t are flagged
//! at t), evaluating F1 after each group: O(n log n) for the sort, O(n) for the walk. NaN
//! scores are never flagged, so they give no step.

use serde::Serialize;

use super::LabelledSeries;
use super::metrics::{Counts, Metrics};
use super::verdicts::{detection_window, segments};

/// The best F1 any threshold on the score reaches, and its counts.
///
/// It tunes the threshold on the labels, so it is an upper bound on what the detector's scores
/// allow, not what a deployed threshold gets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sweep {
    /// The threshold t reaching the best F1 (flag = score ≥ t); the highest one when several
    /// reach it. `None` when no threshold beats flagging nothing (F1 = 0), for example when
    /// nothing is labelled; the metrics are then those of flagging nothing.
    pub threshold: Option<f64>,
    /// Counts, precision, recall and F1 at `threshold`.
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// What flagging everything scoring at least `score` adds to the counts.
#[derive(Debug, Clone, Copy)]
struct Step {
    score: f64,
    true_positives: usize,
    false_positives: usize,
}

impl Step {
    fn found(score: f64, points: usize) -> Self {
        Self {
            score,
            true_positives: points,
            false_positives: 0,
        }
    }

    fn false_alarm(score: f64) -> Self {
        Self {
            score,
            true_positives: 0,
            false_positives: 1,
        }
    }
}

/// The best point-wise F1 of a threshold on the scores, pooled over all series.
pub(crate) fn best_point_f1(series: &[LabelledSeries]) -> Sweep {
    let steps = series
        .iter()
        .flat_map(|s| s.labels.iter().zip(&s.scores))
        .filter(|(_, score)| !score.is_nan())
        .map(|(&label, &score)| {
            if label {
                Step::found(score, 1)
            } else {
                Step::false_alarm(score)
            }
        })
        .collect();
    best_f1(steps, super::labelled_points(series))
}

/// The best delay-k event F1 of a threshold on the scores, pooled over all series.
pub(crate) fn best_event_f1(series: &[LabelledSeries], delay: usize) -> Sweep {
    let mut steps = Vec::new();
    for s in series {
        for segment in segments(&s.labels) {
            // The highest threshold that flags one of the first delay + 1 points.
            let catching = s.scores[detection_window(&segment, delay)]
                .iter()
                .copied()
                .filter(|score| !score.is_nan())
                .max_by(f64::total_cmp);
            if let Some(score) = catching {
                steps.push(Step::found(score, segment.len()));
            }
        }
        steps.extend(
            s.labels
                .iter()
                .zip(&s.scores)
                .filter(|&(&label, score)| !label && !score.is_nan())
                .map(|(_, &score)| Step::false_alarm(score)),
        );
    }
    best_f1(steps, super::labelled_points(series))
}

/// Walks `steps` from the highest score down and keeps the first (highest) threshold with the
/// best F1. Every labelled point starts as a false negative.
fn best_f1(mut steps: Vec<Step>, labelled_points: usize) -> Sweep {
    steps.sort_unstable_by(|a, b| b.score.total_cmp(&a.score));
    let mut counts = Counts {
        false_negatives: labelled_points,
        ..Counts::default()
    };
    let mut best = Sweep {
        threshold: None,
        metrics: counts.metrics(),
    };
    for group in steps.chunk_by(|a, b| a.score == b.score) {
        for step in group {
            counts.true_positives += step.true_positives;
            counts.false_negatives -= step.true_positives;
            counts.false_positives += step.false_positives;
        }
        // Strictly greater: among equal F1 the earlier, higher threshold wins.
        if counts.f1() > best.metrics.f1 {
            best = Sweep {
                threshold: Some(group[0].score),
                metrics: counts.metrics(),
            };
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::super::tests_support::series;
    use super::super::verdicts::{event_metrics, point_counts};
    use super::*;

    #[test]
    fn point_sweep_by_hand() {
        // Labelled: 1, 2, 4. Descending: 0.9 L, 0.8 L, 0.6 U, 0.4 L+U, 0.2 U, 0.1 U.
        // F1 at 0.9: 2/4; at 0.8: 4/5 (best); at 0.6: 4/6; at 0.4: 6/8; at 0.2: 6/9.
        let s = series("0110100", &[0.1, 0.9, 0.4, 0.4, 0.8, 0.2, 0.6], "0000000");
        let best = best_point_f1(&[s]);
        assert_eq!(best.threshold, Some(0.8));
        assert_eq!(
            best.metrics.counts,
            Counts {
                true_positives: 2,
                false_positives: 0,
                false_negatives: 1,
            }
        );
        assert_eq!(best.metrics.f1, 0.8);
        assert_eq!(best.metrics.precision, 1.0);
    }

    #[test]
    fn points_tied_at_the_threshold_are_all_flagged() {
        // As above but the unlabelled point 3 also scores 0.8: flagging at 0.8 takes it too
        // (F1 4/6), so the best is now 0.4 (F1 6/8).
        let s = series("0110100", &[0.1, 0.9, 0.4, 0.8, 0.8, 0.2, 0.6], "0000000");
        let best = best_point_f1(&[s]);
        assert_eq!(best.threshold, Some(0.4));
        assert_eq!(best.metrics.f1, 0.75);
    }

    #[test]
    fn event_sweep_uses_only_the_first_delay_plus_one_scores() {
        // Segment 2..6; with delay 1 only 0.2 and 0.5 can catch it, the later 0.95 is too late.
        // At t = 0.5 the segment is caught (4 TP) and no unlabelled point (0.3, 0.1, 0.4)
        // is flagged: F1 = 1. Point-wise the best is 6/7, also at t = 0.5.
        let s = series("0011110", &[0.3, 0.1, 0.2, 0.5, 0.95, 0.9, 0.4], "0000000");
        let event = best_event_f1(std::slice::from_ref(&s), 1);
        assert_eq!(event.threshold, Some(0.5));
        assert_eq!(event.metrics.f1, 1.0);
        assert_eq!(event.metrics.counts.true_positives, 4);
        // With delay 0 only 0.2 catches it, and 0.3 and 0.4 come with it: F1 = 8/10.
        let event = best_event_f1(std::slice::from_ref(&s), 0);
        assert_eq!(event.threshold, Some(0.2));
        assert_eq!(event.metrics.counts.false_positives, 2);
        assert_eq!(event.metrics.f1, 0.8);
        let point = best_point_f1(&[s]);
        assert_eq!(point.threshold, Some(0.5));
        assert_eq!(point.metrics.f1, 6.0 / 7.0);
    }

    #[test]
    fn nan_scores_are_never_flagged() {
        // The segment's catching scores are NaN: it is always missed, whatever the threshold.
        let s = series("01100", &[0.2, f64::NAN, f64::NAN, 0.9, f64::NAN], "00000");
        let event = best_event_f1(std::slice::from_ref(&s), 0);
        assert_eq!(event.threshold, None);
        assert_eq!(
            event.metrics.counts,
            Counts {
                true_positives: 0,
                false_positives: 0,
                false_negatives: 2,
            }
        );
        let point = best_point_f1(&[s]);
        assert_eq!(point.threshold, None);
        assert_eq!(point.metrics.f1, 0.0);
        // A NaN among the catching points does not hide the others.
        let s = series("01100", &[0.2, 0.7, f64::NAN, 0.1, f64::NAN], "00000");
        let event = best_event_f1(&[s], 1);
        assert_eq!(event.threshold, Some(0.7));
        assert_eq!(event.metrics.f1, 1.0);
    }

    /// Random series: labels in runs, scores on a coarse grid (many ties), labelled points
    /// scoring higher on average, a few NaN.
    fn random_series(rng: &mut ChaCha8Rng) -> LabelledSeries {
        let len = rng.random_range(0..60);
        let mut labels = Vec::with_capacity(len);
        let mut anomalous = false;
        for _ in 0..len {
            if rng.random_bool(if anomalous { 0.3 } else { 0.1 }) {
                anomalous = !anomalous;
            }
            labels.push(anomalous);
        }
        let scores = labels
            .iter()
            .map(|&label| {
                if rng.random_bool(0.05) {
                    return f64::NAN;
                }
                let level = f64::from(rng.random_range(0..=10_u8)) / 10.0;
                if label {
                    level.max(rng.random())
                } else {
                    level
                }
            })
            .collect();
        LabelledSeries::new(labels, scores, vec![false; len]).unwrap()
    }

    /// The series with verdicts = score ≥ threshold.
    fn flagged_at(series: &[LabelledSeries], threshold: f64) -> Vec<LabelledSeries> {
        series
            .iter()
            .map(|s| LabelledSeries {
                verdicts: s.scores.iter().map(|&score| score >= threshold).collect(),
                ..s.clone()
            })
            .collect()
    }

    /// Brute force: evaluate every distinct score as a threshold from scratch with the
    /// fixed-verdict metrics, highest first, keeping the first maximum.
    fn brute_force(
        series: &[LabelledSeries],
        counts_at: impl Fn(&[LabelledSeries]) -> Counts,
    ) -> Sweep {
        let mut thresholds: Vec<f64> = series
            .iter()
            .flat_map(|s| s.scores.iter().copied())
            .filter(|score| !score.is_nan())
            .collect();
        thresholds.sort_by(|a, b| b.total_cmp(a));
        thresholds.dedup();
        let mut best = Sweep {
            threshold: None,
            metrics: counts_at(&flagged_at(series, f64::INFINITY)).metrics(),
        };
        for t in thresholds {
            let metrics = counts_at(&flagged_at(series, t)).metrics();
            if metrics.f1 > best.metrics.f1 {
                best = Sweep {
                    threshold: Some(t),
                    metrics,
                };
            }
        }
        best
    }

    #[test]
    fn sweeps_equal_brute_force_on_random_data() {
        let mut rng = ChaCha8Rng::seed_from_u64(0x1abe_11ed);
        let (mut cases_with_threshold, mut event_differs_from_point) = (0, 0);
        for case in 0..400 {
            let series: Vec<_> = (0..rng.random_range(0..4))
                .map(|_| random_series(&mut rng))
                .collect();
            let delay = rng.random_range(0..6);
            let point = best_point_f1(&series);
            assert_eq!(point, brute_force(&series, point_counts), "case {case}");
            let event = best_event_f1(&series, delay);
            let brute = brute_force(&series, |s| event_metrics(s, delay).metrics.counts);
            assert_eq!(event, brute, "case {case}, delay {delay}");
            cases_with_threshold += usize::from(event.threshold.is_some());
            event_differs_from_point += usize::from(event.threshold != point.threshold);
        }
        // Not vacuous: most cases have a best threshold, and the two sweeps often disagree.
        assert!(cases_with_threshold > 250, "{cases_with_threshold}");
        assert!(event_differs_from_point > 50, "{event_differs_from_point}");
    }
}
