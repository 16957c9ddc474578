use super::*;
use crate::testutil::{api_latency, labels};

fn note(author: &str, at_ms: i64) -> Note {
    Note {
        author: author.into(),
        reason: "noisy after deploys".into(),
        at_ms,
        alert_id: None,
    }
}

#[test]
fn adjustments_combine_per_rule_and_series() {
    let registry = Adjustments::new();
    let api = api_latency();
    let db = labels(&[("__name__", "up"), ("job", "db")]);
    struct Step {
        rule: &'static str,
        series: &'static str,
        change: Change,
    }
    let steps = [
        Step {
            rule: "R",
            series: "api",
            change: Change::SensitivityFactor { factor: 0.8 },
        },
        Step {
            rule: "R",
            series: "api",
            change: Change::SensitivityFactor { factor: 0.5 },
        },
        Step {
            rule: "R",
            series: "api",
            change: Change::DeviationFloor { min_deviation: 3.0 },
        },
        Step {
            rule: "R",
            series: "api",
            change: Change::DeviationFloor { min_deviation: 2.0 },
        },
        Step {
            rule: "Other",
            series: "api",
            change: Change::SensitivityFactor { factor: 0.1 },
        },
        Step {
            rule: "R",
            series: "db",
            change: Change::DeviationFloor { min_deviation: 9.0 },
        },
    ];
    let mut generation = registry.generation();
    for (i, step) in steps.iter().enumerate() {
        let series = if step.series == "api" { &api } else { &db };
        let id = registry
            .add(step.rule, series, step.change, note("ana", i as i64))
            .unwrap();
        assert_eq!(id, i as u64 + 1, "ids count from 1");
        assert!(
            registry.generation() > generation,
            "every change bumps the generation"
        );
        generation = registry.generation();
    }
    struct Want<'a> {
        rule: &'static str,
        series: &'a Labels,
        factor: f64,
        floor: f64,
    }
    let wants = [
        Want {
            rule: "R",
            series: &api,
            factor: 0.4,
            floor: 3.0,
        },
        Want {
            rule: "Other",
            series: &api,
            factor: 0.1,
            floor: 0.0,
        },
        Want {
            rule: "R",
            series: &db,
            factor: 1.0,
            floor: 9.0,
        },
        Want {
            rule: "Other",
            series: &db,
            factor: 1.0,
            floor: 0.0,
        },
    ];
    for want in wants {
        let got = registry.effective(want.rule, want.series);
        assert!(
            (got.sensitivity_factor - want.factor).abs() < 1e-12,
            "{} {:?}: {got:?}",
            want.rule,
            want.series
        );
        assert_eq!(
            got.min_deviation, want.floor,
            "{} {:?}",
            want.rule, want.series
        );
    }
    assert_eq!(registry.list().len(), 6);
    assert_eq!(registry.for_series("R", &api).len(), 4);
    assert_eq!(registry.list()[0].author, "ana");
    assert_eq!(registry.list()[0].series["job"], "api");

    // Undo: the effect goes, the id is not reused, an unknown id is refused.
    let undone = registry.undo(3).unwrap();
    assert_eq!(undone.change, Change::DeviationFloor { min_deviation: 3.0 });
    assert_eq!(registry.effective("R", &api).min_deviation, 2.0);
    assert!(registry.generation() > generation);
    assert!(matches!(registry.undo(3), Err(Error::UnknownAdjustment(3))));
    for id in [1, 2, 4] {
        registry.undo(id).unwrap();
    }
    assert_eq!(registry.effective("R", &api), Effective::default());
    assert_eq!(
        registry
            .add(
                "R",
                &api,
                Change::SensitivityFactor { factor: 0.9 },
                note("bo", 9)
            )
            .unwrap(),
        7
    );
}

#[test]
fn out_of_range_adjustments_are_refused() {
    let registry = Adjustments::new();
    for change in [
        Change::SensitivityFactor { factor: 0.0 },
        Change::SensitivityFactor { factor: -1.0 },
        Change::SensitivityFactor { factor: f64::NAN },
        Change::SensitivityFactor { factor: 11.0 },
        Change::DeviationFloor {
            min_deviation: -0.1,
        },
        Change::DeviationFloor {
            min_deviation: f64::INFINITY,
        },
    ] {
        let err = registry
            .add("R", &api_latency(), change, note("x", 0))
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidAdjustment(_)),
            "{change:?}: {err}"
        );
    }
    assert_eq!(registry.generation(), 0);
    assert!(registry.list().is_empty());
}

#[test]
fn the_saved_form_round_trips_through_json() {
    let registry = Adjustments::new();
    registry
        .add(
            "R",
            &api_latency(),
            Change::SensitivityFactor { factor: 0.8 },
            note("ana", 1),
        )
        .unwrap();
    let floor = registry
        .add(
            "R",
            &api_latency(),
            Change::DeviationFloor { min_deviation: 4.0 },
            note("bo", 2),
        )
        .unwrap();
    registry.undo(floor).unwrap();
    let json = serde_json::to_string(&registry.save()).unwrap();
    assert!(
        json.contains(r#""change":{"kind":"sensitivity_factor","factor":0.8}"#),
        "{json}"
    );
    let saved: SavedAdjustments = serde_json::from_str(&json).unwrap();
    let restored = Adjustments::restore(saved.clone()).unwrap();
    assert_eq!(restored.list(), registry.list());
    assert_eq!(
        restored.effective("R", &api_latency()).sensitivity_factor,
        0.8
    );
    assert!(restored.generation() > 0);
    let next = restored
        .add(
            "R",
            &api_latency(),
            Change::SensitivityFactor { factor: 0.8 },
            note("c", 3),
        )
        .unwrap();
    assert_eq!(next, 3, "an undone id is not reused after a restore");

    let mut twice = saved;
    twice.adjustments.push(twice.adjustments[0].clone());
    assert!(Adjustments::restore(twice).is_err());
}
