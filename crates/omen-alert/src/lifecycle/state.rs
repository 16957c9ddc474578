//! The state machine of one rule on one series, in sample time:
//!
//! ```text
//! inactive ──breach──> pending ──breach, for elapsed, no maintenance──> firing
//!    ^                    │                                               │
//!    └──── no breach ─────┘          no breach for keep_firing_for ───────┘──> (resolved) inactive
//! ```
//!
//! While firing, a sample breaches down to `threshold − resolve_hysteresis` (not below half the
//! threshold). Each fire and each
//! resolve is a flip; when a flip would make more than `max_flips` in `flapping.window`, the
//! alert is flapping and is held firing until it has been calm for a whole window.

use std::sync::Arc;

use omen_core::Score;

use crate::compile::CompiledRule;
use crate::config::Direction;

/// Where one rule stands on one series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// No breach (or the last episode resolved).
    Inactive,
    /// Breaching, for less than `for` (or `for` has passed inside a maintenance window).
    Pending,
    /// Firing.
    Firing,
}

/// What a step did that receivers must hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transition {
    Fire,
    /// Severity rose or flapping began; `old_level` is the level last notified.
    Update {
        old_level: u8,
    },
    Resolve,
}

#[derive(Debug, Clone)]
pub(crate) struct RuleState {
    /// Index of the rule in the compiled config this state is bound to.
    pub(crate) rule: u32,
    pub(crate) name: Arc<str>,
    pub(crate) phase: Phase,
    pub(crate) active_at_ms: i64,
    pub(crate) starts_at_ms: i64,
    pub(crate) last_breach_ms: i64,
    pub(crate) peak_score: f64,
    pub(crate) peak_deviation: f64,
    /// Level index reached in this episode.
    pub(crate) level: u8,
    /// Level index receivers were last told.
    pub(crate) notified_level: u8,
    pub(crate) flapping: bool,
    pub(crate) notified_flapping: bool,
    /// Times of fires and resolves within the flapping window (at most `max_flips + 1`).
    pub(crate) flips: Vec<i64>,
    /// The rule's sensitivity after adjustments.
    pub(crate) sensitivity: f64,
    /// The rule's `min_deviation` after adjustments.
    pub(crate) min_deviation: f64,
    /// The rule's labels as rendered when the episode fired: labels are the alert's identity,
    /// so they stay fixed for the episode (only `severity` may change, by an update).
    pub(crate) labels: Option<Box<[(String, String)]>>,
}

impl RuleState {
    pub(crate) fn new(index: usize, rule: &CompiledRule) -> Self {
        Self {
            rule: index as u32,
            name: rule.name.clone(),
            phase: Phase::Inactive,
            active_at_ms: 0,
            starts_at_ms: 0,
            last_breach_ms: 0,
            peak_score: 0.0,
            peak_deviation: 0.0,
            level: 0,
            notified_level: 0,
            flapping: false,
            notified_flapping: false,
            flips: Vec::new(),
            sensitivity: rule.sensitivity,
            min_deviation: rule.min_deviation,
            labels: None,
        }
    }

    /// The firing threshold, `1 − sensitivity`.
    pub(crate) fn threshold(&self) -> f64 {
        1.0 - self.sensitivity
    }

    /// Whether a ready sample breaches (with the hysteresis while firing).
    fn breaches(&self, rule: &CompiledRule, value: f64, score: &Score) -> bool {
        let threshold = match self.phase {
            Phase::Firing => firing_threshold(self.threshold(), rule.hysteresis),
            Phase::Inactive | Phase::Pending => self.threshold(),
        };
        let reaches = score.score >= threshold;
        if !reaches {
            return false;
        }
        let deviation = value - score.expected;
        let direction_ok = match rule.direction {
            Direction::Up => deviation > 0.0,
            Direction::Down => deviation < 0.0,
            Direction::Both => true,
        };
        direction_ok
            && (self.min_deviation <= 0.0 || deviation.abs() >= self.min_deviation)
            && (rule.min_relative_deviation <= 0.0
                || relative_deviation(value, score.expected).abs() >= rule.min_relative_deviation)
    }

