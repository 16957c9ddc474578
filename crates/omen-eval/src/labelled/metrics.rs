//! Confusion counts and the precision, recall and F1 they give.

use serde::Serialize;

/// Confusion counts of flagged points against labelled points (true negatives are not needed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Counts {
    /// Labelled points counted as found.
    pub true_positives: usize,
    /// Unlabelled points that were flagged.
    pub false_positives: usize,
    /// Labelled points counted as missed.
    pub false_negatives: usize,
}

impl Counts {
    /// TP / (TP + FP), or 0 when nothing was flagged.
    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    /// TP / (TP + FN), or 0 when nothing is labelled.
    pub fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }

    /// The harmonic mean of precision and recall, or 0 when both are 0.
    ///
    /// Computed as 2·TP / (2·TP + FP + FN), which equals 2PR / (P + R) whenever P + R > 0 and
    /// is one correctly rounded division, so equal ratios of counts give bit-equal F1 values.
    pub fn f1(&self) -> f64 {
        ratio(
            2 * self.true_positives,
            2 * self.true_positives + self.false_positives + self.false_negatives,
        )
    }

    /// The counts together with their precision, recall and F1.
    pub fn metrics(self) -> Metrics {
        Metrics {
            counts: self,
            precision: self.precision(),
            recall: self.recall(),
            f1: self.f1(),
        }
    }
}

/// Counts with their precision, recall and F1 (all 0 rather than NaN when undefined).
///
/// In JSON the counts sit next to the ratios: `{"true_positives": .., "precision": .., ..}`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Metrics {
    /// The confusion counts the ratios are computed from.
    #[serde(flatten)]
    pub counts: Counts,
    /// TP / (TP + FP), or 0 when nothing was flagged.
    pub precision: f64,
    /// TP / (TP + FN), or 0 when nothing is labelled.
    pub recall: f64,
    /// Harmonic mean of precision and recall, or 0 when both are 0.
    pub f1: f64,
}

/// `numerator / denominator`, or 0 when the denominator is 0.
fn ratio(numerator: usize, denominator: usize) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(true_positives: usize, false_positives: usize, false_negatives: usize) -> Counts {
        Counts {
            true_positives,
            false_positives,
            false_negatives,
        }
    }

    #[test]
    fn ratios_by_hand() {
        // P = 3/4, R = 3/5, F1 = 2·0.75·0.6 / 1.35 = 2/3.
        let m = counts(3, 1, 2).metrics();
        assert_eq!(m.precision, 0.75);
        assert_eq!(m.recall, 0.6);
        assert!((m.f1 - 2.0 / 3.0).abs() < 1e-15);
        let harmonic = 2.0 * m.precision * m.recall / (m.precision + m.recall);
        assert!((m.f1 - harmonic).abs() < 1e-15);
    }

    #[test]
    fn undefined_ratios_are_zero_not_nan() {
        assert_eq!(Counts::default().metrics(), Metrics::default());
        // Nothing flagged: P = 0 by definition; R = 0; F1 = 0.
        let m = counts(0, 0, 4).metrics();
        assert_eq!((m.precision, m.recall, m.f1), (0.0, 0.0, 0.0));
        // Nothing labelled: R = 0 by definition; P = 0; F1 = 0.
        let m = counts(0, 5, 0).metrics();
        assert_eq!((m.precision, m.recall, m.f1), (0.0, 0.0, 0.0));
    }
}
