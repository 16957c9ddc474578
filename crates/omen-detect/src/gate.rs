//! Escalation gate: turns a stream of scores into alert evidence, one alert per episode.
//!
//! A detector scores every sample, and an incident usually makes several samples in a row (or a
//! burst of them over a few hours) score high. Paging on each of them repeats the same news.
//! The gate keeps a *peak* that decays with a half-life; a score passes only when it is higher
//! than the decayed peak of the scores before it, that is when the situation escalates or when
//! enough time has passed for the earlier alarm to be forgotten. A score that does not pass is
//! reported as 0.
//!
//! This is the same idea as the rest period of NAB's CAD OSE detector and as Alertmanager's
//! `repeat_interval`, but without a threshold: a later sample that is *worse* than the one
//! that alerted still gets through at once. The raw score is unchanged for charts and bands;
//! the gate is what alerting (and `omen eval nab`, which scores alerts) consumes.
//!
//! State: two numbers.

use serde::{Deserialize, Serialize};

use crate::robust::alpha_for_half_life;

/// Default half-life of the peak, in samples: at 5-minute steps an alarm of score 0.6 holds
/// back lesser alarms of 0.45 for about half a day.
pub const DEFAULT_REST_HALF_LIFE: f64 = 300.0;

/// The escalation gate of one series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EscalationGate {
    decay: f64,
    peak: f64,
}

impl Default for EscalationGate {
    fn default() -> Self {
        Self::new(DEFAULT_REST_HALF_LIFE)
    }
}

impl EscalationGate {
    /// A gate whose peak halves every `half_life` samples.
    ///
    /// ```
    /// use omen_detect::EscalationGate;
    /// let mut gate = EscalationGate::new(100.0);
    /// assert_eq!(gate.pass(0.8), 0.8);
    /// assert_eq!(gate.pass(0.7), 0.0); // the same episode, no worse
    /// assert_eq!(gate.pass(0.9), 0.9); // it escalates
    /// ```
    pub fn new(half_life: f64) -> Self {
        Self {
            decay: 1.0 - alpha_for_half_life(half_life),
            peak: 0.0,
        }
    }

    /// The score if it beats the decayed peak of earlier scores, else 0. NaN counts as 0.
    pub fn pass(&mut self, score: f64) -> f64 {
        let score = if score.is_nan() { 0.0 } else { score };
        let bar = self.peak * self.decay;
        self.peak = bar.max(score);
        if score > bar { score } else { 0.0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `scores` through a gate of half-life 100 samples.
    fn gated(scores: &[f64]) -> Vec<f64> {
        let mut gate = EscalationGate::new(100.0);
        scores.iter().map(|s| gate.pass(*s)).collect()
    }

    #[test]
    fn cases() {
        struct Case {
            name: &'static str,
            scores: Vec<f64>,
            check: fn(&[f64]),
        }
        let cases = [
            Case {
                name: "an episode alerts once",
                scores: vec![0.1, 0.7, 0.69, 0.68, 0.6, 0.1],
                check: |g| assert_eq!(g, [0.1, 0.7, 0.0, 0.0, 0.0, 0.0]),
            },
            Case {
                name: "escalation passes at once",
                scores: vec![0.6, 0.9],
                check: |g| assert_eq!(g, [0.6, 0.9]),
            },
            Case {
                name: "a lesser alarm soon after is held back",
                scores: [0.8].into_iter().chain([0.0; 3]).chain([0.7]).collect(),
                check: |g| assert_eq!(g[4], 0.0),
            },
            Case {
                name: "a lesser alarm passes once the peak has decayed",
                // Three half-lives: the bar is 0.8 / 8 = 0.1.
                scores: [0.8].into_iter().chain([0.0; 299]).chain([0.7]).collect(),
                check: |g| assert_eq!(g[300], 0.7),
            },
            Case {
                name: "NaN is no alarm",
                scores: vec![f64::NAN, 0.3],
                check: |g| assert_eq!(g, [0.0, 0.3]),
            },
            Case {
                name: "zeros stay zero",
                scores: vec![0.0; 5],
                check: |g| assert!(g.iter().all(|s| *s == 0.0)),
            },
        ];
        for case in cases {
            eprintln!("case: {}", case.name);
            (case.check)(&gated(&case.scores));
        }
    }

    #[test]
    fn output_is_the_input_or_zero() {
        let scores: Vec<f64> = (0..500).map(|i| ((i * 37) % 101) as f64 / 100.0).collect();
        for (s, g) in scores.iter().zip(gated(&scores)) {
            assert!(g == *s || g == 0.0);
        }
    }
}
