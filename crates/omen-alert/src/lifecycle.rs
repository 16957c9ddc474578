//! The alert lifecycle of one series: [`SeriesAlerts`] holds the state of every rule that
//! covers the series and turns each scored sample into events.
//!
//! It is meant to live in the engine's per-series slot and be updated by the shard that owns
//! the series, without locks: per sample it costs one atomic load (the adjustments'
//! generation) and a few comparisons per covering rule; it allocates and renders templates
//! only when an event happens. Everything runs on sample time, never the wall clock.

mod build;
mod state;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use omen_core::Labels;
use omen_core::Score;
use serde::{Deserialize, Serialize};

use crate::alert::AlertEvent;
use crate::compile::CompiledAlerts;
use build::SampleRef;
pub use state::Phase;
use state::RuleState;

/// The per-rule state's type, for a size check in tests.
#[cfg(test)]
pub(crate) type RuleStateSize = RuleState;

/// One scored sample of a series, as the lifecycle sees it.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    /// The series' labels (the same as given to [`CompiledAlerts::for_series`]).
    pub labels: &'a Labels,
    /// Sample time, epoch milliseconds.
    pub timestamp_ms: i64,
    /// The value the detector judged (a counter's rate).
    pub value: f64,
    /// The detector's score; a sample that is not ready neither breaches nor clears.
    pub score: &'a Score,
    /// The season the detector found, if any.
    pub season_period_ms: Option<i64>,
    /// The last level shift the detector confirmed, if any.
    pub last_change_ms: Option<i64>,
}

/// A firing alert's state, to persist across a restart and give back to
/// [`SeriesAlerts::restore_firing`], so that the alert keeps its start time and id instead of
/// firing again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FiringState {
    /// The rule's name.
    pub rule: String,
    /// First breach of the episode.
    pub active_at_ms: i64,
    /// When it started firing.
    pub starts_at_ms: i64,
    /// The last breaching sample.
    pub last_breach_ms: i64,
    /// Peak score of the episode.
    pub peak_score: f64,
    /// Peak `|value − expected|` of the episode.
    pub peak_deviation: f64,
    /// The severity level last notified.
    pub severity: String,
    /// Whether it is held firing as flapping.
    pub flapping: bool,
    /// Recent fire/resolve times (for flapping).
    #[serde(default)]
    pub flips_ms: Vec<i64>,
    /// The rule's labels as rendered when the alert fired (kept for the episode).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// The last ready sample, kept to explain a resolution when the series goes stale.
#[derive(Debug, Clone)]
struct LastSample {
    timestamp_ms: i64,
    value: f64,
    score: Score,
    season_period_ms: Option<i64>,
    last_change_ms: Option<i64>,
}

/// The alert state of one series: one entry per rule that covers it. Empty (three words and
/// no allocation) for a series no rule covers.
#[derive(Debug, Clone, Default)]
pub struct SeriesAlerts {
    /// Id of the compiled config the states are bound to.
    compiled: u64,
    /// Adjustments' generation the effective settings were read at.
    generation: u64,
    states: Vec<RuleState>,
    last: Option<Box<LastSample>>,
}

impl CompiledAlerts {
    /// The state of a new series: the rules that cover it, all inactive.
    pub fn for_series(&self, labels: &Labels) -> SeriesAlerts {
        SeriesAlerts::new(self, labels)
    }
}

impl SeriesAlerts {
    pub(crate) fn new(rules: &CompiledAlerts, labels: &Labels) -> Self {
        let mut alerts = Self::default();
        alerts.rebind(rules, labels);
        alerts
    }

    /// Whether no rule covers the series (nothing to do for its samples).
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// Each covering rule's name and phase.
    pub fn phases(&self) -> impl Iterator<Item = (&str, Phase)> {
        self.states.iter().map(|s| (&*s.name, s.phase))
    }

    /// One scored sample; events are appended to `events`.
    pub fn observe(
        &mut self,
        rules: &CompiledAlerts,
        obs: &Observation<'_>,
        events: &mut Vec<AlertEvent>,
    ) {
        if self.compiled != rules.id {
            self.rebind(rules, obs.labels);
        }
        if self.states.is_empty() {
            return;
        }
        let generation = rules.adjustments.generation();
        if generation != self.generation {
            self.refresh(rules, obs.labels, generation);
        }
        if !obs.score.is_ready() {
            return;
        }
        let last = LastSample {
            timestamp_ms: obs.timestamp_ms,
            value: obs.value,
            score: *obs.score,
            season_period_ms: obs.season_period_ms,
            last_change_ms: obs.last_change_ms,
        };
        match &mut self.last {
            Some(slot) => **slot = last,
            None => self.last = Some(Box::new(last)),
        }
        let sample = SampleRef {
            timestamp_ms: obs.timestamp_ms,
            value: obs.value,
            score: obs.score,
            season_period_ms: obs.season_period_ms,
            last_change_ms: obs.last_change_ms,
        };
        for state in &mut self.states {
            let rule = &rules.rules[state.rule as usize];
            let mut maintenance =
                || rules.in_maintenance(&rule.name, |n| obs.labels.get(n), obs.timestamp_ms);
            if let Some(transition) = state.step(
                rule,
                obs.timestamp_ms,
                obs.value,
                obs.score,
                &mut maintenance,
            ) {
                events.push(build::event(
                    rules, rule, state, obs.labels, &sample, transition,
                ));
            }
        }
    }

