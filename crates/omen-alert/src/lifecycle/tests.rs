use omen_core::Status;

use super::*;
use crate::Note;
use crate::alert::{AlertState, EventKind};
use crate::testutil::{EXPECTED, api_latency, compile, score, unready};

/// One input of a lifecycle case; times in seconds.
#[derive(Debug, Clone, Copy)]
enum S {
    /// A ready sample: time, score, value.
    At(i64, f64, f64),
    /// A ready sample above the expected value by 10.
    Up(i64, f64),
    /// A sample that is not ready (warm-up or skipped), with a high score.
    NotReady(i64, Status),
    /// The series ends.
    Stale(i64),
}

/// Events as `time:kind:severity[:flapping]`; the time is the start for `firing`, the end for
/// `resolved`, the sample's for `updated`.
fn run(config: &str, samples: &[S]) -> Vec<String> {
    let rules = compile(config);
    let series = api_latency();
    let mut alerts = rules.for_series(&series);
    let mut events = Vec::new();
    for sample in samples {
        let (t, score, value) = match *sample {
            S::At(t, s, v) => (t, score(s), v),
            S::Up(t, s) => (t, score(s), EXPECTED + 10.0),
            S::NotReady(t, status) => (t, unready(status), EXPECTED + 10.0),
            S::Stale(t) => {
                alerts.stale(&rules, &series, t * 1000, &mut events);
                continue;
            }
        };
        let obs = Observation {
            labels: &series,
            timestamp_ms: t * 1000,
            value,
            score: &score,
            season_period_ms: None,
            last_change_ms: None,
        };
        alerts.observe(&rules, &obs, &mut events);
    }
    events.iter().map(describe).collect()
}

fn describe(e: &AlertEvent) -> String {
    let a = &e.alert;
    let t = match e.kind {
        EventKind::Firing => a.starts_at_ms,
        EventKind::Updated => a.explanation.timestamp_ms,
        EventKind::Resolved => a.ends_at_ms.expect("resolved has an end"),
    } / 1000;
    let flapping = if a.flapping { ":flapping" } else { "" };
    format!("{t}:{}:{}{flapping}", e.kind.as_str(), a.severity())
}

const RULE: &str = "[[rules]]\nname = \"R\"\n";

