//! The alert stage of `omen serve` across a restart, without Alertmanager: an alert that was
//! firing when Omen stopped is restored, and resolved if its series never comes back.

use std::time::Duration;

use crate::support::capture::Capture;
use crate::support::http::{self, V1_HEADERS};
use crate::support::process::wait_until;
use crate::support::server::Server;
use omen_remote_write::{BodyEncoder, MetricType, Protocol, SeriesSamples, ValidatedLabels};
use serde_json::Value;

fn history(omen: &Server) -> Vec<String> {
    let text = http::get(omen.addr, "/api/v1/alerts").unwrap().text();
    let json: Value = serde_json::from_str(&text).unwrap();
    let data = json["data"].as_array().unwrap_or_else(|| panic!("{text}"));
    data.iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

/// The engine's snapshot holds the series: it expires after its time to live, and that ends
/// the restored alert.
#[test]
fn a_restored_alert_whose_series_never_returns_is_resolved_after_the_series_ttl() {
    restored_alert_resolves(false);
}

/// Without the snapshot (lost, or written before the series existed) nothing in the engine
/// remembers the series; the hub resolves the alert when the time to live has passed.
#[test]
fn a_restored_alert_is_resolved_even_when_the_engine_forgot_its_series() {
    restored_alert_resolves(true);
}

fn restored_alert_resolves(lose_snapshot: bool) {
    let dir = tempfile::tempdir().unwrap();
    let hook = Capture::start();
    let config = dir.path().join("omen.toml");
    std::fs::write(
        &config,
        format!(
            "[live]\nseries_ttl = \"3s\"\n\n[[alert.rules]]\nname = \"Gone\"\n\n[alert.grouping]\n\
             group_wait = \"0s\"\ngroup_interval = \"1s\"\n\n[[notify.channels]]\nname = \"hook\"\nurl = \"{}\"\n",
            hook.url("/hook")
        ),
    )
    .unwrap();
    let mut omen = Server::start(&dir.path().join("data"), Some(&config));
    let now = omen_notify::now_ms();
    let samples: Vec<(i64, f64)> = (0..200)
        .map(|i| (now - (200 - i) * 15_000, 1.0 + (i % 5) as f64 * 0.01))
        .chain([(now, 50.0)])
        .collect();
    let series = [SeriesSamples {
        labels: ValidatedLabels::new([("__name__", "queue_depth"), ("instance", "a")]).unwrap(),
        samples,
        metric_type: Some(MetricType::Gauge),
    }];
    let body = BodyEncoder::new()
        .encode(Protocol::V1, &series, &[])
        .to_vec();
    let response = http::request(omen.addr, "POST", "/api/v1/write", &V1_HEADERS, &body).unwrap();
    assert_eq!(response.status, 204);
    wait_until("the alert to fire", Duration::from_secs(10), || {
        history(&omen) == ["firing"]
    });
    omen.stop();
    if lose_snapshot {
        std::fs::remove_file(omen.data_dir.join("live-state.bin")).unwrap();
    }

    // Restarted, the alert is firing again without a second `firing` event, and once the
    // series' time to live has passed without it, it is resolved and the webhook says so.
    omen.restart();
    let active = http::get(omen.addr, "/api/v1/alerts/active")
        .unwrap()
        .text();
    assert!(active.contains("\"Gone\""), "{active}");
    wait_until(
        "the restored alert to resolve",
        Duration::from_secs(15),
        || history(&omen) == ["resolved", "firing"],
    );
    hook.wait_for("/hook", Duration::from_secs(10), |r| {
        r.json()["status"] == "resolved"
    });
    let active = http::get(omen.addr, "/api/v1/alerts/active")
        .unwrap()
        .text();
    assert!(!active.contains("\"Gone\""), "{active}");
    omen.stop();
}
