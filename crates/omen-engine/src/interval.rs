//! Anomaly intervals: consecutive anomalous samples of one series, grouped into one incident
//! with its peak and an explanation a person can read.

use std::fmt::Write as _;

use omen_core::Score;
use serde::{Deserialize, Serialize};

use crate::VerdictConfig;

/// One incident of one series: from its first to its last anomalous sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyInterval {
    /// Timestamp of the first anomalous sample, in Unix milliseconds.
    pub start_ms: i64,
    /// Timestamp of the last anomalous sample, in Unix milliseconds.
    pub end_ms: i64,
    /// How many samples in the interval were anomalous.
    pub anomalous_points: u64,
    /// Timestamp of the highest-scoring sample.
    pub peak_ms: i64,
    /// Its value.
    pub peak_value: f64,
    /// Its score: the score itself, the expected value, the band and the models' parts.
    pub peak: Score,
}

impl AnomalyInterval {
    fn starting_at(timestamp_ms: i64, value: f64, score: &Score) -> Self {
        Self {
            start_ms: timestamp_ms,
            end_ms: timestamp_ms,
            anomalous_points: 1,
            peak_ms: timestamp_ms,
            peak_value: value,
            peak: *score,
        }
    }

    /// Expected vs actual at the peak, and what each model said, in one line:
    /// `value 93.2 above the band 10.1..41.7 (expected 25.9); robust 0.91, level 0.32, tail 0.10`.
    pub fn explanation(&self) -> String {
        let peak = &self.peak;
        let side = if self.peak_value > peak.upper {
            "above"
        } else if self.peak_value < peak.lower {
            "below"
        } else {
            "inside"
        };
        let mut text = format!(
            "value {} {side} the band {}..{} (expected {})",
            short(self.peak_value),
            short(peak.lower),
            short(peak.upper),
            short(peak.expected)
        );
        let mut first = true;
        for part in peak.contributions.iter() {
            let sep = if first { "; " } else { ", " };
            first = false;
            let _ = write!(text, "{sep}{} {:.2}", part.model.as_str(), part.score);
        }
        text
    }
}

/// A number with 4 significant digits at most, without trailing zeros.
fn short(x: f64) -> String {
    if !x.is_finite() || x == 0.0 {
        return x.to_string();
    }
    if x.abs() >= 1e6 || x.abs() < 1e-3 {
        return format!("{x:.3e}");
    }
    let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 6) as usize;
    let text = format!("{x:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// The open interval of one series, if any.
///
/// Serialisable, so that the live engine's snapshots keep an interval open across a restart.
/// The open interval is boxed: most series have none most of the time, and the live engine
/// keeps a tracker for each of up to millions of series.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IntervalTracker {
    open: Option<Box<AnomalyInterval>>,
    /// Normal samples seen since the open interval's last anomalous one.
    quiet: u32,
}

impl IntervalTracker {
    /// Bytes held on the heap: the open interval, if any.
    pub fn heap_bytes(&self) -> usize {
        self.open
            .as_ref()
            .map_or(0, |_| size_of::<AnomalyInterval>())
    }

    /// Take one scored sample and its verdict; returns the interval it closes, if any (boxed
    /// as it was kept: a sample's result stays a word wide, which matters on a path that runs
    /// for every sample).
    pub fn observe(
        &mut self,
        timestamp_ms: i64,
        value: f64,
        score: &Score,
        anomalous: bool,
        config: &VerdictConfig,
    ) -> Option<Box<AnomalyInterval>> {
        if anomalous {
            self.quiet = 0;
            match &mut self.open {
                Some(open) => {
                    open.end_ms = timestamp_ms;
                    open.anomalous_points += 1;
                    if score.score > open.peak.score {
                        open.peak_ms = timestamp_ms;
                        open.peak_value = value;
                        open.peak = *score;
                    }
                }
                None => {
                    self.open = Some(Box::new(AnomalyInterval::starting_at(
                        timestamp_ms,
                        value,
                        score,
                    )))
                }
            }
            return None;
        }
        if self.open.is_some() {
            self.quiet += 1;
            if self.quiet > config.merge_gap {
                self.quiet = 0;
                return self.open.take();
            }
        }
        None
    }

