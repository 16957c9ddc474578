//! End to end with the real Alertmanager (Debian's `prometheus-alertmanager`), started by hand
//! on 127.0.0.1, and a capture server of the test's own standing in for three targets:
//! Alertmanager's webhook receiver, Omen's direct webhook, and a remediation endpoint.
//!
//! 1. Omen learns a calm series, then sees an obvious incident: its alert reaches Alertmanager
//!    (`POST /api/v2/alerts`), whose webhook carries Omen's labels and explanation, and Omen's
//!    own webhook sends the same shape (version 4) with the explanation inline.
//! 2. The remediation target answers 500; Omen is stopped and started again meanwhile; the
//!    alert is not fired a second time; once the target recovers, each idempotency key is
//!    accepted exactly once, with a valid signature.
//! 3. The series calms down: the resolved notification reaches Alertmanager's webhook.
//! 4. Feedback: a false positive makes an adjustment that can be listed and undone.
//!
//! `.ci/run` installs the package and sets `OMEN_E2E_REQUIRED=1`, so there a missing binary
//! fails the test; elsewhere the test is skipped with a message.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::capture::Capture;
use crate::support::http::{self, V1_HEADERS};
use crate::support::process::{Process, find, wait_until};
use crate::support::server::{Server, free_port};
use omen_remote_write::{BodyEncoder, MetricType, Protocol, SeriesSamples, ValidatedLabels};
use serde_json::Value;

const SECRET: &str = "e2e-remediation-secret";
const STEP_MS: i64 = 15_000;

fn alertmanager_config(hook: &Capture) -> String {
    format!(
        "route:\n  receiver: capture\n  group_by: ['alertname']\n  group_wait: 1s\n  group_interval: 2s\n  \
         repeat_interval: 1h\nreceivers:\n  - name: capture\n    webhook_configs:\n      - url: {}\n        \
         send_resolved: true\n",
        hook.url("/am-hook")
    )
}

fn omen_config(alertmanager: SocketAddr, hook: &Capture) -> String {
    format!(
        r#"
[server]
alert_resend_interval = "2s"

[[alert.rules]]
name = "ShopLatencyAnomaly"
match = ['shop_latency_seconds']
keep_firing_for = "1m"
labels = {{ team = "checkout" }}
annotations = {{ summary = "{{{{ labels.metric }}}} at {{{{ value }}}} (expected {{{{ expected }}}})" }}

[alert.grouping]
group_wait = "1s"
group_interval = "2s"

[[alert.actions]]
name = "restart-checkout"
match = ['{{team="checkout"}}']
channel = "remediate"

[[notify.channels]]
name = "alertmanager"
kind = "alertmanager"
url = "http://{alertmanager}/api/v2/alerts"

[[notify.channels]]
name = "direct"
kind = "webhook"
url = "{direct}"

[[notify.channels]]
name = "remediate"
kind = "action"
url = "{remediate}"
secret = "{SECRET}"
retry = {{ initial = "100ms", max = "500ms" }}
"#,
        direct = hook.url("/direct"),
        remediate = hook.url("/remediate"),
    )
}

