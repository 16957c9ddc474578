//! [`AlertSlot`]: one series' place in the alert stage, for whoever keeps per-series state:
//! the live engine's per-series observer slot (`omen serve`) and the batch pipeline's table
//! of series (`omen analyze`) alike.
//!
//! A slot starts [`Unseen`](AlertSlot::Unseen). On the series' first sample (or its end, if
//! that comes first) it becomes [`Covered`](AlertSlot::Covered) by the rules whose selectors
//! match the series, with any firing alerts saved before a restart put back, or
//! [`Uncovered`](AlertSlot::Uncovered) when no rule matches, which allocates nothing: a boxed
//! empty [`SeriesAlerts`] would be 48 bytes a series, for nothing. An uncovered series stays
//! uncovered for the life of the slot (the rules of one process do not change).
//!
//! The live engine keeps a type-erased slot per series (`Option<Box<dyn Any + Send>>`, which
//! this crate cannot name); [`AlertSlot::with_erased`] keeps an `AlertSlot` in it without
//! allocating more than the covered state itself.

use std::any::Any;

use omen_core::Labels;

use crate::alert::AlertEvent;
use crate::compile::CompiledAlerts;
use crate::lifecycle::{FiringState, Observation, SeriesAlerts};

/// One series' alert state, made on its first sample. See the [module](self) docs.
#[derive(Debug, Clone, Default)]
pub enum AlertSlot {
    /// No sample of the series yet.
    #[default]
    Unseen,
    /// No rule covers the series: its samples cost nothing.
    Uncovered,
    /// The state of the rules that cover the series.
    Covered(Box<SeriesAlerts>),
}

/// What an uncovered slot is kept as in a type-erased slot: zero-sized, so boxing it
/// allocates nothing.
struct Uncovered;

impl AlertSlot {
    /// The series' state, made on the first call: the rules of `rules` that cover `labels`,
    /// with each firing alert that `saved` gives back restored (see
    /// [`SeriesAlerts::restore_firing`]). `saved` is called once, on that first call, whether
    /// or not a rule covers the series (so that saved states of a series no rule covers any
    /// more are consumed too); pass `Vec::new` when nothing was saved. None when no rule
    /// covers the series.
    pub fn state(
        &mut self,
        rules: &CompiledAlerts,
        labels: &Labels,
        saved: impl FnOnce() -> Vec<FiringState>,
    ) -> Option<&mut SeriesAlerts> {
        if let AlertSlot::Unseen = self {
            let mut alerts = rules.for_series(labels);
            for firing in saved() {
                alerts.restore_firing(rules, labels, &firing);
            }
            *self = if alerts.is_empty() {
                AlertSlot::Uncovered
            } else {
                AlertSlot::Covered(Box::new(alerts))
            };
        }
        match self {
            AlertSlot::Covered(alerts) => Some(alerts),
            AlertSlot::Unseen | AlertSlot::Uncovered => None,
        }
    }

    /// One scored sample of the series ([`SeriesAlerts::observe`]), the state made first if
    /// the slot is unseen (see [`AlertSlot::state`] for `saved`); events are appended to
    /// `events`.
    pub fn observe(
        &mut self,
        rules: &CompiledAlerts,
        obs: &Observation<'_>,
        saved: impl FnOnce() -> Vec<FiringState>,
        events: &mut Vec<AlertEvent>,
    ) {
        if let Some(alerts) = self.state(rules, obs.labels, saved) {
            alerts.observe(rules, obs, events);
        }
    }

    /// The series ended at `timestamp_ms` ([`SeriesAlerts::stale`]): firing alerts resolve,
    /// those restored by this very call included (see [`AlertSlot::state`] for `saved`).
    pub fn stale(
        &mut self,
        rules: &CompiledAlerts,
        labels: &Labels,
        timestamp_ms: i64,
        saved: impl FnOnce() -> Vec<FiringState>,
        events: &mut Vec<AlertEvent>,
    ) {
        if let Some(alerts) = self.state(rules, labels, saved) {
            alerts.stale(rules, labels, timestamp_ms, events);
        }
    }

