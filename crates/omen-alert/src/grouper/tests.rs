use std::collections::HashMap;

use super::*;
use crate::alert::{Deviation, EventKind, Explanation};
use crate::fingerprint::fingerprint;
use crate::lifecycle::Observation;
use crate::testutil::{api_latency, compile, score};

/// An alert of `rule` on the series `up{instance}`; times in seconds.
fn alert(rule: &str, instance: &str, starts: i64, ends: Option<i64>) -> Alert {
    let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    };
    let labels = map(&[
        ("alertname", rule),
        ("instance", instance),
        ("metric", "up"),
        ("severity", "warning"),
    ]);
    Alert {
        id: format!("{}-{}", fingerprint(&labels), starts * 1000),
        fingerprint: fingerprint(&labels),
        rule: rule.into(),
        annotations: map(&[("summary", "s")]),
        state: if ends.is_some() {
            AlertState::Resolved
        } else {
            AlertState::Firing
        },
        starts_at_ms: starts * 1000,
        ends_at_ms: ends.map(|e| e * 1000),
        active_at_ms: starts * 1000,
        flapping: false,
        series: map(&[("__name__", "up"), ("instance", instance)]),
        explanation: Explanation {
            timestamp_ms: starts * 1000,
            value: 1.0,
            expected: 0.0,
            lower: -1.0,
            upper: 1.0,
            score: 0.9,
            threshold: 0.5,
            deviation: 1.0,
            relative_deviation: 1.0,
            direction: Deviation::Up,
            contributions: Vec::new(),
            change_point_ms: None,
            season_period_ms: None,
            rule: rule.into(),
            peak_score: 0.9,
            peak_deviation: 1.0,
            series_url: "/api/v1/series/state".into(),
        },
        labels,
    }
}

#[derive(Debug, Clone, Copy)]
enum Step {
    /// An alert starts firing at this time (seconds): rule, instance.
    Fire(i64, &'static str, &'static str),
    /// An alert that started long before reaches the grouper: time, start, rule, instance.
    Late(i64, i64, &'static str, &'static str),
    /// The alert resolves at this time.
    Resolve(i64, &'static str, &'static str),
    /// Flush at this time; the notifications as `reason:rule/instance=status,...`.
    Due(i64, &'static [&'static str]),
}

fn describe(n: &WebhookNotification) -> String {
    let alerts: Vec<String> = n
        .payload
        .alerts
        .iter()
        .map(|a| {
            format!(
                "{}/{}={}",
                a.labels["alertname"], a.labels["instance"], a.status
            )
        })
        .collect();
    format!("{:?}:{}", n.reason, alerts.join(","))
}

fn run(config: &str, steps: &[Step]) -> Grouper {
    let rules = compile(config);
    let mut grouper = Grouper::new(&rules, "omen");
    let mut starts = HashMap::new();
    let event = |alert: Alert, kind| AlertEvent {
        kind,
        alert,
        replaces: None,
    };
    for (i, step) in steps.iter().enumerate() {
        match *step {
            Step::Fire(t, rule, instance) => {
                starts.insert((rule, instance), t);
                grouper.on_event(
                    &event(alert(rule, instance, t, None), EventKind::Firing),
                    t * 1000,
                );
            }
            Step::Late(t, start, rule, instance) => {
                starts.insert((rule, instance), start);
                grouper.on_event(
                    &event(alert(rule, instance, start, None), EventKind::Firing),
                    t * 1000,
                );
            }
            Step::Resolve(t, rule, instance) => {
                let start = starts[&(rule, instance)];
                grouper.on_event(
                    &event(alert(rule, instance, start, Some(t)), EventKind::Resolved),
                    t * 1000,
                );
            }
            Step::Due(t, want) => {
                let got: Vec<String> = grouper.due(t * 1000).iter().map(describe).collect();
                assert_eq!(got, want, "step {i} ({step:?})");
            }
        }
    }
    grouper
}

const TIMERS: &str =
    "[grouping]\ngroup_wait = \"5s\"\ngroup_interval = \"1m\"\nrepeat_interval = \"1h\"\n";

