//! `[[alert.actions]]`: which alerts go to which notify channel, with which body.
//!
//! An action matches an alert when any of its selectors matches the alert's labels (series
//! labels, rule labels, `alertname`, `severity`), or always when it has none, and the event is
//! one it takes (`on`: `firing` takes `Firing` and `Updated`). Its body is its template
//! rendered with the alert (see the README for the variables), or the alert as JSON.

use std::collections::BTreeMap;

use minijinja::Value;
use minijinja::value::Serde;

use crate::alert::{Alert, EventKind};
use crate::compile::CompiledAlerts;
use crate::config::ActionOn;
use crate::template::Vars;

/// One delivery an event asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionMatch {
    /// The action's name.
    pub action: String,
    /// The notify channel to send through.
    pub channel: String,
    /// The rendered body.
    pub body: String,
    /// Deterministic from (action, alert id, event), see [`Alert::idempotency_key`].
    pub idempotency_key: String,
}

/// The actions `alert`'s event of kind `kind` triggers, in config order.
pub fn matching(rules: &CompiledAlerts, alert: &Alert, kind: EventKind) -> Vec<ActionMatch> {
    let get = |name: &str| alert.labels.get(name).map(String::as_str);
    rules
        .actions
        .iter()
        .filter(|action| match (action.on, kind) {
            (ActionOn::Both, _) => true,
            (ActionOn::Firing, EventKind::Firing | EventKind::Updated) => true,
            (ActionOn::Resolved, EventKind::Resolved) => true,
            (ActionOn::Firing, EventKind::Resolved) => false,
            (ActionOn::Resolved, EventKind::Firing | EventKind::Updated) => false,
        })
        .filter(|action| {
            action.selectors.is_empty() || action.selectors.iter().any(|s| s.matches_by(get))
        })
        .map(|action| ActionMatch {
            action: action.name.clone(),
            channel: action.channel.clone(),
            body: match &action.body {
                Some(id) => rules.templates.render(id, &body_context(alert, kind)),
                None => serde_json::to_string(alert).unwrap_or_default(),
            },
            idempotency_key: alert.idempotency_key(&action.name, kind),
        })
        .collect()
}