struct Case {
    name: &'static str,
    /// Lines added to the rule (and tables after it).
    rule: &'static str,
    samples: &'static [S],
    want: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "fires at the first breach with for = 0",
        rule: "",
        samples: &[S::Up(0, 0.4), S::Up(10, 0.5)],
        want: &["10:firing:warning"],
    },
    Case {
        name: "for counts from the first breach in sample time",
        rule: "for = \"60s\"",
        samples: &[
            S::Up(0, 0.9),
            S::Up(30, 0.9),
            S::Up(59, 0.9),
            S::Up(60, 0.9),
        ],
        want: &["60:firing:warning"],
    },
    Case {
        name: "a normal sample while pending starts over, as in Prometheus",
        rule: "for = \"60s\"",
        samples: &[
            S::Up(0, 0.9),
            S::Up(30, 0.1),
            S::Up(60, 0.9),
            S::Up(90, 0.9),
            S::Up(119, 0.9),
            S::Up(120, 0.9),
        ],
        want: &["120:firing:warning"],
    },
    Case {
        name: "keep_firing_for holds the alert after the last breach",
        rule: "keep_firing_for = \"5m\"",
        samples: &[
            S::Up(0, 0.9),
            S::Up(60, 0.1),
            S::Up(299, 0.1),
            S::Up(300, 0.1),
        ],
        want: &["0:firing:warning", "300:resolved:warning"],
    },
    Case {
        name: "a breach during keep_firing_for restarts it",
        rule: "keep_firing_for = \"100s\"",
        samples: &[
            S::Up(0, 0.9),
            S::Up(90, 0.9),
            S::Up(150, 0.1),
            S::Up(190, 0.1),
        ],
        want: &["0:firing:warning", "190:resolved:warning"],
    },
    Case {
        name: "hysteresis: while firing a score down to threshold - margin still breaches",
        rule: "keep_firing_for = \"0s\"",
        samples: &[
            S::Up(0, 0.9),
            S::Up(10, 0.45),
            S::Up(20, 0.41),
            S::Up(30, 0.39),
        ],
        want: &["0:firing:warning", "30:resolved:warning"],
    },
    Case {
        name: "hysteresis stops at half the threshold (sensitivity 0.95: 0.05, then 0.025)",
        rule: "sensitivity = 0.95\nkeep_firing_for = \"0s\"",
        samples: &[
            S::Up(0, 0.04),
            S::Up(10, 0.06),
            S::Up(20, 0.03),
            S::Up(30, 0.02),
        ],
        want: &["10:firing:warning", "30:resolved:warning"],
    },
    Case {
        name: "no hysteresis before firing",
        rule: "for = \"20s\"",
        samples: &[
            S::Up(0, 0.9),
            S::Up(10, 0.45),
            S::Up(20, 0.9),
            S::Up(30, 0.9),
            S::Up(40, 0.9),
        ],
        want: &["40:firing:warning"],
    },
    Case {
        name: "one Firing per episode however many breaches",
        rule: "",
        samples: &[
            S::Up(0, 0.9),
            S::Up(10, 0.95),
            S::Up(20, 0.99),
            S::Up(30, 0.7),
        ],
        want: &["0:firing:warning"],
    },
    Case {
        name: "sensitivity sets the threshold",
        rule: "sensitivity = 0.2",
        samples: &[S::Up(0, 0.79), S::Up(10, 0.81)],
        want: &["10:firing:warning"],
    },
    Case {
        name: "direction up ignores drops",
        rule: "direction = \"up\"",
        samples: &[S::At(0, 0.9, 90.0), S::At(10, 0.9, 110.0)],
        want: &["10:firing:warning"],
    },
    Case {
        name: "direction down ignores rises",
        rule: "direction = \"down\"",
        samples: &[S::At(0, 0.9, 110.0), S::At(10, 0.9, 90.0)],
        want: &["10:firing:warning"],
    },
    Case {
        name: "min_deviation keeps a small wiggle quiet",
        rule: "min_deviation = 5.0",
        samples: &[
            S::At(0, 0.99, 104.9),
            S::At(10, 0.99, 95.1),
            S::At(20, 0.99, 94.0),
        ],
        want: &["20:firing:warning"],
    },
    Case {
        name: "min_relative_deviation is relative to |expected|",
        rule: "min_relative_deviation = 0.2",
        samples: &[S::At(0, 0.99, 110.0), S::At(10, 0.99, 125.0)],
        want: &["10:firing:warning"],
    },
    Case {
        name: "deviation limits also hold while firing",
        rule: "min_deviation = 5.0\nkeep_firing_for = \"0s\"",
        samples: &[S::At(0, 0.99, 110.0), S::At(10, 0.99, 101.0)],
        want: &["0:firing:warning", "10:resolved:warning"],
    },
    Case {
        name: "warm-up and skipped samples neither breach nor clear",
        rule: "for = \"30s\"\nkeep_firing_for = \"0s\"",
        samples: &[
            S::NotReady(0, Status::WarmingUp),
            S::Up(10, 0.9),
            S::NotReady(20, Status::SkippedNotFinite),
            S::Up(40, 0.9),
            S::NotReady(50, Status::SkippedOutOfOrder),
            S::Up(60, 0.1),
        ],
        want: &["40:firing:warning", "60:resolved:warning"],
    },
    Case {
        name: "severity rises once to the highest level reached, never falls",
        rule: "labels = { severity = \"minor\" }\nkeep_firing_for = \"0s\"\n\
               [[rules.severity]]\nmin_score = 0.9\nlevel = \"critical\"\n\
               [[rules.severity]]\nmin_score = 0.7\nlevel = \"major\"",
        samples: &[
            S::Up(0, 0.6),
            S::Up(10, 0.95),
            S::Up(20, 0.97),
            S::Up(30, 0.75),
            S::Up(40, 0.1),
        ],
        want: &[
            "0:firing:minor",
            "10:updated:critical",
            "40:resolved:critical",
        ],
    },
    Case {
        name: "the level reached while pending is the firing level",
        rule: "for = \"10s\"\n[[rules.severity]]\nmin_score = 0.9\nlevel = \"critical\"",
        samples: &[S::Up(0, 0.95), S::Up(10, 0.6)],
        want: &["10:firing:critical"],
    },
    Case {
        name: "staleness resolves a firing alert at once and drops a pending one",
        rule: "keep_firing_for = \"1h\"",
        samples: &[S::Up(0, 0.9), S::Stale(50), S::Up(60, 0.9), S::Stale(70)],
        want: &[
            "0:firing:warning",
            "50:resolved:warning",
            "60:firing:warning",
            "70:resolved:warning",
        ],
    },
    Case {
        name: "staleness drops a pending alert without an event",
        rule: "for = \"1m\"",
        samples: &[S::Up(0, 0.9), S::Stale(30), S::Up(40, 0.9), S::Up(90, 0.9)],
        want: &[],
    },
    Case {
        name: "maintenance: pending cannot fire during the window, fires after it",
        rule: "[[maintenance]]\nstart = \"1970-01-01T00:01:40Z\"\nend = \"1970-01-01T00:03:20Z\"",
        samples: &[S::Up(150, 0.9), S::Up(199, 0.9), S::Up(200, 0.9)],
        want: &["200:firing:warning"],
    },
    Case {
        name: "maintenance: no update inside the window, resolving still happens",
        rule: "keep_firing_for = \"0s\"\n[[rules.severity]]\nmin_score = 0.9\nlevel = \"critical\"\n\
               [[maintenance]]\nstart = \"1970-01-01T00:01:40Z\"\nend = \"1970-01-01T00:03:20Z\"",
        samples: &[S::Up(0, 0.6), S::Up(120, 0.95), S::Up(150, 0.1)],
        want: &["0:firing:warning", "150:resolved:warning"],
    },
    Case {
        name: "maintenance: an update held by the window is sent after it",
        rule: "[[rules.severity]]\nmin_score = 0.9\nlevel = \"critical\"\n\
               [[maintenance]]\nstart = \"1970-01-01T00:01:40Z\"\nend = \"1970-01-01T00:03:20Z\"",
        samples: &[S::Up(0, 0.6), S::Up(120, 0.95), S::Up(210, 0.6)],
        want: &["0:firing:warning", "210:updated:critical"],
    },
    Case {
        name: "maintenance for another rule or series changes nothing",
        rule: "[[maintenance]]\nmatch = ['{alertname=\"Other\"}', '{job=\"db\"}']\nfrom = \"00:00\"\nto = \"24:00\"",
        samples: &[S::Up(0, 0.9)],
        want: &["0:firing:warning"],
    },
    Case {
        name: "weekly maintenance matched by alertname",
        rule: "[[maintenance]]\nmatch = ['{alertname=\"R\", job=\"api\"}']\ndays = [\"thu\"]\nfrom = \"00:00\"\nto = \"01:00\"",
        samples: &[S::Up(0, 0.9), S::Up(3599, 0.9), S::Up(3600, 0.9)],
        want: &["3600:firing:warning"],
    },
    Case {
        name: "flapping: the flip past max_flips marks the alert and holds it until a calm window",
        rule: "keep_firing_for = \"0s\"\nflapping = { window = \"1h\", max_flips = 2 }",
        samples: &[
            S::Up(0, 0.9),
            S::Up(10, 0.1),
            S::Up(20, 0.9),
            S::Up(30, 0.1),
            S::Up(40, 0.9),
            S::Up(50, 0.1),
            S::Up(3639, 0.1),
            S::Up(3640, 0.1),
        ],
        want: &[
            "0:firing:warning",
            "10:resolved:warning",
            "20:firing:warning:flapping",
            "3640:resolved:warning:flapping",
        ],
    },
    Case {
        name: "flapping found at a resolve is an update, then held",
        rule: "keep_firing_for = \"0s\"\nflapping = { window = \"1h\", max_flips = 3 }",
        samples: &[
            S::Up(0, 0.9),
            S::Up(10, 0.1),
            S::Up(20, 0.9),
            S::Up(30, 0.1),
            S::Up(3630, 0.1),
        ],
        want: &[
            "0:firing:warning",
            "10:resolved:warning",
            "20:firing:warning",
            "30:updated:warning:flapping",
            "3630:resolved:warning:flapping",
        ],
    },
    Case {
        name: "flips older than the window do not count",
        rule: "keep_firing_for = \"0s\"\nflapping = { window = \"1m\", max_flips = 2 }",
        samples: &[
            S::Up(0, 0.9),
            S::Up(10, 0.1),
            S::Up(100, 0.9),
            S::Up(110, 0.1),
            S::Up(200, 0.9),
        ],
        want: &[
            "0:firing:warning",
            "10:resolved:warning",
            "100:firing:warning",
            "110:resolved:warning",
            "200:firing:warning",
        ],
    },
];