#[test]
fn grouping_follows_alertmanagers_timers() {
    struct Case {
        name: &'static str,
        steps: &'static [Step],
        /// `next_due_ms` after the steps, in seconds.
        next_due: Option<i64>,
    }
    use Step::*;
    let cases = [
        Case {
            name: "the first notification waits group_wait",
            steps: &[
                Fire(0, "R", "a"),
                Due(4, &[]),
                Due(5, &["First:R/a=firing"]),
            ],
            next_due: Some(65),
        },
        Case {
            name: "alerts arriving within group_wait go together",
            steps: &[
                Fire(0, "R", "a"),
                Fire(3, "R", "b"),
                Due(5, &["First:R/a=firing,R/b=firing"]),
            ],
            next_due: Some(65),
        },
        Case {
            name: "later alerts wait for group_interval",
            steps: &[
                Fire(0, "R", "a"),
                Due(5, &["First:R/a=firing"]),
                Fire(10, "R", "b"),
                Due(30, &[]),
                Due(65, &["NewAlerts:R/a=firing,R/b=firing"]),
            ],
            next_due: Some(125),
        },
        Case {
            name: "an unchanged group repeats strictly after repeat_interval",
            steps: &[
                Fire(0, "R", "a"),
                Due(5, &["First:R/a=firing"]),
                Due(65, &[]),
                Due(3605, &[]),
                Due(3665, &["Repeat:R/a=firing"]),
                Due(3725, &[]),
            ],
            next_due: Some(3785),
        },
        Case {
            name: "a resolved alert is sent once, then the empty group goes",
            steps: &[
                Fire(0, "R", "a"),
                Due(5, &["First:R/a=firing"]),
                Resolve(20, "R", "a"),
                Due(65, &["AllResolved:R/a=resolved"]),
                Due(125, &[]),
            ],
            next_due: None,
        },
        Case {
            name: "fired and resolved before the first notification: nothing is sent",
            steps: &[Fire(0, "R", "a"), Resolve(2, "R", "a"), Due(5, &[])],
            next_due: None,
        },
        Case {
            name: "a partial resolve is sent with the firing rest, then dropped",
            steps: &[
                Fire(0, "R", "a"),
                Fire(0, "R", "b"),
                Due(5, &["First:R/a=firing,R/b=firing"]),
                Resolve(10, "R", "b"),
                Due(65, &["NewResolved:R/a=firing,R/b=resolved"]),
                Due(125, &[]),
            ],
            next_due: Some(185),
        },
        Case {
            name: "an alert that started long ago is flushed at once",
            steps: &[Late(100, 0, "R", "a"), Due(100, &["First:R/a=firing"])],
            next_due: Some(160),
        },
        Case {
            name: "group_by alertname makes one group per rule",
            steps: &[
                Fire(0, "R", "a"),
                Fire(1, "S", "a"),
                Due(6, &["First:R/a=firing", "First:S/a=firing"]),
            ],
            next_due: Some(66),
        },
        Case {
            name: "a new episode after the group went is a new group",
            steps: &[
                Fire(0, "R", "a"),
                Due(5, &["First:R/a=firing"]),
                Resolve(10, "R", "a"),
                Due(65, &["AllResolved:R/a=resolved"]),
                Fire(100, "R", "a"),
                Due(104, &[]),
                Due(105, &["First:R/a=firing"]),
            ],
            next_due: Some(165),
        },
    ];
    for case in cases {
        let grouper = run(TIMERS, case.steps);
        assert_eq!(
            grouper.next_due_ms(),
            case.next_due.map(|s| s * 1000),
            "{}",
            case.name
        );
        assert_eq!(grouper.is_empty(), case.next_due.is_none(), "{}", case.name);
    }
}

