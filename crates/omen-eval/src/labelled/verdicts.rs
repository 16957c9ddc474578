//! Labelled segments, and the point-wise and delay-k event counts of the engine's verdicts.

use std::ops::Range;

use serde::Serialize;

use super::LabelledSeries;
use super::metrics::{Counts, Metrics};

/// Delay-k event metrics of the AIOps Challenge 2018, pooled over all series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventMetrics {
    /// Counts over adjusted points: a caught segment's points are all true positives, a missed
    /// segment's all false negatives, and flagged points outside segments false positives.
    #[serde(flatten)]
    pub metrics: Metrics,
    /// Number of labelled segments (maximal runs of anomalous points) over all series.
    pub segments: usize,
    /// Segments with a flag among their first `delay + 1` points.
    pub caught_segments: usize,
    /// Mean over caught segments of the 0-based position of the first flag in the segment
    /// (between 0 and `delay`); `None` when no segment was caught.
    pub mean_detection_delay: Option<f64>,
}

/// The labelled segments of `labels`: maximal runs of `true`, as index ranges, in order.
pub(crate) fn segments(labels: &[bool]) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut next = 0;
    std::iter::from_fn(move || {
        let start = next + labels.get(next..)?.iter().position(|&label| label)?;
        let len = labels[start..]
            .iter()
            .position(|&label| !label)
            .unwrap_or(labels.len() - start);
        next = start + len;
        Some(start..next)
    })
}

/// The first `delay + 1` points of `segment` (fewer when the segment is shorter): the points
/// where a flag catches it.
pub(crate) fn detection_window(segment: &Range<usize>, delay: usize) -> Range<usize> {
    segment.start
        ..segment
            .end
            .min(segment.start.saturating_add(delay).saturating_add(1))
}

/// Point-wise counts of the verdicts, summed over all series.
pub(crate) fn point_counts(series: &[LabelledSeries]) -> Counts {
    let mut counts = Counts::default();
    for s in series {
        for (&label, &flagged) in s.labels.iter().zip(&s.verdicts) {
            match (label, flagged) {
                (true, true) => counts.true_positives += 1,
                (false, true) => counts.false_positives += 1,
                (true, false) => counts.false_negatives += 1,
                (false, false) => {}
            }
        }
    }
    counts
}