#[test]
fn lifecycle_cases() {
    for case in CASES {
        let config = if case.rule.starts_with("[[") {
            format!("{RULE}{}", case.rule)
        } else {
            format!("{RULE}{}\n", case.rule)
        };
        let got = run(&config, case.samples);
        assert_eq!(got, case.want, "{}", case.name);
    }
}

fn observe(
    alerts: &mut SeriesAlerts,
    rules: &CompiledAlerts,
    t: i64,
    s: f64,
    v: f64,
) -> Vec<AlertEvent> {
    let series = api_latency();
    let score = score(s);
    let obs = Observation {
        labels: &series,
        timestamp_ms: t * 1000,
        value: v,
        score: &score,
        season_period_ms: Some(86_400_000),
        last_change_ms: Some(5_000),
    };
    let mut events = Vec::new();
    alerts.observe(rules, &obs, &mut events);
    events
}

#[test]
fn alerts_carry_labels_annotations_and_the_explanation() {
    let rules = compile(
        "[[rules]]\nname = \"LatencyHigh\"\nkeep_firing_for = \"0s\"\n\
         labels = { team = \"{{ labels.job }}-team\", severity = \"page\" }\n\
         annotations = { summary = \"{{ labels.metric }} {{ value }} vs {{ expected }} ({{ severity }})\" }\n\
         [[rules.severity]]\nmin_score = 0.9\nlevel = \"critical\"",
    )
    .with_external_url("http://omen:9310/");
    let mut alerts = rules.for_series(&api_latency());
    let fired = observe(&mut alerts, &rules, 10, 0.8, 112.5);
    let a = &fired[0].alert;
    assert_eq!(fired[0].kind, EventKind::Firing);
    assert_eq!(a.state, AlertState::Firing);
    let labels: Vec<_> = a.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    assert_eq!(
        labels,
        [
            "alertname=LatencyHigh",
            "instance=a:9100",
            "job=api",
            "metric=http_latency_seconds",
            "severity=page",
            "team=api-team"
        ]
    );
    assert_eq!(a.series["__name__"], "http_latency_seconds");
    assert_eq!(
        a.annotations["summary"],
        "http_latency_seconds 112.5 vs 100.0 (page)"
    );
    assert!(
        a.annotations["description"].contains("Anomaly score 0.8"),
        "{:?}",
        a.annotations
    );
    assert_eq!(a.fingerprint, crate::fingerprint(&a.labels));
    assert!(a.id.ends_with("-10000"), "{}", a.id);
    let e = &a.explanation;
    assert_eq!(
        (e.value, e.expected, e.lower, e.upper, e.score),
        (112.5, 100.0, 95.0, 105.0, 0.8)
    );
    assert_eq!(
        (e.deviation, e.relative_deviation, e.threshold),
        (12.5, 0.125, 0.5)
    );
    assert_eq!(e.direction, crate::Deviation::Up);
    assert_eq!(e.contributions.len(), 2);
    assert_eq!(e.contributions[0].model, "robust");
    assert_eq!(
        (e.season_period_ms, e.change_point_ms),
        (Some(86_400_000), Some(5_000))
    );
    assert_eq!(e.peak_score, 0.8);
    assert!(
        e.series_url.starts_with(
            "http://omen:9310/api/v1/series/state?match[]=%7B__name__%3D%22http_latency_seconds%22"
        ),
        "{}",
        e.series_url
    );

    // A severity rise keeps the id, changes the fingerprint, and carries the replaced alert.
    let updated = observe(&mut alerts, &rules, 20, 0.95, 130.0);
    assert_eq!(updated[0].kind, EventKind::Updated);
    let b = &updated[0].alert;
    assert_eq!(b.id, a.id);
    assert_ne!(b.fingerprint, a.fingerprint);
    assert_eq!(b.severity(), "critical");
    assert_eq!(b.explanation.peak_score, 0.95);
    let old = updated[0].replaces.as_ref().expect("labels changed");
    assert_eq!(
        (old.fingerprint.as_str(), old.state, old.ends_at_ms),
        (a.fingerprint.as_str(), AlertState::Resolved, Some(20_000))
    );

    let resolved = observe(&mut alerts, &rules, 30, 0.1, 100.0);
    assert_eq!(resolved[0].kind, EventKind::Resolved);
    assert_eq!(resolved[0].alert.id, a.id);
    assert_eq!(resolved[0].alert.fingerprint, b.fingerprint);

    // The next episode has a new id.
    let again = observe(&mut alerts, &rules, 40, 0.8, 120.0);
    assert_ne!(again[0].alert.id, a.id);
}