    /// One ready sample. `maintenance` is asked only when the answer matters.
    pub(crate) fn step(
        &mut self,
        rule: &CompiledRule,
        ts: i64,
        value: f64,
        score: &Score,
        maintenance: &mut dyn FnMut() -> bool,
    ) -> Option<Transition> {
        let breach = self.breaches(rule, value, score);
        match self.phase {
            Phase::Inactive if breach => {
                self.phase = Phase::Pending;
                self.active_at_ms = ts;
                self.peak_score = score.score;
                self.peak_deviation = 0.0;
                self.level = 0;
                self.flapping = false;
                self.notified_flapping = false;
                self.labels = None;
                self.note_breach(rule, ts, value, score);
                self.try_fire(rule, ts, maintenance)
            }
            Phase::Inactive => None,
            Phase::Pending if breach => {
                self.note_breach(rule, ts, value, score);
                self.try_fire(rule, ts, maintenance)
            }
            Phase::Pending => {
                self.phase = Phase::Inactive;
                None
            }
            Phase::Firing if breach => {
                self.note_breach(rule, ts, value, score);
                self.try_update(maintenance)
            }
            Phase::Firing => {
                let calm = ts.saturating_sub(self.last_breach_ms);
                if self.flapping {
                    if calm >= rule.flap_window_ms.max(rule.keep_firing_for_ms) {
                        return Some(self.resolve(rule, ts));
                    }
                    return self.try_update(maintenance);
                }
                if calm < rule.keep_firing_for_ms {
                    return None;
                }
                self.prune_flips(rule, ts);
                if self.flips.len() + 1 > rule.max_flips as usize {
                    self.flapping = true;
                    return self.try_update(maintenance);
                }
                Some(self.resolve(rule, ts))
            }
        }
    }

    fn note_breach(&mut self, rule: &CompiledRule, ts: i64, value: f64, score: &Score) {
        self.last_breach_ms = ts;
        self.peak_score = self.peak_score.max(score.score);
        let deviation = (value - score.expected).abs();
        if deviation.is_finite() {
            self.peak_deviation = self.peak_deviation.max(deviation);
        }
        self.level = self.level.max(rule.level_for(score.score));
    }

    fn try_fire(
        &mut self,
        rule: &CompiledRule,
        ts: i64,
        maintenance: &mut dyn FnMut() -> bool,
    ) -> Option<Transition> {
        if ts.saturating_sub(self.active_at_ms) < rule.for_ms || maintenance() {
            return None;
        }
        self.phase = Phase::Firing;
        self.starts_at_ms = ts;
        self.record_flip(rule, ts);
        if self.flips.len() > rule.max_flips as usize {
            self.flapping = true;
        }
        self.notified_level = self.level;
        self.notified_flapping = self.flapping;
        Some(Transition::Fire)
    }

    /// An update when the level rose or flapping began since the last notification.
    fn try_update(&mut self, maintenance: &mut dyn FnMut() -> bool) -> Option<Transition> {
        let changed =
            self.level > self.notified_level || (self.flapping && !self.notified_flapping);
        if !changed || maintenance() {
            return None;
        }
        let old_level = self.notified_level;
        self.notified_level = self.level;
        self.notified_flapping = self.flapping;
        Some(Transition::Update { old_level })
    }

    pub(crate) fn resolve(&mut self, rule: &CompiledRule, ts: i64) -> Transition {
        self.phase = Phase::Inactive;
        self.record_flip(rule, ts);
        Transition::Resolve
    }

    fn record_flip(&mut self, rule: &CompiledRule, ts: i64) {
        self.prune_flips(rule, ts);
        self.flips.push(ts);
    }

    /// Forget flips that left the window ending at `ts`; keep at most `max_flips + 1`.
    fn prune_flips(&mut self, rule: &CompiledRule, ts: i64) {
        let since = ts.saturating_sub(rule.flap_window_ms);
        self.flips.retain(|&t| t > since);
        let keep = rule.max_flips as usize + 1;
        if self.flips.len() > keep {
            self.flips.drain(..self.flips.len() - keep);
        }
    }
}

/// The threshold while firing: `threshold − hysteresis`, but never below half the threshold,
/// so that a high sensitivity with the default margin still resolves on the score.
pub(crate) fn firing_threshold(threshold: f64, hysteresis: f64) -> f64 {
    (threshold - hysteresis).max(threshold * 0.5)
}

/// `(value − expected) / |expected|`; ±∞ when expected is 0 and value is not.
pub(crate) fn relative_deviation(value: f64, expected: f64) -> f64 {
    let deviation = value - expected;
    if expected == 0.0 {
        if deviation == 0.0 {
            0.0
        } else {
            deviation.signum() * f64::INFINITY
        }
    } else {
        deviation / expected.abs()
    }
}