/// Delay-k event metrics of the verdicts, summed over all series.
pub(crate) fn event_metrics(series: &[LabelledSeries], delay: usize) -> EventMetrics {
    let mut counts = Counts::default();
    let (mut segment_count, mut caught, mut delay_sum) = (0, 0, 0);
    for s in series {
        for segment in segments(&s.labels) {
            segment_count += 1;
            let window = detection_window(&segment, delay);
            match s.verdicts[window].iter().position(|&flagged| flagged) {
                Some(position) => {
                    counts.true_positives += segment.len();
                    caught += 1;
                    delay_sum += position;
                }
                None => counts.false_negatives += segment.len(),
            }
        }
        counts.false_positives += s
            .labels
            .iter()
            .zip(&s.verdicts)
            .filter(|&(&label, &flagged)| flagged && !label)
            .count();
    }
    EventMetrics {
        metrics: counts.metrics(),
        segments: segment_count,
        caught_segments: caught,
        mean_detection_delay: (caught > 0).then(|| delay_sum as f64 / caught as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests_support::series;
    use super::*;

    fn bits(s: &str) -> Vec<bool> {
        s.chars().map(|c| c == '1').collect()
    }

    #[test]
    fn segments_are_maximal_runs() {
        let found = |s: &str| segments(&bits(s)).collect::<Vec<_>>();
        assert_eq!(found(""), vec![]);
        assert_eq!(found("0000"), vec![]);
        assert_eq!(found("1"), vec![0..1]);
        assert_eq!(found("1111"), vec![0..4]);
        assert_eq!(found("0110010111"), vec![1..3, 5..6, 7..10]);
        assert_eq!(found("1001"), vec![0..1, 3..4]);
    }

    #[test]
    fn detection_window_is_the_first_delay_plus_one_points() {
        assert_eq!(detection_window(&(3..10), 0), 3..4);
        assert_eq!(detection_window(&(3..10), 2), 3..6);
        assert_eq!(detection_window(&(3..5), 7), 3..5);
        assert_eq!(detection_window(&(3..5), usize::MAX), 3..5);
    }

    #[test]
    fn point_counts_by_hand() {
        let s = series("0110110", &[0.0; 7], "1100100");
        // TP: 1, 4. FP: 0. FN: 2, 5.
        let counts = point_counts(&[s]);
        assert_eq!(
            counts,
            Counts {
                true_positives: 2,
                false_positives: 1,
                false_negatives: 2,
            }
        );
        assert_eq!(counts.metrics().precision, 2.0 / 3.0);
        assert_eq!(counts.metrics().recall, 0.5);
    }

    #[test]
    fn flag_after_the_delay_misses_the_whole_segment() {
        // Segment 2..7 (5 points), flagged only at its 4th point (index 3 within it).
        let s = series("0011111000", &[0.0; 10], "0000010000");
        let e = event_metrics(std::slice::from_ref(&s), 2);
        assert_eq!(e.metrics.counts.true_positives, 0);
        assert_eq!(e.metrics.counts.false_negatives, 5);
        assert_eq!(e.metrics.counts.false_positives, 0);
        assert_eq!((e.segments, e.caught_segments), (1, 0));
        assert_eq!(e.mean_detection_delay, None);
        assert_eq!(e.metrics.f1, 0.0);
        // Point-wise the same flag is one true positive.
        assert_eq!(point_counts(&[s]).true_positives, 1);
    }

    #[test]
    fn flag_at_exactly_index_delay_catches_the_whole_segment() {
        // Same segment, flagged at index 3 within it; delay 3 allows indices 0..=3.
        let s = series("0011111000", &[0.0; 10], "0000010000");
        let e = event_metrics(&[s], 3);
        assert_eq!(e.metrics.counts.true_positives, 5);
        assert_eq!(e.metrics.counts.false_negatives, 0);
        assert_eq!((e.segments, e.caught_segments), (1, 1));
        assert_eq!(e.mean_detection_delay, Some(3.0));
        assert_eq!(e.metrics.f1, 1.0);
    }

    #[test]
    fn flags_outside_segments_are_false_positives() {
        // Segment 3..5 caught at once (delay 0); flags at 0, 1 and 7 are outside.
        let s = series("00011000", &[0.0; 8], "11010001");
        let e = event_metrics(&[s], 0);
        assert_eq!(
            e.metrics.counts,
            Counts {
                true_positives: 2,
                false_positives: 3,
                false_negatives: 0,
            }
        );
        assert_eq!(e.metrics.precision, 0.4);
        assert_eq!(e.metrics.recall, 1.0);
        assert!((e.metrics.f1 - 4.0 / 7.0).abs() < 1e-15);
    }

    #[test]
    fn segments_do_not_run_across_series() {
        // Joined, the labels would make one segment 4..8 caught by the flag at 4 (delay 0).
        // Per series they are two segments; the second's first point is not flagged.
        let a = series("000011", &[0.0; 6], "000010");
        let b = series("11000", &[0.0; 5], "01000");
        let e = event_metrics(&[a, b], 0);
        assert_eq!((e.segments, e.caught_segments), (2, 1));
        assert_eq!(
            e.metrics.counts,
            Counts {
                true_positives: 2,
                false_positives: 0,
                false_negatives: 2,
            }
        );
        assert_eq!(e.metrics.f1, 2.0 / 3.0);
        assert_eq!(e.mean_detection_delay, Some(0.0));
    }

    #[test]
    fn mean_detection_delay_averages_caught_segments_only() {
        // Segments 0..3 (flag at 2), 5..7 (flag at 0), 8..10 (missed).
        let s = series("1110011011", &[0.0; 10], "0010010000");
        let e = event_metrics(&[s], 2);
        assert_eq!((e.segments, e.caught_segments), (3, 2));
        assert_eq!(e.mean_detection_delay, Some(1.0));
        assert_eq!(e.metrics.counts.true_positives, 5);
        assert_eq!(e.metrics.counts.false_negatives, 2);
    }
}
