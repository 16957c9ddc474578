//! Properties of the lifecycle over arbitrary observation sequences: it never panics, and for
//! one (rule, series) it never emits two `Firing` without a `Resolved` between them; `Updated`
//! and `Resolved` only follow a `Firing`, with the same alert id.

use std::collections::BTreeMap;

use omen_alert::{AlertConfig, AlertEvent, CompiledAlerts, EventKind, Note, Observation};
use omen_core::Labels;
use omen_core::{Contributions, ModelKind, Score, Status};
use proptest::prelude::*;

const CONFIG: &str = r#"
[[rules]]
name = "Default"

[[rules]]
name = "Slow"
for = "30s"
keep_firing_for = "1m"
direction = "up"
min_deviation = 1.0
flapping = { window = "10m", max_flips = 2 }
[[rules.severity]]
min_score = 0.8
level = "major"
[[rules.severity]]
min_score = 0.95
level = "critical"

[[rules]]
name = "Twitchy"
sensitivity = 0.9
resolve_hysteresis = 0.05
keep_firing_for = "0s"
min_relative_deviation = 0.01
flapping = { window = "5m", max_flips = 1 }
labels = { severity = "info", doubled = "{{ (value * 2) | round(1) }}" }
annotations = { summary = "{{ labels.job | default('none') }} {{ expected }}" }
[[rules.severity]]
min_score = 0.99
level = "fatal"

[[maintenance]]
from = "00:10"
to = "00:20"
"#;

#[derive(Debug, Clone)]
enum Op {
    Sample {
        gap_ms: i64,
        score: f64,
        value: f64,
        expected: f64,
        status: u8,
    },
    Stale {
        gap_ms: i64,
    },
    FalsePositive,
    Undo,
    Reload,
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => 0.0..1.0f64,
        1 => Just(1.0),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => -1e6..1e6f64,
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        20 => (-5_000..120_000i64, number(), number(), prop_oneof![Just(0.5), Just(0.0), Just(f64::NAN)], 0..5u8)
            .prop_map(|(gap_ms, score, value, expected, status)| Op::Sample { gap_ms, score, value, expected, status }),
        1 => (0..600_000i64).prop_map(|gap_ms| Op::Stale { gap_ms }),
        1 => Just(Op::FalsePositive),
        1 => Just(Op::Undo),
        1 => Just(Op::Reload),
    ]
}

fn compile() -> CompiledAlerts {
    toml::from_str::<AlertConfig>(CONFIG)
        .unwrap()
        .validate()
        .unwrap()
}

fn score(score: f64, expected: f64, status: u8) -> Score {
    let mut contributions = Contributions::default();
    contributions.push(ModelKind::Seasonal, score);
    Score {
        score,
        expected,
        lower: expected - 0.1,
        upper: expected + 0.1,
        status: match status {
            0 => Status::WarmingUp,
            1 => Status::SkippedNotFinite,
            2 => Status::SkippedOutOfOrder,
            _ => Status::Ready,
        },
        contributions,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn firing_and_resolved_alternate(ops in prop::collection::vec(op(), 0..400)) {
        let series = Labels::from_pairs(&[("__name__".into(), "q".into()), ("job".into(), "api".into())]);
        let mut rules = compile();
        let mut alerts = rules.for_series(&series);
        let mut events: Vec<AlertEvent> = Vec::new();
        let mut t = 0i64;
        let mut adjustments = Vec::new();
        for op in ops {
            let before = events.len();
            match op {
                Op::Sample { gap_ms, score: s, value, expected, status } => {
                    t += gap_ms;
                    let score = score(s, expected, status);
                    let obs = Observation { labels: &series, timestamp_ms: t, value, score: &score, season_period_ms: Some(3_600_000), last_change_ms: None };
                    alerts.observe(&rules, &obs, &mut events);
                }
                Op::Stale { gap_ms } => {
                    t += gap_ms;
                    alerts.stale(&rules, &series, t, &mut events);
                }
                Op::FalsePositive => {
                    if let Some(e) = events.iter().rev().find(|e| e.kind == EventKind::Firing) {
                        let note = Note { author: "prop".into(), reason: "test".into(), at_ms: t, alert_id: None };
                        adjustments.extend(rules.adjustments().false_positive(&e.alert, note).unwrap());
                    }
                }
                Op::Undo => {
                    if let Some(id) = adjustments.pop() {
                        rules.adjustments().undo(id).unwrap();
                    }
                }
                Op::Reload => {
                    let registry = rules.adjustments().clone();
                    rules = compile().with_adjustments(registry);
                }
            }
            for e in &events[before..] {
                prop_assert!(!e.alert.id.is_empty() && e.alert.fingerprint.len() == 16);
            }
        }
        // rule → (id, fingerprint last notified)
        let mut open: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
        for e in &events {
            let rule = e.alert.rule.as_str();
            let id = e.alert.id.as_str();
            let fingerprint = e.alert.fingerprint.as_str();
            match e.kind {
                EventKind::Firing => {
                    prop_assert!(!open.contains_key(rule), "second Firing of {} without Resolved", rule);
                    open.insert(rule, (id, fingerprint));
                }
                EventKind::Updated => {
                    let Some((open_id, last)) = open.get(rule).copied() else {
                        return Err(TestCaseError::fail("Updated outside an episode"));
                    };
                    prop_assert_eq!(open_id, id, "the id is stable through an episode");
                    match &e.replaces {
                        Some(old) => prop_assert_eq!(old.fingerprint.as_str(), last, "replaces what was notified"),
                        None => prop_assert_eq!(fingerprint, last, "labels changed without replaces"),
                    }
                    open.insert(rule, (id, fingerprint));
                }
                EventKind::Resolved => {
                    prop_assert_eq!(open.remove(rule), Some((id, fingerprint)), "Resolved ends what was notified");
                    prop_assert!(e.alert.ends_at_ms.is_some());
                }
            }
        }
        let firing: Vec<_> = alerts.phases().filter(|(_, p)| *p == omen_alert::Phase::Firing).map(|(n, _)| n.to_string()).collect();
        let open: Vec<_> = open.keys().map(|n| n.to_string()).collect();
        prop_assert_eq!(firing, open, "the phases agree with the events");
    }
}
