//! Replaying stored samples through per-series detectors, in event time.
//!
//! A [`SeriesReplay`] owns one detector and one interval tracker per series key. The batch
//! path gives each worker thread its own replay and routes every series to one worker, so no
//! state is shared. The same calls in the same order give the same scores as a detector fed
//! sample by sample, which is what makes batch and live results agree.

use std::collections::HashMap;
use std::sync::Arc;

use omen_core::{Score, Status};
use omen_detect::{EnsembleConfig, EnsembleSettings};

use crate::model::{Judged, SeriesModel};
use crate::{AnomalyInterval, Result, VerdictConfig};

/// What one sample did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// It was scored (or skipped by the detector as not finite) and judged.
    Scored {
        /// The detector's score.
        score: Score,
        /// The verdict: ready and at or above the threshold.
        anomaly: bool,
    },
    /// Its timestamp equals the series' last one: dropped, the first value kept.
    Duplicate,
    /// Its timestamp is before the series' last one: the input is not in time order.
    OutOfOrder {
        /// The series' last timestamp, in Unix milliseconds.
        last_ms: i64,
    },
}

/// The context of the last sample scored: see [`SeriesReplay::last_context`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepContext {
    /// The series' index in [`ReplayReport::series`].
    pub series: usize,
    /// The season the series' detector found, if any.
    pub season_period_ms: Option<i64>,
    /// The last level shift the series' detector confirmed, if any.
    pub last_change_ms: Option<i64>,
}

/// Counts and the peak of one series over a replay.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesReport {
    /// The series key, as given to [`SeriesReplay::step`].
    pub key: Box<[u8]>,
    /// Samples scored (including warm-up and non-finite ones).
    pub points: u64,
    /// Samples judged anomalous.
    pub anomalous_points: u64,
    /// Samples dropped as duplicate timestamps.
    pub duplicates: u64,
    /// The highest score of a ready sample (0 when none).
    pub peak_score: f64,
}

/// The result of a replay: every series in the order first seen, and every anomaly interval
/// with the index of its series in `series`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReplayReport {
    /// One report per series.
    pub series: Vec<SeriesReport>,
    /// Every interval, closed or still open at the end, by series then time.
    pub intervals: Vec<(usize, AnomalyInterval)>,
}

#[derive(Debug)]
struct SeriesState {
    model: SeriesModel,
    last_ms: Option<i64>,
    report: SeriesReport,
}

/// One series of a [`SeriesReplay`], as [`SeriesReplay::series`] finds it: its place in
/// [`ReplayReport::series`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesId(usize);

/// Per-series detectors and verdicts, fed one sample at a time.
#[derive(Debug)]
pub struct SeriesReplay {
    detector_settings: Arc<EnsembleSettings>,
    verdict: VerdictConfig,
    index: HashMap<Box<[u8]>, usize>,
    states: Vec<SeriesState>,
    /// The series of the previous sample: input grouped by series skips the hash lookup.
    previous: Option<usize>,
    intervals: Vec<(usize, AnomalyInterval)>,
}

impl SeriesReplay {
    /// A replay whose series all start from a fresh detector with `detector_config`.
    pub fn new(detector_config: EnsembleConfig, verdict: VerdictConfig) -> Result<Self> {
        detector_config.validate()?;
        verdict.validate()?;
        Ok(Self {
            detector_settings: EnsembleSettings::new(detector_config),
            verdict,
            index: HashMap::new(),
            states: Vec::new(),
            previous: None,
            intervals: Vec::new(),
        })
    }

    /// How many series were seen so far.
    pub fn series_count(&self) -> usize {
        self.states.len()
    }

    /// Score the next sample of the series `key`.
    pub fn step(&mut self, key: &[u8], timestamp_ms: i64, value: f64) -> Step {
        let series = self.series(key);
        self.step_series(series, timestamp_ms, value)
    }

    /// The series `key`, created on first sight. A caller with many samples of one series in
    /// a row finds it once and feeds them to [`step_series`](Self::step_series), which saves
    /// comparing the key at every sample.
    pub fn series(&mut self, key: &[u8]) -> SeriesId {
        SeriesId(self.locate(key))
    }

    /// Score the next sample of `series`: the same as [`step`](Self::step) with its key.
    ///
    /// Inlined into a caller in another crate (the batch path's loop over a run of samples),
    /// so that the score is not copied from frame to frame on its way to the output columns.
    #[inline]
    pub fn step_series(&mut self, series: SeriesId, timestamp_ms: i64, value: f64) -> Step {
        let at = series.0;
        self.previous = Some(at);
        let state = &mut self.states[at];
        match state.last_ms {
            Some(last) if timestamp_ms == last => {
                state.report.duplicates += 1;
                return Step::Duplicate;
            }
            Some(last) if timestamp_ms < last => return Step::OutOfOrder { last_ms: last },
            _ => {}
        }
        state.last_ms = Some(timestamp_ms);
        let Judged {
            score,
            anomaly,
            closed,
        } = state.model.judge(timestamp_ms, value, &self.verdict);
        state.report.points += 1;
        if score.status == Status::Ready {
            state.report.peak_score = state.report.peak_score.max(score.score);
        }
        if anomaly {
            state.report.anomalous_points += 1;
        }
        if let Some(interval) = closed {
            self.intervals.push((at, *interval));
        }
        Step::Scored { score, anomaly }
    }