#[test]
fn maintenance_mutes_firing_alerts_until_it_ends() {
    use Step::*;
    let config = format!(
        "{TIMERS}[[maintenance]]\nstart = \"1970-01-01T00:00:00Z\"\nend = \"1970-01-01T00:01:40Z\""
    );
    run(
        &config,
        &[
            Fire(0, "R", "a"),
            Due(5, &[]),
            Due(65, &[]),
            Due(125, &["First:R/a=firing"]),
        ],
    );
    // A resolution inside the window is still sent.
    run(
        "[grouping]\ngroup_wait = \"0s\"\n[[maintenance]]\nstart = \"1970-01-01T00:00:10Z\"\nend = \"1970-01-01T01:00:00Z\"",
        &[
            Fire(0, "R", "a"),
            Due(0, &["First:R/a=firing"]),
            Resolve(20, "R", "a"),
            Due(60, &["AllResolved:R/a=resolved"]),
        ],
    );
}

#[test]
fn idempotency_keys_are_deterministic_and_repeats_get_new_ones() {
    let keys = || {
        let rules = compile(TIMERS);
        let mut grouper = Grouper::new(&rules, "omen");
        let e = AlertEvent {
            kind: EventKind::Firing,
            alert: alert("R", "a", 0, None),
            replaces: None,
        };
        grouper.on_event(&e, 0);
        let first = grouper.due(5_000).remove(0);
        let repeat = grouper.due(3_665_000).remove(0);
        (first, repeat)
    };
    let (first, repeat) = keys();
    let (again, _) = keys();
    assert_eq!(
        first.idempotency_key, again.idempotency_key,
        "same inputs, same key"
    );
    assert_ne!(first.idempotency_key, repeat.idempotency_key);
    let body = first.body();
    assert_eq!(body.last(), Some(&b'\n'));
    let back: WebhookPayload = serde_json::from_slice(&body).unwrap();
    assert_eq!(back, first.payload);
    assert_eq!(back.group_key, r#"{}:{alertname="R"}"#);
    assert_eq!(back.receiver, "omen");
}

#[test]
fn a_severity_rise_resolves_the_old_label_set_in_the_group() {
    let rules = compile(&format!(
        "{TIMERS}[[rules]]\nname = \"R\"\n[[rules.severity]]\nmin_score = 0.9\nlevel = \"critical\""
    ));
    let mut grouper = Grouper::new(&rules, "omen");
    let series = api_latency();
    let mut alerts = rules.for_series(&series);
    let mut step = |grouper: &mut Grouper, t: i64, s: f64| {
        let score = score(s);
        let obs = Observation {
            labels: &series,
            timestamp_ms: t,
            value: 120.0,
            score: &score,
            season_period_ms: None,
            last_change_ms: None,
        };
        let mut events = Vec::new();
        alerts.observe(&rules, &obs, &mut events);
        for e in &events {
            grouper.on_event(e, t);
        }
    };
    step(&mut grouper, 0, 0.6);
    let first = grouper.due(5_000);
    assert_eq!(first[0].payload.alerts[0].labels["severity"], "warning");
    step(&mut grouper, 10_000, 0.95);
    let update = grouper.due(65_000);
    let got: Vec<_> = update[0]
        .payload
        .alerts
        .iter()
        .map(|a| (a.labels["severity"].as_str(), a.status.as_str()))
        .collect();
    assert_eq!(got, [("critical", "firing"), ("warning", "resolved")]);
    assert_eq!(update[0].reason, NotifyReason::NewAlerts);
}

#[test]
fn restored_alerts_are_not_announced_again_but_resolve() {
    let rules = compile(TIMERS);
    let mut grouper = Grouper::new(&rules, "omen");
    grouper.restore(alert("R", "a", 0, None), 1_000);
    assert!(grouper.due(61_000).is_empty());
    let e = AlertEvent {
        kind: EventKind::Resolved,
        alert: alert("R", "a", 0, Some(70)),
        replaces: None,
    };
    grouper.on_event(&e, 70_000);
    let sent: Vec<String> = grouper.due(121_000).iter().map(describe).collect();
    assert_eq!(sent, ["AllResolved:R/a=resolved"]);

    // After a reload that removed its rule, a firing alert is resolved.
    let mut grouper = Grouper::new(&rules, "omen");
    grouper.restore(alert("Gone", "a", 0, None), 0);
    grouper.forget_removed_rules(&rules, 30_000);
    let sent: Vec<String> = grouper.due(60_000).iter().map(describe).collect();
    assert_eq!(sent, ["AllResolved:Gone/a=resolved"]);
}