    /// The state, if the series was seen and a rule covers it.
    pub fn alerts(&self) -> Option<&SeriesAlerts> {
        match self {
            AlertSlot::Covered(alerts) => Some(alerts),
            AlertSlot::Unseen | AlertSlot::Uncovered => None,
        }
    }

    /// The firing alerts' states ([`SeriesAlerts::firing_states`]); none for a slot that is
    /// unseen or uncovered.
    pub fn firing_states(&self, rules: &CompiledAlerts) -> Vec<FiringState> {
        self.alerts()
            .map(|alerts| alerts.firing_states(rules))
            .unwrap_or_default()
    }

    /// Run `f` on the slot kept in a type-erased per-series slot (the live engine's
    /// `ObserverSlot.0`), empty for a new series. An unseen slot is kept as `None`, an
    /// uncovered one as a zero-sized box (no allocation), a covered one as the box of its
    /// state (no allocation but that box).
    ///
    /// # Panics
    ///
    /// If `erased` holds anything but what this function put there: the slot belongs to one
    /// observer.
    pub fn with_erased<R>(
        erased: &mut Option<Box<dyn Any + Send>>,
        f: impl FnOnce(&mut AlertSlot) -> R,
    ) -> R {
        let mut slot =
            match erased.take() {
                None => AlertSlot::Unseen,
                Some(boxed) if boxed.is::<Uncovered>() => AlertSlot::Uncovered,
                Some(boxed) => AlertSlot::Covered(boxed.downcast::<SeriesAlerts>().expect(
                    "a type-erased alert slot holds what AlertSlot::with_erased put there",
                )),
            };
        let result = f(&mut slot);
        *erased = match slot {
            AlertSlot::Unseen => None,
            AlertSlot::Uncovered => Some(Box::new(Uncovered)),
            AlertSlot::Covered(alerts) => Some(alerts),
        };
        result
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::alert::EventKind;
    use crate::testutil::{api_latency, compile, labels, score};

    const RULES: &str = r#"
        [[rules]]
        name = "ApiSlow"
        match = ['{job="api"}']
        direction = "up"
    "#;

    /// One step of a case: a sample with its score, or the series' end; times in seconds.
    #[derive(Debug, Clone, Copy)]
    enum Step {
        Sample(i64, f64),
        End(i64),
    }

    /// What a slot went through: its state after the steps, and the events as `time:kind`.
    #[derive(Debug, PartialEq)]
    struct Seen {
        state: &'static str,
        events: Vec<String>,
        firing: usize,
        saved_calls: usize,
    }

    /// Run `steps` through a slot, both kept plainly and kept type-erased; both must agree.
    fn run(series: &Labels, saved: &[FiringState], steps: &[Step]) -> Seen {
        let rules = compile(RULES);
        let plain = run_with(&rules, series, saved, steps, |slot, f| f(slot));
        let erased = {
            let mut erased: Option<Box<dyn Any + Send>> = None;
            run_with(&rules, series, saved, steps, |_, f| {
                AlertSlot::with_erased(&mut erased, f)
            })
        };
        assert_eq!(plain, erased, "plain and type-erased slots disagree");
        plain
    }

    fn run_with(
        rules: &CompiledAlerts,
        series: &Labels,
        saved: &[FiringState],
        steps: &[Step],
        mut on: impl FnMut(&mut AlertSlot, &mut dyn FnMut(&mut AlertSlot)),
    ) -> Seen {
        let mut plain = AlertSlot::default();
        let calls = Cell::new(0);
        let saved = || {
            calls.set(calls.get() + 1);
            saved.to_vec()
        };
        let mut events = Vec::new();
        let mut last = ("unseen", 0);
        for &step in steps {
            on(&mut plain, &mut |slot: &mut AlertSlot| {
                match step {
                    Step::Sample(t, s) => {
                        let score = score(s);
                        let obs = Observation {
                            labels: series,
                            timestamp_ms: t * 1000,
                            value: score.expected + 10.0,
                            score: &score,
                            season_period_ms: None,
                            last_change_ms: None,
                        };
                        slot.observe(rules, &obs, saved, &mut events);
                    }
                    Step::End(t) => slot.stale(rules, series, t * 1000, saved, &mut events),
                }
                last = (
                    match slot {
                        AlertSlot::Unseen => "unseen",
                        AlertSlot::Uncovered => "uncovered",
                        AlertSlot::Covered(_) => "covered",
                    },
                    slot.firing_states(rules).len(),
                );
            });
        }
        Seen {
            state: last.0,
            events: events
                .iter()
                .map(|e| {
                    let t = match e.kind {
                        EventKind::Resolved => e.alert.ends_at_ms.unwrap_or(0),
                        _ => e.alert.starts_at_ms,
                    };
                    format!("{}:{}", t / 1000, e.kind.as_str())
                })
                .collect(),
            firing: last.1,
            saved_calls: calls.get(),
        }
    }

    /// A firing alert of `ApiSlow` saved before a restart, started at `starts_s`.
    fn saved_firing(starts_s: i64) -> FiringState {
        FiringState {
            rule: "ApiSlow".into(),
            active_at_ms: starts_s * 1000,
            starts_at_ms: starts_s * 1000,
            last_breach_ms: starts_s * 1000,
            peak_score: 0.99,
            peak_deviation: 10.0,
            severity: "warning".into(),
            flapping: false,
            flips_ms: vec![starts_s * 1000],
            labels: Default::default(),
        }
    }

    #[test]
    fn a_slot_is_made_once_and_runs_the_lifecycle() {
        struct Case {
            name: &'static str,
            series: Labels,
            saved: Vec<FiringState>,
            steps: &'static [Step],
            want: Seen,
        }
        let other = labels(&[("__name__", "up"), ("job", "db")]);
        let seen = |state, events: &[&str], firing, saved_calls| Seen {
            state,
            events: events.iter().map(|e| e.to_string()).collect(),
            firing,
            saved_calls,
        };
        let cases = [
            Case {
                name: "no rule covers the series: nothing happens, saved states are consumed",
                series: other.clone(),
                saved: vec![saved_firing(5)],
                steps: &[
                    Step::Sample(10, 0.99),
                    Step::Sample(20, 0.99),
                    Step::End(30),
                ],
                want: seen("uncovered", &[], 0, 1),
            },
            Case {
                name: "covered: a breach fires, the end resolves",
                series: api_latency(),
                saved: vec![],
                steps: &[
                    Step::Sample(10, 0.99),
                    Step::Sample(20, 0.99),
                    Step::End(30),
                ],
                want: seen("covered", &["10:firing", "30:resolved"], 0, 1),
            },
            Case {
                name: "covered, still firing at the end of the steps",
                series: api_latency(),
                saved: vec![],
                steps: &[Step::Sample(10, 0.1), Step::Sample(20, 0.99)],
                want: seen("covered", &["20:firing"], 1, 1),
            },
            Case {
                name: "a restored alert keeps firing without an event",
                series: api_latency(),
                saved: vec![saved_firing(5)],
                steps: &[Step::Sample(10, 0.99)],
                want: seen("covered", &[], 1, 1),
            },
            Case {
                name: "a restored alert resolves when the series ends first",
                series: api_latency(),
                saved: vec![saved_firing(5)],
                steps: &[Step::End(10)],
                want: seen("covered", &["10:resolved"], 0, 1),
            },
            Case {
                name: "no steps: still unseen, saved states not taken",
                series: api_latency(),
                saved: vec![saved_firing(5)],
                steps: &[],
                want: seen("unseen", &[], 0, 0),
            },
        ];
        for case in cases {
            assert_eq!(
                run(&case.series, &case.saved, case.steps),
                case.want,
                "{}",
                case.name
            );
        }
    }

    #[test]
    fn an_uncovered_slot_allocates_nothing() {
        assert_eq!(size_of::<Uncovered>(), 0);
        let rules = compile(RULES);
        let mut erased: Option<Box<dyn Any + Send>> = None;
        let other = labels(&[("__name__", "up")]);
        AlertSlot::with_erased(&mut erased, |slot| {
            assert!(slot.state(&rules, &other, Vec::new).is_none());
        });
        assert!(erased.as_ref().is_some_and(|b| b.is::<Uncovered>()));
        AlertSlot::with_erased(&mut erased, |slot| {
            assert!(matches!(slot, AlertSlot::Uncovered));
        });
    }
}
