//! One series' model: its detector and its open anomaly interval, and the one function that
//! scores a sample and judges it. The batch replay and the live engine both call it, so the
//! two paths cannot drift apart.

use omen_core::{Detector, Sample, Score, Status};
use std::sync::Arc;

use omen_detect::{Ensemble, EnsembleSettings};
use serde::{Deserialize, Serialize};

use crate::{AnomalyInterval, IntervalTracker, VerdictConfig};

/// What scoring one sample gave.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Judged {
    /// The detector's score.
    pub(crate) score: Score,
    /// The verdict: ready and at or above the threshold.
    pub(crate) anomaly: bool,
    /// The interval this sample closed, if any.
    pub(crate) closed: Option<Box<AnomalyInterval>>,
}

/// A detector and the interval it may have open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SeriesModel {
    pub(crate) detector: Ensemble,
    pub(crate) tracker: IntervalTracker,
}

impl SeriesModel {
    pub(crate) fn new(settings: &Arc<EnsembleSettings>) -> Self {
        Self {
            detector: Ensemble::with_settings(settings.clone()),
            tracker: IntervalTracker::default(),
        }
    }

    /// Bytes held on the heap besides the model itself (capacities included).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.detector.heap_bytes() + self.tracker.heap_bytes()
    }

    /// Score a sample that is later than every sample before it, and judge the score.
    #[inline]
    pub(crate) fn judge(
        &mut self,
        timestamp_ms: i64,
        value: f64,
        verdict: &VerdictConfig,
    ) -> Judged {
        let score = self.detector.update(Sample::new(timestamp_ms, value));
        let anomaly = score.status == Status::Ready && score.score >= verdict.threshold;
        let closed = if score.status == Status::SkippedNotFinite {
            None
        } else {
            self.tracker
                .observe(timestamp_ms, value, &score, anomaly, verdict)
        };
        Judged {
            score,
            anomaly,
            closed,
        }
    }
}