#[test]
fn a_restored_firing_alert_keeps_its_start_and_does_not_fire_again() {
    let rules = compile(
        "[[rules]]\nname = \"R\"\nkeep_firing_for = \"0s\"\n[[rules.severity]]\nmin_score = 0.9\nlevel = \"critical\"",
    );
    let mut before = rules.for_series(&api_latency());
    let fired = observe(&mut before, &rules, 10, 0.95, 120.0);
    let saved = before.firing_states(&rules);
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].severity, "critical");
    let json = serde_json::to_string(&saved[0]).unwrap();
    let saved: FiringState = serde_json::from_str(&json).unwrap();

    // After the restart: a fresh state, restored, then samples.
    let mut after = rules.for_series(&api_latency());
    assert!(after.restore_firing(&rules, &api_latency(), &saved));
    assert!(
        observe(&mut after, &rules, 20, 0.95, 120.0).is_empty(),
        "no second Firing"
    );
    let resolved = observe(&mut after, &rules, 30, 0.1, 100.0);
    assert_eq!(resolved[0].kind, EventKind::Resolved);
    assert_eq!(resolved[0].alert.id, fired[0].alert.id);
    assert_eq!(resolved[0].alert.fingerprint, fired[0].alert.fingerprint);
    assert_eq!(resolved[0].alert.starts_at_ms, 10_000);

    let unknown = FiringState {
        rule: "Gone".into(),
        ..saved
    };
    assert!(!after.restore_firing(&rules, &api_latency(), &unknown));
}

