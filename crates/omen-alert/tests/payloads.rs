//! Payload shapes against captured Alertmanager 0.25 / Prometheus 2.42 traffic
//! (`tests/fixtures/`, copied from `shared/fixtures/alertmanager/`, see its README).

use std::collections::BTreeMap;
use std::time::Duration;

use omen_alert::alertmanager::{
    EXPLANATION_ANNOTATION, PostableAlert, postable_alerts, postable_body,
};
use omen_alert::webhook::{WebhookPayload, payload};
use omen_alert::{Alert, AlertState, Deviation, Explanation, ModelScore, fingerprint};
use serde_json::Value;

const WEBHOOK: &str = include_str!("fixtures/webhook-payload.json");
const WEBHOOK_RESOLVED: &str = include_str!("fixtures/webhook-payload-resolved.json");
const WEBHOOK_FROM_PROMETHEUS: &str = include_str!("fixtures/webhook-payload-from-prometheus.json");
const PROMETHEUS_POST: &str = include_str!("fixtures/prometheus-alerts-post.json");

/// 2026-11-21T10:28:39Z, the start of the hand-posted fixture alert.
const RW_START_MS: i64 = 1_795_256_919_000;
/// 2026-11-21T10:29:09.761Z, the start of Prometheus' `AlwaysFiring`.
const ALWAYS_START_MS: i64 = 1_795_256_949_761;

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fn alert(
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    starts_at_ms: i64,
    ends_at_ms: Option<i64>,
    url: &str,
) -> Alert {
    Alert {
        id: format!("{}-{starts_at_ms}", fingerprint(&labels)),
        fingerprint: fingerprint(&labels),
        rule: labels["alertname"].clone(),
        annotations,
        state: if ends_at_ms.is_some() {
            AlertState::Resolved
        } else {
            AlertState::Firing
        },
        starts_at_ms,
        ends_at_ms,
        active_at_ms: starts_at_ms,
        flapping: false,
        series: map(&[("__name__", "up"), ("job", "rw")]),
        explanation: Explanation {
            timestamp_ms: starts_at_ms,
            value: 0.0,
            expected: 1.0,
            lower: 0.9,
            upper: 1.1,
            score: 0.99,
            threshold: 0.5,
            deviation: -1.0,
            relative_deviation: -1.0,
            direction: Deviation::Down,
            contributions: vec![ModelScore {
                model: "level".into(),
                score: 0.99,
            }],
            change_point_ms: None,
            season_period_ms: Some(86_400_000),
            rule: labels["alertname"].clone(),
            peak_score: 0.99,
            peak_deviation: 1.0,
            series_url: url.into(),
        },
        labels,
    }
}

/// The receiver-down alert of `webhook-payload*.json`.
fn receiver_down(ends_at_ms: Option<i64>) -> Alert {
    alert(
        map(&[
            ("alertname", "RemoteWriteReceiverDown"),
            ("instance", "127.0.0.1:9201"),
            ("service", "rw-receiver"),
            ("severity", "critical"),
        ]),
        map(&[
            (
                "description",
                "Fixture alert posted by hand to Alertmanager 0.25 /api/v2/alerts.",
            ),
            ("summary", "remote-write receiver is not accepting writes"),
        ]),
        RW_START_MS,
        ends_at_ms,
        "http://127.0.0.1:9090/graph?g0.expr=up%7Bjob%3D%22rw%22%7D+%3D%3D+0",
    )
}

/// Our payload as JSON without the `omen` objects Alertmanager does not have.
fn without_omen(payload: &WebhookPayload) -> Value {
    let mut value = serde_json::to_value(payload).unwrap();
    for alert in value["alerts"].as_array_mut().unwrap() {
        assert!(
            alert.as_object_mut().unwrap().remove("omen").is_some(),
            "every alert carries `omen`"
        );
    }
    value
}