/// Samples `from..to` of the series: calm noise around 0.2 s, or 4 s inside `spike`.
fn send(
    omen: &Server,
    encoder: &mut BodyEncoder,
    base_ms: i64,
    range: std::ops::Range<i64>,
    spike: bool,
) {
    for chunk in range.collect::<Vec<_>>().chunks(50) {
        let samples = chunk
            .iter()
            .map(|&i| {
                let noise = ((i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40) as f64
                    / (1u64 << 24) as f64;
                (
                    base_ms + i * STEP_MS,
                    if spike {
                        4.0 + noise
                    } else {
                        0.2 + 0.02 * noise
                    },
                )
            })
            .collect();
        let series = vec![SeriesSamples {
            labels: ValidatedLabels::new([
                ("__name__", "shop_latency_seconds"),
                ("instance", "web-1"),
            ])
            .unwrap(),
            samples,
            metric_type: Some(MetricType::Gauge),
        }];
        let body = encoder.encode(Protocol::V1, &series, &[]).to_vec();
        let response =
            http::request(omen.addr, "POST", "/api/v1/write", &V1_HEADERS, &body).unwrap();
        assert_eq!(response.status, 204, "{}", response.text());
    }
}

fn get_json(omen: &Server, path: &str) -> Value {
    let response = http::get(omen.addr, path).unwrap();
    assert_eq!(response.status, 200, "{path}: {}", response.text());
    serde_json::from_str(&response.text()).unwrap()
}

fn post_json(omen: &Server, path: &str, body: &Value) -> (u16, Value) {
    let body = serde_json::to_vec(body).unwrap();
    let headers = [("Content-Type", "application/json")];
    let response = http::request(omen.addr, "POST", path, &headers, &body).unwrap();
    (
        response.status,
        serde_json::from_str(&response.text()).unwrap_or(Value::Null),
    )
}

fn start_alertmanager(binary: &Path, work: &Path, hook: &Capture) -> (Process, SocketAddr) {
    std::fs::write(work.join("alertmanager.yml"), alertmanager_config(hook)).unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let log = std::fs::File::create(work.join("alertmanager.log")).unwrap();
    let process = Process(
        Command::new(binary)
            .arg(format!(
                "--config.file={}",
                work.join("alertmanager.yml").display()
            ))
            .arg(format!("--storage.path={}", work.join("am-data").display()))
            .arg(format!("--web.listen-address={addr}"))
            .arg(format!("--web.external-url=http://{addr}"))
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    wait_until("Alertmanager to be ready", Duration::from_secs(30), || {
        http::get(addr, "/-/ready").is_ok_and(|r| r.status == 200)
    });
    (process, addr)
}

#[test]
fn an_incident_pages_through_alertmanager_and_remediates_exactly_once_across_a_restart() {
    let Some(alertmanager) = find("prometheus-alertmanager") else {
        let message = "the real Alertmanager is not installed \
                       (Debian package prometheus-alertmanager; .ci/run installs it)";
        assert!(std::env::var_os("OMEN_E2E_REQUIRED").is_none(), "{message}");
        eprintln!("skipped: {message}");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let hook = Capture::start();
    hook.answer("/remediate", 500);
    let (_am, am_addr) = start_alertmanager(&alertmanager, work, &hook);
    let config = work.join("omen.toml");
    std::fs::write(&config, omen_config(am_addr, &hook)).unwrap();
    let mut omen = Server::start(&work.join("omen-data"), Some(&config));
    let mut encoder = BodyEncoder::new();
    let base_ms = omen_notify::now_ms() - 400 * STEP_MS;

    // 1. A calm series, then an obvious incident.
    send(&omen, &mut encoder, base_ms, 0..300, false);
    send(&omen, &mut encoder, base_ms, 300..304, true);
    let paged = hook.wait_for("/am-hook", Duration::from_secs(30), |r| {
        r.json()["status"] == "firing"
    });
    let page = paged.json();
    assert_eq!(page["version"], "4");
    let alert = &page["alerts"][0];
    assert_eq!(alert["labels"]["alertname"], "ShopLatencyAnomaly");
    assert_eq!(alert["labels"]["metric"], "shop_latency_seconds");
    assert_eq!(alert["labels"]["instance"], "web-1");
    assert_eq!(alert["labels"]["team"], "checkout");
    let summary = alert["annotations"]["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("shop_latency_seconds at 4"),
        "{summary}"
    );
    let explanation: Value =
        serde_json::from_str(alert["annotations"]["omen_explanation"].as_str().unwrap()).unwrap();
    assert!(
        explanation["value"].as_f64().unwrap() > 3.9,
        "{explanation}"
    );
    assert!(
        explanation["expected"].as_f64().unwrap() < 0.5,
        "{explanation}"
    );
    assert!(
        explanation["score"].as_f64().unwrap() >= 0.5,
        "{explanation}"
    );
    assert!(
        !explanation["contributions"].as_array().unwrap().is_empty(),
        "{explanation}"
    );
    let series_url = explanation["series_url"].as_str().unwrap();
    assert!(
        series_url.contains(&format!("{}/api/v1/series/state?match", omen.addr)),
        "{series_url}"
    );

    // Omen's own webhook: Alertmanager's shape, with the explanation inline.
    let direct = hook
        .wait_for("/direct", Duration::from_secs(10), |r| {
            r.json()["status"] == "firing"
        })
        .json();
    assert_eq!(direct["version"], "4");
    assert_eq!(
        direct["alerts"][0]["labels"]["alertname"],
        "ShopLatencyAnomaly"
    );
    assert!(
        direct["alerts"][0]["omen"]["score"].as_f64().unwrap() >= 0.5,
        "{direct}"
    );
    assert_eq!(direct["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");

    // 2. The remediation target fails; Omen restarts meanwhile.
    wait_until(
        "two failed remediation attempts",
        Duration::from_secs(10),
        || hook.received("/remediate").len() >= 2,
    );
    let fired = get_json(&omen, "/api/v1/alerts");
    let firing: Vec<&Value> = fired["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "firing")
        .collect();
    assert_eq!(firing.len(), 1, "{fired}");
    let alert_id = firing[0]["alert"]["id"].as_str().unwrap().to_owned();
    // The failed attempts are on /metrics, per channel (counters start again at a restart).
    let retried = omen.metric("omen_notifications_retried_total{channel=\"remediate\"}");
    assert!(retried.unwrap_or(0.0) >= 1.0, "{retried:?}");
    omen.stop();
    omen.restart();
    let active = get_json(&omen, "/api/v1/alerts/active");
    assert_eq!(active["data"][0]["id"], alert_id.as_str(), "{active}");
    hook.answer("/remediate", 200);
    hook.wait_for("/remediate", Duration::from_secs(30), |r| r.status == 200);

    // 3. Calm again for longer than keep_firing_for: resolved.
    send(&omen, &mut encoder, base_ms, 304..330, false);
    let resolved = hook
        .wait_for("/am-hook", Duration::from_secs(30), |r| {
            r.json()["status"] == "resolved"
        })
        .json();
    assert_eq!(
        resolved["alerts"][0]["labels"]["alertname"],
        "ShopLatencyAnomaly"
    );
    let history = get_json(&omen, "/api/v1/alerts");
    let kinds: Vec<&str> = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "firing").count(),
        1,
        "fired again after the restart: {kinds:?}"
    );
    assert!(kinds.contains(&"resolved"), "{kinds:?}");

    // Each idempotency key accepted exactly once, signed; never anything but 500 before.
    let attempts = hook.received("/remediate");
    let mut accepted = std::collections::BTreeMap::new();
    for attempt in &attempts {
        let key = attempt
            .header("idempotency-key")
            .expect("an Idempotency-Key")
            .to_owned();
        let timestamp: i64 = attempt.header("x-omen-timestamp").unwrap().parse().unwrap();
        let signature = attempt.header("x-omen-signature").unwrap();
        omen_notify::verify(
            SECRET.as_bytes(),
            signature,
            timestamp,
            &attempt.body,
            timestamp,
            Duration::from_secs(300),
        )
        .unwrap_or_else(|e| panic!("bad signature on {key}: {e}"));
        if attempt.status == 200 {
            *accepted.entry(key).or_insert(0) += 1;
        }
    }
    assert!(!accepted.is_empty());
    assert!(accepted.values().all(|&n| n == 1), "{accepted:?}");
    let failed_keys: std::collections::BTreeSet<_> = attempts
        .iter()
        .filter(|a| a.status == 500)
        .filter_map(|a| a.header("idempotency-key"))
        .collect();
    assert!(
        failed_keys.iter().all(|k| accepted.contains_key(*k)),
        "a failed key was never delivered"
    );

    // 4. Feedback: a false positive adjusts that series, and can be undone.
    let (status, made) = post_json(
        &omen,
        "/api/v1/feedback",
        &serde_json::json!({"alert_id": alert_id, "verdict": "false_positive", "who": "e2e", "why": "load test"}),
    );
    assert_eq!(status, 200, "{made}");
    let ids = made["data"]["adjustments"].as_array().unwrap().clone();
    assert!(!ids.is_empty(), "{made}");
    let listed = get_json(&omen, "/api/v1/adjustments");
    assert_eq!(
        listed["data"].as_array().unwrap().len(),
        ids.len(),
        "{listed}"
    );
    let (status, _) = post_json(
        &omen,
        "/api/v1/feedback",
        &serde_json::json!({"alert_id": "nope", "verdict": "true_positive"}),
    );
    assert_eq!(status, 404);
    let (status, _) = post_json(
        &omen,
        "/api/v1/feedback",
        &serde_json::json!({"alert_id": alert_id, "verdict": "maybe"}),
    );
    assert_eq!(status, 400);
    let undo = http::request(
        omen.addr,
        "DELETE",
        &format!("/api/v1/adjustments/{}", ids[0]),
        &[],
        &[],
    )
    .unwrap();
    assert_eq!(undo.status, 200, "{}", undo.text());

    // The delivery after the restart is on /metrics, per channel.
    let delivered = omen.metric("omen_notifications_delivered_total{channel=\"remediate\"}");
    assert!(delivered.unwrap_or(0.0) >= 1.0, "{delivered:?}");
    omen.stop();

    // 5. The history and the feedback, exported to Parquet.
    let events = work.join("events.parquet");
    let feedback = work.join("feedback.parquet");
    let run = crate::support::omen([
        "alerts",
        "export",
        "--data-dir",
        omen.data_dir.to_str().unwrap(),
        "--events",
        events.to_str().unwrap(),
        "--feedback",
        feedback.to_str().unwrap(),
    ]);
    assert!(run.success, "{}", run.stderr);
    let batches = crate::support::read_parquet(&events);
    let kinds: Vec<String> = batches
        .iter()
        .flat_map(|b| {
            let column = b.column_by_name("kind").unwrap();
            let strings = column
                .as_any()
                .downcast_ref::<arrow::array::StringArray>()
                .unwrap();
            strings
                .iter()
                .map(|s| s.unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(kinds, ["firing", "resolved"]);
    let rows: usize = crate::support::read_parquet(&feedback)
        .iter()
        .map(|b| b.num_rows())
        .sum();
    assert_eq!(rows, 1);
}