/// The context of a body template: the rule variables plus the alert's own.
pub(crate) fn body_context(alert: &Alert, kind: EventKind) -> Value {
    let e = &alert.explanation;
    let vars = Vars {
        labels: &alert.labels,
        value: e.value,
        expected: e.expected,
        lower: e.lower,
        upper: e.upper,
        score: e.score,
        threshold: e.threshold,
        peak_score: e.peak_score,
        deviation: e.deviation,
        relative_deviation: e.relative_deviation,
        rule: &alert.rule,
        severity: alert.severity(),
        season_period_ms: e.season_period_ms,
        change_point_ms: e.change_point_ms,
        timestamp_ms: e.timestamp_ms,
    };
    let mut m: BTreeMap<String, Value> = vars.map();
    m.insert("annotations".into(), Value::from(alert.annotations.clone()));
    m.insert("alert".into(), Value::from(Serde(alert)));
    m.insert("event".into(), Value::from(kind.as_str()));
    m.insert("state".into(), Value::from(alert.state.as_str()));
    m.insert("id".into(), Value::from(alert.id.as_str()));
    m.insert(
        "fingerprint".into(),
        Value::from(alert.fingerprint.as_str()),
    );
    m.insert(
        "starts_at".into(),
        Value::from(crate::time::rfc3339_go(alert.starts_at_ms)),
    );
    m.insert(
        "ends_at".into(),
        alert.ends_at_ms.map_or(Value::from(()), |ms| {
            Value::from(crate::time::rfc3339_go(ms))
        }),
    );
    m.insert("flapping".into(), Value::from(alert.flapping));
    Value::from(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::Observation;
    use crate::testutil::{api_latency, compile, score};

    const CONFIG: &str = r#"
[[rules]]
name = "Latency"
labels = { team = "payments" }
keep_firing_for = "0s"

[[actions]]
name = "page"
match = ['{team="payments", severity="critical"}', '{job="api", instance="a:9100"}']
channel = "pagerduty"
body = '{"text": {{ ("[" ~ event ~ "] " ~ annotations.summary) | tojson }}, "score": {{ score }}, "id": {{ alert.id | tojson }}}'

[[actions]]
name = "log"
channel = "file"
on = "both"

[[actions]]
name = "close-ticket"
channel = "tickets"
on = "resolved"
body = "{{ rule }} on {{ labels.instance }} ended at {{ ends_at }} after starting at {{ starts_at }}"

[[actions]]
name = "db-only"
match = ['{job="db"}']
channel = "dba"
"#;

    fn events() -> (crate::CompiledAlerts, Vec<crate::AlertEvent>) {
        let rules = compile(CONFIG);
        let series = api_latency();
        let mut alerts = rules.for_series(&series);
        let mut events = Vec::new();
        for (t, s) in [(60_000, 0.9), (120_000, 0.1)] {
            let score = score(s);
            let obs = Observation {
                labels: &series,
                timestamp_ms: t,
                value: 110.0,
                score: &score,
                season_period_ms: None,
                last_change_ms: None,
            };
            alerts.observe(&rules, &obs, &mut events);
        }
        (rules, events)
    }

    #[test]
    fn actions_match_by_labels_and_event_and_render_their_bodies() {
        let (rules, events) = events();
        assert_eq!(events.len(), 2);
        let firing = matching(&rules, &events[0].alert, EventKind::Firing);
        let names: Vec<_> = firing
            .iter()
            .map(|m| (m.action.as_str(), m.channel.as_str()))
            .collect();
        assert_eq!(names, [("page", "pagerduty"), ("log", "file")]);
        let body: serde_json::Value = serde_json::from_str(&firing[0].body).unwrap();
        assert!(
            body["text"]
                .as_str()
                .unwrap()
                .starts_with("[firing] http_latency_seconds{"),
            "{body}"
        );
        assert_eq!(body["score"], 0.9);
        assert_eq!(body["id"], events[0].alert.id.as_str());
        // The default body is the alert's JSON.
        let back: Alert = serde_json::from_str(&firing[1].body).unwrap();
        assert_eq!(back, events[0].alert);

        let resolved = matching(&rules, &events[1].alert, EventKind::Resolved);
        let names: Vec<_> = resolved.iter().map(|m| m.action.as_str()).collect();
        assert_eq!(names, ["log", "close-ticket"]);
        assert_eq!(
            resolved[1].body,
            "Latency on a:9100 ended at 1970-01-01T00:02:00Z after starting at 1970-01-01T00:01:00Z"
        );
        let updated = matching(&rules, &events[0].alert, EventKind::Updated);
        assert_eq!(updated.len(), 2, "an update goes where firing goes");
    }

    #[test]
    fn idempotency_keys_depend_on_action_alert_and_event() {
        let (rules, events) = events();
        let key = |i: usize, kind| {
            matching(&rules, &events[i].alert, kind)
                .into_iter()
                .find(|m| m.action == "log")
                .unwrap()
                .idempotency_key
        };
        assert_eq!(key(0, EventKind::Firing), key(0, EventKind::Firing));
        assert_eq!(
            key(0, EventKind::Firing),
            events[0].alert.idempotency_key("log", EventKind::Firing)
        );
        assert_ne!(key(0, EventKind::Firing), key(1, EventKind::Resolved));
        assert_ne!(key(0, EventKind::Firing), key(0, EventKind::Updated));
        let page = matching(&rules, &events[0].alert, EventKind::Firing)[0]
            .idempotency_key
            .clone();
        assert_ne!(page, key(0, EventKind::Firing), "per action");
    }
}
