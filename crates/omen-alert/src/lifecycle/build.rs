//! Building an [`Alert`] when a rule's state changes: labels and annotations rendered, the
//! explanation filled from the sample. Runs only on events, never per sample.

use std::collections::BTreeMap;

use omen_core::Labels;
use omen_core::Score;

use super::state::{RuleState, Transition, relative_deviation};
use crate::alert::{Alert, AlertEvent, AlertState, Deviation, EventKind, Explanation, ModelScore};
use crate::compile::{CompiledAlerts, CompiledRule};
use crate::fingerprint::{fingerprint, fingerprint_u64};
use crate::template::Vars;

/// The sample an alert is explained by.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SampleRef<'a> {
    pub(crate) timestamp_ms: i64,
    pub(crate) value: f64,
    pub(crate) score: &'a Score,
    pub(crate) season_period_ms: Option<i64>,
    pub(crate) last_change_ms: Option<i64>,
}

/// The event for a transition of `state` at `sample`.
pub(crate) fn event(
    rules: &CompiledAlerts,
    rule: &CompiledRule,
    state: &mut RuleState,
    series: &Labels,
    sample: &SampleRef<'_>,
    transition: Transition,
) -> AlertEvent {
    let ts = sample.timestamp_ms;
    let (kind, alert, replaces) = match transition {
        Transition::Fire => (
            EventKind::Firing,
            alert(
                rules,
                rule,
                state,
                series,
                sample,
                state.notified_level,
                None,
            ),
            None,
        ),
        Transition::Update { old_level } => {
            let alert = alert(
                rules,
                rule,
                state,
                series,
                sample,
                state.notified_level,
                None,
            );
            let replaces = (rule.level_name(old_level) != rule.level_name(state.notified_level))
                .then(|| alert_at_level(rules, rule, state, series, sample, old_level, ts));
            (EventKind::Updated, alert, replaces)
        }
        Transition::Resolve => (
            EventKind::Resolved,
            alert(
                rules,
                rule,
                state,
                series,
                sample,
                state.notified_level,
                Some(ts),
            ),
            None,
        ),
    };
    AlertEvent {
        kind,
        alert,
        replaces,
    }
}

fn alert_at_level(
    rules: &CompiledAlerts,
    rule: &CompiledRule,
    state: &mut RuleState,
    series: &Labels,
    sample: &SampleRef<'_>,
    level: u8,
    ends_at_ms: i64,
) -> Alert {
    alert(rules, rule, state, series, sample, level, Some(ends_at_ms))
}

/// The alert of `state` at severity `level`; resolved when `ends_at_ms` is given. The rule's
/// labels are rendered at the first alert of the episode and kept in `state`.
pub(crate) fn alert(
    rules: &CompiledAlerts,
    rule: &CompiledRule,
    state: &mut RuleState,
    series: &Labels,
    sample: &SampleRef<'_>,
    level: u8,
    ends_at_ms: Option<i64>,
) -> Alert {
    let series_map: BTreeMap<String, String> = series
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let mut labels = series_map.clone();
    if let Some(metric) = labels.remove("__name__")
        && !labels.contains_key("metric")
    {
        labels.insert("metric".into(), metric);
    }
    let severity = rule.level_name(level).to_string();
    let score = sample.score;
    let deviation = sample.value - score.expected;
    let relative = relative_deviation(sample.value, score.expected);
    let mut vars = Vars {
        labels: &labels,
        value: sample.value,
        expected: score.expected,
        lower: score.lower,
        upper: score.upper,
        score: score.score,
        threshold: state.threshold(),
        peak_score: state.peak_score,
        deviation,
        relative_deviation: relative,
        rule: &rule.name,
        severity: &severity,
        season_period_ms: sample.season_period_ms,
        change_point_ms: sample.last_change_ms,
        timestamp_ms: sample.timestamp_ms,
    };
    let context = minijinja::Value::from(vars.map());
    let rendered = state.labels.get_or_insert_with(|| {
        rule.labels
            .iter()
            .map(|(name, id)| (name.clone(), rules.templates.render(id, &context)))
            .collect()
    });
    let mut labels = labels.clone();
    labels.extend(rendered.iter().cloned());
    labels.insert("alertname".into(), rule.name.to_string());
    labels.insert("severity".into(), severity.clone());

    vars.labels = &labels;
    let context = minijinja::Value::from(vars.map());
    let mut annotations: BTreeMap<String, String> = rule
        .annotations
        .iter()
        .map(|(name, id)| (name.clone(), rules.templates.render(id, &context)))
        .collect();
    let explanation = Explanation {
        timestamp_ms: sample.timestamp_ms,
        value: sample.value,
        expected: score.expected,
        lower: score.lower,
        upper: score.upper,
        score: score.score,
        threshold: state.threshold(),
        deviation,
        relative_deviation: relative,
        direction: if deviation > 0.0 {
            Deviation::Up
        } else if deviation < 0.0 {
            Deviation::Down
        } else {
            Deviation::None
        },
        contributions: score
            .contributions
            .iter()
            .map(|c| ModelScore {
                model: c.model.as_str().to_string(),
                score: c.score,
            })
            .collect(),
        change_point_ms: sample.last_change_ms,
        season_period_ms: sample.season_period_ms,
        rule: rule.name.to_string(),
        peak_score: state.peak_score,
        peak_deviation: state.peak_deviation,
        series_url: crate::alert::series_url(&rules.external_url, &series_map),
    };
    annotations
        .entry("summary".into())
        .or_insert_with(|| default_summary(series, &explanation));
    annotations
        .entry("description".into())
        .or_insert_with(|| default_description(&explanation, score));
    let identity = fingerprint_u64(labels.iter().filter(|(name, _)| *name != "severity"));
    Alert {
        id: format!("{identity:016x}-{}", state.starts_at_ms),
        fingerprint: fingerprint(&labels),
        rule: rule.name.to_string(),
        labels,
        annotations,
        state: if ends_at_ms.is_some() {
            AlertState::Resolved
        } else {
            AlertState::Firing
        },
        starts_at_ms: state.starts_at_ms,
        ends_at_ms,
        active_at_ms: state.active_at_ms,
        flapping: state.flapping,
        series: series_map,
        explanation,
    }
}

/// A number with at most four decimals, or `unknown`.
fn num(x: f64) -> String {
    if !x.is_finite() {
        return "unknown".into();
    }
    let text = format!("{x:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

fn default_summary(series: &Labels, e: &Explanation) -> String {
    let side = match e.direction {
        Deviation::Up => "above",
        Deviation::Down => "below",
        Deviation::None => "at",
    };
    format!(
        "{series} is {} ({side} the expected {})",
        num(e.value),
        num(e.expected)
    )
}

fn default_description(e: &Explanation, score: &Score) -> String {
    let strongest = score
        .contributions
        .strongest()
        .map_or("none".to_string(), |c| c.model.as_str().to_string());
    format!(
        "Anomaly score {} (threshold {}, peak {}); normal band [{}, {}]; deviation {}; strongest model: {strongest}.",
        num(e.score),
        num(e.threshold),
        num(e.peak_score),
        num(e.lower),
        num(e.upper),
        num(e.deviation),
    )
}