#[test]
fn alertmanagers_webhooks_read_into_our_structs_and_back_byte_for_byte() {
    for (name, text) in [
        ("webhook-payload", WEBHOOK),
        ("webhook-payload-resolved", WEBHOOK_RESOLVED),
    ] {
        let parsed: WebhookPayload =
            serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            serde_json::to_string(&parsed).unwrap(),
            text.trim_end(),
            "{name}"
        );
    }
    // Go escapes `&` as \u0026; the JSON is the same.
    let parsed: WebhookPayload = serde_json::from_str(WEBHOOK_FROM_PROMETHEUS).unwrap();
    let ours: Value = serde_json::to_value(&parsed).unwrap();
    assert_eq!(
        ours,
        serde_json::from_str::<Value>(WEBHOOK_FROM_PROMETHEUS).unwrap()
    );
}

#[test]
fn our_webhook_equals_alertmanagers_for_the_same_alert() {
    let group = map(&[("alertname", "RemoteWriteReceiverDown")]);
    for (fixture, ends_at_ms) in [
        (WEBHOOK, None),
        (WEBHOOK_RESOLVED, Some(RW_START_MS + 10_000)),
    ] {
        let alert = receiver_down(ends_at_ms);
        assert_eq!(
            alert.fingerprint, "d05e226feec50e4e",
            "Alertmanager's own fingerprint"
        );
        let ours = payload("capture", &group, &[alert], "http://vm:9093");
        let want: Value = serde_json::from_str(fixture).unwrap();
        assert_eq!(without_omen(&ours), want);
        let omen = &serde_json::to_value(&ours).unwrap()["alerts"][0]["omen"];
        assert_eq!(omen["direction"], "down");
        assert_eq!(omen["contributions"][0]["model"], "level");
    }
}

#[test]
fn our_post_to_alertmanager_has_prometheus_shape_and_times() {
    let theirs: Vec<PostableAlert> = serde_json::from_str(PROMETHEUS_POST).unwrap();
    let theirs_json: Value = serde_json::from_str(PROMETHEUS_POST).unwrap();
    let always = alert(
        map(&[("alertname", "AlwaysFiring"), ("severity", "none")]),
        map(&[("summary", "fixture alert generated by Prometheus 2.42")]),
        ALWAYS_START_MS,
        None,
        "/api/v1/series/state",
    );
    assert_eq!(always.fingerprint, "8807c8e9d85cba3d");
    // Prometheus: endsAt = last evaluation + 4 × max(resend delay, interval) = start + 14 s.
    let ours = postable_alerts(
        std::slice::from_ref(&always),
        "http://omen:9310",
        Duration::from_millis(3_500),
        ALWAYS_START_MS,
    );
    assert_eq!(ours[0].labels, theirs[0].labels);
    assert_eq!(ours[0].starts_at, theirs[0].starts_at);
    assert_eq!(ours[0].ends_at, theirs[0].ends_at);
    assert_eq!(
        ours[0].annotations["summary"],
        theirs[0].annotations["summary"]
    );
    assert_eq!(
        ours[0].generator_url,
        "http://omen:9310/api/v1/series/state?match[]=%7B__name__%3D%22up%22%2Cjob%3D%22rw%22%7D"
    );
    let explanation: Explanation =
        serde_json::from_str(&ours[0].annotations[EXPLANATION_ANNOTATION]).unwrap();
    assert_eq!(explanation, always.explanation);

    // The same keys, no status, and the body is a JSON array.
    let body: Value = serde_json::from_slice(&postable_body(
        &[always],
        "",
        Duration::from_secs(60),
        ALWAYS_START_MS,
    ))
    .unwrap();
    let keys = |v: &Value| {
        v[0].as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&body), keys(&theirs_json));
    assert_eq!(body[0]["generatorURL"], "/api/v1/series/state");
    assert_eq!(body[0]["endsAt"], "2026-11-21T10:33:09.761Z");

    // A resolved alert carries its real end, with milliseconds.
    let resolved = postable_alerts(
        &[receiver_down(Some(RW_START_MS + 10_000))],
        "",
        Duration::from_secs(60),
        RW_START_MS + 99_000,
    );
    assert_eq!(
        (resolved[0].starts_at.as_str(), resolved[0].ends_at.as_str()),
        ("2026-11-21T10:28:39.000Z", "2026-11-21T10:28:49.000Z")
    );
}