    /// What the last [`step`](Self::step) that scored a sample knows beyond the score, as the
    /// live path hands it to the alert stage: the index of the series (its place in
    /// [`ReplayReport::series`]), the season its detector found and the last level shift it
    /// confirmed. `None` before any sample.
    pub fn last_context(&self) -> Option<StepContext> {
        let at = self.previous?;
        let detector = &self.states[at].model.detector;
        Some(StepContext {
            series: at,
            season_period_ms: detector.season_period_ms(),
            last_change_ms: detector.last_change_ms(),
        })
    }

    fn locate(&mut self, key: &[u8]) -> usize {
        if let Some(previous) = self.previous
            && *self.states[previous].report.key == *key
        {
            return previous;
        }
        let at = match self.index.get(key) {
            Some(&at) => at,
            None => {
                let at = self.states.len();
                let key: Box<[u8]> = key.into();
                self.index.insert(key.clone(), at);
                self.states.push(SeriesState {
                    model: SeriesModel::new(&self.detector_settings),
                    last_ms: None,
                    report: SeriesReport {
                        key,
                        points: 0,
                        anomalous_points: 0,
                        duplicates: 0,
                        peak_score: 0.0,
                    },
                });
                at
            }
        };
        self.previous = Some(at);
        at
    }

    /// Close the intervals still open and return what the replay found.
    pub fn finish(mut self) -> ReplayReport {
        for (at, state) in self.states.iter_mut().enumerate() {
            if let Some(open) = state.model.tracker.finish() {
                self.intervals.push((at, open));
            }
        }
        self.intervals
            .sort_by_key(|(at, interval)| (*at, interval.start_ms));
        ReplayReport {
            series: self.states.into_iter().map(|s| s.report).collect(),
            intervals: self.intervals,
        }
    }
}

#[cfg(test)]
mod tests {
    use omen_core::{Detector, Sample};
    use omen_detect::Ensemble;

    use super::*;

    fn replay() -> SeriesReplay {
        SeriesReplay::new(EnsembleConfig::default(), VerdictConfig::default()).unwrap()
    }

    /// A noisy series with one spike at `spike_at`.
    fn series(n: usize, spike_at: usize) -> Vec<(i64, f64)> {
        (0..n)
            .map(|i| {
                // Pseudo-random noise in [0, 1) (a multiplicative hash of the index).
                let noise = ((i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40) as f64
                    / (1u64 << 24) as f64;
                let value = 50.0 + noise + if i == spike_at { 40.0 } else { 0.0 };
                (i as i64 * 60_000, value)
            })
            .collect()
    }

    #[test]
    fn interleaved_series_score_as_if_each_ran_alone() {
        let a = series(600, 400);
        let b = series(600, 450);
        let mut together = replay();
        let mut got_a = Vec::new();
        let mut got_b = Vec::new();
        for (sa, sb) in a.iter().zip(&b) {
            got_a.push(together.step(b"a", sa.0, sa.1));
            got_b.push(together.step(b"b", sb.0, sb.1));
        }
        for (data, got) in [(&a, got_a), (&b, got_b)] {
            let mut alone = Ensemble::new(EnsembleConfig::default());
            for (&(t, v), step) in data.iter().zip(got) {
                let Step::Scored { score, .. } = step else {
                    panic!("{step:?}")
                };
                // Debug prints every f64 exactly, and NaN (a band in warm-up) equal to itself.
                let want = alone.update(Sample::new(t, v));
                assert_eq!(format!("{score:?}"), format!("{want:?}"));
            }
        }
        let report = together.finish();
        assert_eq!(report.series.len(), 2);
        let starts: Vec<_> = report
            .intervals
            .iter()
            .map(|(at, i)| (*at, i.start_ms))
            .collect();
        assert_eq!(starts, [(0, 400 * 60_000), (1, 450 * 60_000)]);
        assert!(report.series.iter().all(|s| s.anomalous_points >= 1));
    }

    #[test]
    fn duplicates_are_dropped_and_counted_and_out_of_order_is_reported() {
        let mut r = replay();
        assert!(matches!(r.step(b"k", 1000, 1.0), Step::Scored { .. }));
        assert_eq!(r.step(b"k", 1000, 2.0), Step::Duplicate);
        assert_eq!(r.step(b"k", 500, 2.0), Step::OutOfOrder { last_ms: 1000 });
        assert!(matches!(r.step(b"k", 2000, 2.0), Step::Scored { .. }));
        let report = r.finish();
        assert_eq!(report.series[0].duplicates, 1);
        assert_eq!(report.series[0].points, 2);
    }

    #[test]
    fn nothing_alerts_during_warm_up() {
        let mut r = replay();
        for i in 0..50 {
            let value = if i % 10 == 0 { 1e6 } else { 1.0 };
            let Step::Scored { anomaly, .. } = r.step(b"k", i * 1000, value) else {
                panic!()
            };
            assert!(!anomaly);
        }
        assert!(r.finish().intervals.is_empty());
    }

    #[test]
    fn a_bad_setting_is_refused() {
        let verdict = VerdictConfig {
            threshold: 2.0,
            ..VerdictConfig::default()
        };
        assert!(SeriesReplay::new(EnsembleConfig::default(), verdict).is_err());
    }
}
