//! [`Observer`]: the hook through which the alert stage sees every scored sample, on the
//! shard's thread, and the per-series [`ObserverSlot`] it keeps its state in.

use std::any::Any;
use std::fmt;

use omen_core::{Labels, MetricKind, Score};

use crate::AnomalyInterval;

/// Told about every scored sample, every series that ends, and every closed anomaly interval,
/// on the shard's thread: it must be quick and must not block (hand the work to a channel).
/// The alert stage hooks in here.
pub trait Observer: Send + Sync + fmt::Debug {
    /// A sample was scored. `slot` is the observer's own per-series state, kept in the
    /// series (empty for a new series, and after a restart: it is not in the snapshot).
    fn scored(&self, slot: &mut ObserverSlot, sample: &ScoredSample<'_>) {
        let _ = (slot, sample);
    }

    /// The series ended at `timestamp_ms`: a staleness marker arrived, or it expired
    /// (`timestamp_ms` is then its last sample's time). An expired series' slot is dropped
    /// after this call.
    fn ended(&self, slot: &mut ObserverSlot, labels: &Labels, timestamp_ms: i64) {
        let _ = (slot, labels, timestamp_ms);
    }

    /// An anomaly interval closed: by normal samples, a staleness marker, or expiry.
    fn interval_closed(&self, labels: &Labels, interval: &AnomalyInterval) {
        let _ = (labels, interval);
    }
}

/// What an [`Observer`] keeps per series: anything it likes, owned by the series so that
/// reading it on every sample takes no lock and no lookup.
///
/// It is not part of the series' model: a clone of a series starts with an empty slot, and
/// two slots always compare equal (series are compared by what they learned).
#[derive(Default)]
pub struct ObserverSlot(pub Option<Box<dyn Any + Send>>);

impl Clone for ObserverSlot {
    fn clone(&self) -> Self {
        Self(None)
    }
}

impl PartialEq for ObserverSlot {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl fmt::Debug for ObserverSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "ObserverSlot(set)"
        } else {
            "ObserverSlot(empty)"
        })
    }
}

/// One scored sample, as an [`Observer`] sees it.
#[derive(Debug, Clone, Copy)]
pub struct ScoredSample<'a> {
    /// The series' labels.
    pub labels: &'a Labels,
    /// Gauge or counter: a counter's `value` is its per-second rate.
    pub kind: MetricKind,
    /// The sample's timestamp, Unix milliseconds.
    pub timestamp_ms: i64,
    /// What the detector judged (a counter's rate).
    pub value: f64,
    /// The detector's score, expected value, band and per-model contributions.
    pub score: &'a Score,
    /// The engine's verdict at its own threshold.
    pub anomaly: bool,
    /// The season the detector uses, if it found one.
    pub season_period_ms: Option<i64>,
    /// When the detector last found a level shift, if it did.
    pub last_change_ms: Option<i64>,
}