#[test]
fn a_reload_keeps_firing_alerts_by_rule_name() {
    let old =
        compile("[[rules]]\nname = \"R\"\nkeep_firing_for = \"0s\"\n[[rules]]\nname = \"Gone\"");
    let mut alerts = old.for_series(&api_latency());
    assert_eq!(observe(&mut alerts, &old, 0, 0.9, 120.0).len(), 2);
    let new =
        compile("[[rules]]\nname = \"New\"\n[[rules]]\nname = \"R\"\nkeep_firing_for = \"0s\"");
    assert!(
        observe(&mut alerts, &new, 10, 0.9, 120.0)
            .iter()
            .all(|e| e.alert.rule == "New")
    );
    let phases: Vec<_> = alerts.phases().collect();
    assert_eq!(phases, [("New", Phase::Firing), ("R", Phase::Firing)]);
    let resolved = observe(&mut alerts, &new, 20, 0.1, 100.0);
    let rules: Vec<_> = resolved
        .iter()
        .map(|e| (e.alert.rule.as_str(), e.alert.starts_at_ms))
        .collect();
    assert_eq!(rules, [("R", 0)], "New keeps firing for its default 5m");
}

#[test]
fn rules_cover_only_their_series() {
    let rules = compile(
        "[[rules]]\nname = \"Db\"\nmatch = ['{job=\"db\"}']\n[[rules]]\nname = \"Api\"\nmatch = ['{job=\"db\"}', 'http_latency_seconds']",
    );
    let alerts = rules.for_series(&api_latency());
    assert_eq!(alerts.phases().map(|(n, _)| n).collect::<Vec<_>>(), ["Api"]);
    let none = rules.for_series(&crate::testutil::labels(&[("__name__", "up")]));
    assert!(none.is_empty());
    assert!(std::mem::size_of::<SeriesAlerts>() <= 48);
}