    /// The interval still open at the end of the data, if any.
    pub fn finish(&mut self) -> Option<AnomalyInterval> {
        self.quiet = 0;
        self.open.take().map(|open| *open)
    }

    /// The interval open now, if any.
    pub fn open(&self) -> Option<&AnomalyInterval> {
        self.open.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use omen_core::{ModelKind, Status};

    use super::*;

    fn score(value: f64) -> Score {
        let mut s = Score::unscored(Status::Ready);
        s.score = value;
        s.expected = 10.0;
        s.lower = 5.0;
        s.upper = 15.0;
        s.contributions.push(ModelKind::Robust, value);
        s.contributions.push(ModelKind::Level, 0.125);
        s
    }

    /// Feed scores one per second; the verdict is score >= 0.5.
    fn run(scores: &[f64], merge_gap: u32) -> Vec<(i64, i64, u64, i64)> {
        let config = VerdictConfig {
            merge_gap,
            ..VerdictConfig::default()
        };
        let mut tracker = IntervalTracker::default();
        let mut closed = Vec::new();
        for (i, &s) in scores.iter().enumerate() {
            let t = i as i64 * 1000;
            if let Some(done) = tracker.observe(t, 20.0 + s, &score(s), s >= 0.5, &config) {
                closed.push(*done);
            }
        }
        closed.extend(tracker.finish());
        closed
            .iter()
            .map(|i| (i.start_ms, i.end_ms, i.anomalous_points, i.peak_ms))
            .collect()
    }

    #[test]
    fn named_cases() {
        struct Case {
            name: &'static str,
            scores: &'static [f64],
            merge_gap: u32,
            want: &'static [(i64, i64, u64, i64)],
        }
        let cases = [
            Case {
                name: "nothing anomalous",
                scores: &[0.1, 0.2, 0.3],
                merge_gap: 2,
                want: &[],
            },
            Case {
                name: "one point",
                scores: &[0.1, 0.9, 0.1, 0.1, 0.1],
                merge_gap: 2,
                want: &[(1000, 1000, 1, 1000)],
            },
            Case {
                name: "a dip shorter than the gap is one interval",
                scores: &[0.6, 0.8, 0.1, 0.7, 0.1, 0.1, 0.1],
                merge_gap: 2,
                want: &[(0, 3000, 3, 1000)],
            },
            Case {
                name: "a dip longer than the gap splits it",
                scores: &[0.6, 0.1, 0.1, 0.1, 0.9],
                merge_gap: 2,
                want: &[(0, 0, 1, 0), (4000, 4000, 1, 4000)],
            },
            Case {
                name: "still open at the end",
                scores: &[0.1, 0.7, 0.95],
                merge_gap: 5,
                want: &[(1000, 2000, 2, 2000)],
            },
        ];
        for case in cases {
            assert_eq!(run(case.scores, case.merge_gap), case.want, "{}", case.name);
        }
    }

    #[test]
    fn explanation_says_expected_actual_and_models() {
        let mut tracker = IntervalTracker::default();
        let config = VerdictConfig::default();
        tracker.observe(0, 93.25, &score(0.91), true, &config);
        let text = tracker.finish().unwrap().explanation();
        assert_eq!(
            text,
            "value 93.25 above the band 5..15 (expected 10); robust 0.91, level 0.12"
        );
    }

    #[test]
    fn short_numbers() {
        for (x, want) in [
            (0.0, "0"),
            (12.5, "12.5"),
            (1234.567, "1235"),
            (0.012346, "0.01235"),
            (2.5e7, "2.500e7"),
            (-3.0, "-3"),
        ] {
            assert_eq!(short(x), want, "{x}");
        }
    }
}