    /// The series ended (staleness marker or expiry) at `timestamp_ms`: every firing alert
    /// resolves now, flapping or not, and pending ones are dropped.
    pub fn stale(
        &mut self,
        rules: &CompiledAlerts,
        labels: &Labels,
        timestamp_ms: i64,
        events: &mut Vec<AlertEvent>,
    ) {
        if self.compiled != rules.id {
            self.rebind(rules, labels);
        }
        let unknown = Score::unscored(omen_core::Status::Ready);
        let last = self.last.take();
        let sample = match &last {
            Some(last) => SampleRef {
                timestamp_ms: last.timestamp_ms,
                value: last.value,
                score: &last.score,
                season_period_ms: last.season_period_ms,
                last_change_ms: last.last_change_ms,
            },
            None => SampleRef {
                timestamp_ms,
                value: f64::NAN,
                score: &unknown,
                season_period_ms: None,
                last_change_ms: None,
            },
        };
        for state in &mut self.states {
            let rule = &rules.rules[state.rule as usize];
            match state.phase {
                Phase::Firing => {
                    let transition = state.resolve(rule, timestamp_ms);
                    let mut event = build::event(rules, rule, state, labels, &sample, transition);
                    event.alert.ends_at_ms = Some(timestamp_ms);
                    events.push(event);
                }
                Phase::Pending => state.phase = Phase::Inactive,
                Phase::Inactive => {}
            }
        }
    }

    /// The firing alerts' states, to persist.
    pub fn firing_states(&self, rules: &CompiledAlerts) -> Vec<FiringState> {
        self.states
            .iter()
            .filter(|s| s.phase == Phase::Firing)
            .map(|s| FiringState {
                rule: s.name.to_string(),
                active_at_ms: s.active_at_ms,
                starts_at_ms: s.starts_at_ms,
                last_breach_ms: s.last_breach_ms,
                peak_score: s.peak_score,
                peak_deviation: s.peak_deviation,
                severity: rules
                    .rules
                    .get(s.rule as usize)
                    .filter(|r| r.name == s.name)
                    .map_or_else(String::new, |r| r.level_name(s.notified_level).to_string()),
                flapping: s.flapping,
                flips_ms: s.flips.clone(),
                labels: s.labels.iter().flat_map(|l| l.iter().cloned()).collect(),
            })
            .collect()
    }

    /// Put back a firing alert saved before a restart, without an event: it keeps its start
    /// time (so its id) and resolves as usual. False when its rule no longer covers the
    /// series.
    pub fn restore_firing(
        &mut self,
        rules: &CompiledAlerts,
        labels: &Labels,
        saved: &FiringState,
    ) -> bool {
        if self.compiled != rules.id {
            self.rebind(rules, labels);
        }
        let Some(state) = self.states.iter_mut().find(|s| *s.name == *saved.rule) else {
            return false;
        };
        let rule = &rules.rules[state.rule as usize];
        let level = (0..=rule.levels.len() as u8)
            .rev()
            .find(|&l| rule.level_name(l) == saved.severity)
            .unwrap_or_else(|| rule.level_for(saved.peak_score));
        state.phase = Phase::Firing;
        state.active_at_ms = saved.active_at_ms;
        state.starts_at_ms = saved.starts_at_ms;
        state.last_breach_ms = saved.last_breach_ms;
        state.peak_score = saved.peak_score;
        state.peak_deviation = saved.peak_deviation;
        state.level = level;
        state.notified_level = level;
        state.flapping = saved.flapping;
        state.notified_flapping = saved.flapping;
        state.flips = saved.flips_ms.clone();
        state.labels = (!saved.labels.is_empty() || rule.labels.is_empty())
            .then(|| saved.labels.clone().into_iter().collect());
        true
    }

    /// Bind to `rules`: one state per covering rule, carrying over the state of a rule with
    /// the same name (a reload keeps firing alerts firing).
    fn rebind(&mut self, rules: &CompiledAlerts, labels: &Labels) {
        let old = std::mem::take(&mut self.states);
        self.states = rules
            .rules
            .iter()
            .enumerate()
            .filter(|(_, rule)| rule.covers(labels))
            .map(|(i, rule)| match old.iter().find(|s| s.name == rule.name) {
                Some(kept) => RuleState {
                    rule: i as u32,
                    name: rule.name.clone(),
                    ..kept.clone()
                },
                None => RuleState::new(i, rule),
            })
            .collect();
        self.compiled = rules.id;
        self.refresh(rules, labels, rules.adjustments.generation());
    }

    /// Re-read the adjusted sensitivity and deviation floor of every state.
    fn refresh(&mut self, rules: &CompiledAlerts, labels: &Labels, generation: u64) {
        for state in &mut self.states {
            let rule = &rules.rules[state.rule as usize];
            let adjusted = rules.adjustments.effective(&rule.name, labels);
            state.sensitivity =
                (rule.sensitivity * adjusted.sensitivity_factor).clamp(1e-6, 1.0 - 1e-6);
            state.min_deviation = rule.min_deviation.max(adjusted.min_deviation);
        }
        self.generation = generation;
    }
}