#[test]
fn a_false_positive_raises_the_bar_for_that_series_only() {
    let rules = compile("[[rules]]\nname = \"R\"\nkeep_firing_for = \"0s\"");
    let other = crate::testutil::labels(&[
        ("__name__", "http_latency_seconds"),
        ("instance", "b:9100"),
        ("job", "api"),
    ]);
    let mut alerts = rules.for_series(&api_latency());
    let mut other_alerts = rules.for_series(&other);
    let fired = observe(&mut alerts, &rules, 0, 0.9, 110.0);
    observe(&mut alerts, &rules, 10, 0.1, 100.0);
    let before = rules.adjustments().generation();
    let ids = rules
        .adjustments()
        .false_positive(
            &fired[0].alert,
            Note {
                author: "ana".into(),
                reason: "deploy".into(),
                at_ms: 15_000,
                alert_id: None,
            },
        )
        .unwrap();
    assert_eq!(ids.len(), 2);
    assert!(rules.adjustments().generation() > before);
    // Sensitivity 0.5 × 0.8 = 0.4: threshold 0.6; deviation floor just above 10.
    assert!(
        observe(&mut alerts, &rules, 20, 0.9, 110.0).is_empty(),
        "same deviation"
    );
    assert!(
        observe(&mut alerts, &rules, 30, 0.59, 130.0).is_empty(),
        "below the new threshold"
    );
    assert_eq!(observe(&mut alerts, &rules, 40, 0.61, 111.0).len(), 1);
    assert_eq!(observe(&mut alerts, &rules, 50, 0.0, 100.0).len(), 1);
    // Another series of the same rule is not affected.
    let mut events = Vec::new();
    let s = score(0.5);
    other_alerts.observe(
        &rules,
        &Observation {
            labels: &other,
            timestamp_ms: 60_000,
            value: 101.0,
            score: &s,
            season_period_ms: None,
            last_change_ms: None,
        },
        &mut events,
    );
    assert_eq!(events.len(), 1);
    // Undo both: the old behaviour is back.
    for id in ids {
        rules.adjustments().undo(id).unwrap();
    }
    assert_eq!(observe(&mut alerts, &rules, 70, 0.5, 101.0).len(), 1);
}

#[test]
fn rule_labels_are_rendered_once_per_episode() {
    let rules = compile(
        "[[rules]]\nname = \"R\"\nkeep_firing_for = \"0s\"\n\
         labels = { size = \"{{ 'big' if value > 150 else 'small' }}\" }\n\
         annotations = { now = \"{{ value }}\" }",
    );
    let mut alerts = rules.for_series(&api_latency());
    let fired = observe(&mut alerts, &rules, 0, 0.9, 160.0);
    let resolved = observe(&mut alerts, &rules, 10, 0.1, 100.0);
    let (a, b) = (&fired[0].alert, &resolved[0].alert);
    assert_eq!(
        (a.labels["size"].as_str(), b.labels["size"].as_str()),
        ("big", "big")
    );
    assert_eq!(b.fingerprint, a.fingerprint);
    assert_eq!(
        (a.annotations["now"].as_str(), b.annotations["now"].as_str()),
        ("160.0", "100.0"),
        "annotations follow the sample"
    );
    let saved_labels = {
        let again = observe(&mut alerts, &rules, 20, 0.9, 100.0);
        assert_eq!(
            again[0].alert.labels["size"], "small",
            "a new episode renders again"
        );
        alerts.firing_states(&rules)[0].labels.clone()
    };
    assert_eq!(saved_labels["size"], "small");
}
