//! The one trait every detector implements.

use crate::{Sample, Score};

/// A causal, online anomaly detector for one series.
///
/// `update` is called once per sample in event-time order and must never look ahead. It never
/// fails: NaN or infinite values, and samples older than the last one seen, come back as a
/// [`Score`] whose [`Status`](crate::Status) says they were skipped. Implementations keep their
/// state small and serialisable (serde) so that the engine can snapshot and restore it.
pub trait Detector: Send {
    /// A short stable name, used in explanations and metrics.
    fn name(&self) -> &'static str;

    /// Learn from `sample` and score it against what was learned before it.
    fn update(&mut self, sample: Sample) -> Score;
}
