//! `omen serve` over real HTTP: the remote-write endpoint's answers to real Prometheus bodies
//! and to bad ones, the metrics page, the JSON API, authentication, and a restart that keeps
//! the learned state.

use std::path::Path;

use crate::support::http::{self, Response, V1_HEADERS};
use crate::support::server::{Server, metric_in};
use omen_remote_write::{BodyEncoder, MetricType, Protocol, SeriesSamples, ValidatedLabels};

/// The bodies a real Prometheus 2.42 sent (copied from ../shared/fixtures/remote-write).
fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/omen-remote-write/tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const V2_HEADERS: [(&str, &str); 3] = [
    (
        "Content-Type",
        "application/x-protobuf;proto=io.prometheus.write.v2.Request",
    ),
    ("Content-Encoding", "snappy"),
    ("X-Prometheus-Remote-Write-Version", "2.0.0"),
];

/// A bad request: what it is, its headers and body, and the status it must get.
type BadRequest = (
    &'static str,
    Vec<(&'static str, &'static str)>,
    Vec<u8>,
    u16,
);

fn post(server: &Server, headers: &[(&str, &str)], body: &[u8]) -> Response {
    http::request(server.addr, "POST", "/api/v1/write", headers, body).expect("POST")
}

/// `count` gauges of job `job`, one sample each at `t`, named `g_<i>`.
fn gauges(job: &str, count: usize, t: i64, value: f64) -> Vec<SeriesSamples> {
    (0..count)
        .map(|i| SeriesSamples {
            labels: ValidatedLabels::new([("__name__", format!("g_{i}").as_str()), ("job", job)])
                .unwrap(),
            samples: vec![(t, value + i as f64)],
            metric_type: Some(MetricType::Gauge),
        })
        .collect()
}

#[test]
fn real_prometheus_bodies_are_accepted_and_bad_ones_refused_with_the_spec_codes() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), None);

    // Every body a real Prometheus sent: 204, samples counted.
    let mut samples = 0.0;
    for (name, count) in [
        ("prom-2.42-node-exporter-1.bin", 31.0),
        ("prom-2.42-node-exporter-2.bin", 62.0),
        ("prom-2.42-node-exporter-3-metadata.bin", 0.0),
        ("prom-2.42-node-exporter-4-stale.bin", 36.0),
        ("prom-2.42-selfscrape-500.bin", 500.0),
    ] {
        let response = post(&server, &V1_HEADERS, &fixture(name));
        assert_eq!(response.status, 204, "{name}: {}", response.text());
        assert!(response.body.is_empty(), "{name}: a 204 has no body");
        samples += count;
    }
    let page = http::get(server.addr, "/metrics").unwrap().text();
    assert_eq!(
        metric_in(&page, "omen_remote_write_samples_written_total"),
        Some(samples),
        "{page}"
    );
    assert_eq!(
        metric_in(
            &page,
            "omen_remote_write_requests_total{protocol=\"1.0\",code=\"204\"}"
        ),
        Some(5.0)
    );
    assert_eq!(
        metric_in(&page, "omen_remote_write_metadata_received_total"),
        Some(18.0)
    );
    assert!(page.ends_with("# EOF\n"));

    // Bad requests: the code the spec and the compliance suite ask for, and a message.
    let garbage = b"this is not snappy".to_vec();
    let mut huge_claim = vec![0xff, 0xff, 0xff, 0xff, 0x0f]; // varint: 4 GiB decoded
    huge_claim.extend_from_slice(&[0; 16]);
    let cases: [BadRequest; 5] = [
        (
            "JSON is not remote-write",
            vec![("Content-Type", "application/json")],
            b"{}".to_vec(),
            415,
        ),
        (
            "gzip is not snappy",
            vec![
                ("Content-Type", "application/x-protobuf"),
                ("Content-Encoding", "gzip"),
            ],
            fixture("prom-2.42-node-exporter-1.bin"),
            415,
        ),
        ("garbage", V1_HEADERS.to_vec(), garbage, 400),
        (
            "a snappy header claiming 4 GiB",
            V1_HEADERS.to_vec(),
            huge_claim,
            413,
        ),
        (
            "a truncated body",
            V1_HEADERS.to_vec(),
            fixture("prom-2.42-selfscrape-500.bin")[..5000].to_vec(),
            400,
        ),
    ];
    for (name, headers, body, status) in cases {
        let response = post(&server, &headers, &body);
        assert_eq!(response.status, status, "{name}: {}", response.text());
        assert!(!response.text().trim().is_empty(), "{name}: no message");
        assert!(!response.text().trim().contains('\n'), "{name}: one line");
    }

    // A partial write: the valid series are kept, the bad one is named, 400.
    // (Encoded through the prost structs: the encoder only takes valid label sets.)
    use crate::support::compliance::v1_series;
    use omen_remote_write::proto::v1;
    use prost::Message;
    let series = |labels: &[(&str, &str)]| v1_series(labels, 1.0, 1_000);
    let request = v1::WriteRequest {
        timeseries: vec![
            series(&[("__name__", "p_0"), ("job", "partial")]),
            series(&[("__name__", "p_1"), ("job", "partial")]),
            series(&[("job", "partial")]),
        ],
        ..Default::default()
    };
    let body = omen_remote_write::compress(&request.encode_to_vec());
    let response = post(&server, &V1_HEADERS, &body);
    assert_eq!(response.status, 400);
    assert!(
        response.text().contains("missing_metric_name"),
        "{}",
        response.text()
    );

    // Remote-write 2.0: 204 and the written headers.
    let body = BodyEncoder::new()
        .encode(Protocol::V2, &gauges("v2", 4, 1_000, 1.0), &[])
        .to_vec();
    let response = post(&server, &V2_HEADERS, &body);
    assert_eq!(response.status, 204, "{}", response.text());
    assert_eq!(
        response.header("X-Prometheus-Remote-Write-Samples-Written"),
        Some("4")
    );
    assert_eq!(
        response.header("X-Prometheus-Remote-Write-Histograms-Written"),
        Some("0")
    );
    // ... also on a refusal.
    let response = post(&server, &V2_HEADERS, b"garbage");
    assert_eq!(response.status, 400);
    assert_eq!(
        response.header("X-Prometheus-Remote-Write-Samples-Written"),
        Some("0")
    );

    let page = http::get(server.addr, "/metrics").unwrap().text();
    for (reason, want) in [
        ("unsupported_content_type", 1.0),
        ("unsupported_content_encoding", 1.0),
        ("decoded_too_large", 1.0),
    ] {
        let line = format!("omen_remote_write_rejected_requests_total{{reason=\"{reason}\"}}");
        assert_eq!(metric_in(&page, &line), Some(want), "{line}\n{page}");
    }
    assert_eq!(
        metric_in(
            &page,
            "omen_remote_write_invalid_series_total{reason=\"missing_metric_name\"}"
        ),
        Some(1.0)
    );
}

/// A page of many series is sent in parts (64 KiB each): every series is on it once per
/// family, and it ends with `# EOF`.
#[test]
fn a_page_of_many_parts_lists_every_series_once() {
    const SERIES: usize = 3000;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), None);
    let mut encoder = BodyEncoder::new();
    let body = encoder
        .encode(
            Protocol::V1,
            &gauges("big", SERIES, 1_700_000_000_000, 1.0),
            &[],
        )
        .to_vec();
    assert_eq!(post(&server, &V1_HEADERS, &body).status, 204);
    let mut page = String::new();
    for _ in 0..100 {
        page = http::get(server.addr, "/metrics").unwrap().text();
        if page.matches("omen_anomaly_score{").count() == SERIES {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(page.len() > 10 * 64 * 1024, "{} bytes", page.len());
    assert!(page.ends_with("# EOF\n"));
    assert_eq!(page.matches("# EOF").count(), 1);
    for family in [
        "omen_anomaly_score",
        "omen_expected",
        "omen_lower",
        "omen_upper",
        "omen_warming_up",
    ] {
        let mut seen: Vec<&str> = page
            .lines()
            .filter(|l| l.starts_with(&format!("{family}{{")))
            .filter_map(|l| l.split("metric=\"").nth(1)?.split('"').next())
            .collect();
        assert_eq!(seen.len(), SERIES, "{family}");
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), SERIES, "{family}: a series twice");
        assert_eq!(
            page.matches(&format!("# TYPE {family} gauge")).count(),
            1,
            "{family}"
        );
    }
}

#[test]
fn scores_are_exported_and_queried_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(&dir.path().join("data"), None);
    let mut encoder = BodyEncoder::new();
    // Two gauges of two jobs, 150 samples each: past the warm-up of 100.
    for i in 0..150 {
        let t = 1_700_000_000_000 + i * 60_000;
        let mut batch = gauges("api", 1, t, 10.0 + (i % 7) as f64);
        batch.extend(gauges("db", 1, t, 50.0 + (i % 5) as f64));
        let body = encoder.encode(Protocol::V1, &batch, &[]).to_vec();
        assert_eq!(post(&server, &V1_HEADERS, &body).status, 204);
    }
    let wait_for = |server: &Server, path: &str, want: &str| -> String {
        for _ in 0..100 {
            let text = http::get(server.addr, path).unwrap().text();
            if text.contains(want) {
                return text;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("{path} never showed {want}");
    };
    // The shards publish their views shortly after scoring.
    let page = wait_for(
        &server,
        "/metrics",
        "omen_anomaly_score{metric=\"g_0\",job=\"db\"}",
    );
    assert!(
        page.contains("omen_upper{metric=\"g_0\",job=\"api\"}"),
        "{page}"
    );
    assert!(
        page.contains("omen_warming_up{metric=\"g_0\",job=\"api\"} 0"),
        "{page}"
    );

    let state = wait_for(
        &server,
        "/api/v1/series/state?match[]=%7Bjob%3D%22api%22%7D",
        "\"samples_learned\":150",
    );
    let json: serde_json::Value = serde_json::from_str(&state).unwrap();
    let data = json["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{state}");
    assert_eq!(data[0]["labels"]["job"], "api");
    assert_eq!(data[0]["status"], "ready");
    let bad = http::get(server.addr, "/api/v1/series?match[]=%7Bjob%3D%7D").unwrap();
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("bad_data"), "{}", bad.text());

    // A restart keeps what each series learned.
    let log = server.stop();
    assert!(log.contains("final snapshot written"), "{log}");
    server.restart();
    let t = 1_700_000_000_000 + 150 * 60_000;
    let body = encoder
        .encode(Protocol::V1, &gauges("api", 1, t, 12.0), &[])
        .to_vec();
    assert_eq!(post(&server, &V1_HEADERS, &body).status, 204);
    wait_for(
        &server,
        "/api/v1/series/state?match[]=%7Bjob%3D%22api%22%7D",
        "\"samples_learned\":151",
    );
    let log = server.stop();
    assert!(log.contains("restored the learned state"), "{log}");
}

/// The receiver queues each series as it is decoded, before a 1.0 request's metadata (sent
/// after the series) is read: the kinds must still come from that metadata, and from 2.0's own
/// types.
#[test]
fn metadata_in_the_same_request_gives_its_series_their_kind() {
    use omen_remote_write::Metadata;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), None);
    let series = |name: &str, metric_type| SeriesSamples {
        labels: ValidatedLabels::new([("__name__", name), ("job", "kinds")]).unwrap(),
        samples: vec![(1_700_000_000_000, 1.0), (1_700_000_060_000, 2.0)],
        metric_type,
    };
    let metadata = Metadata {
        metric_family_name: "jobs_done".into(),
        metric_type: MetricType::Counter,
        help: String::new(),
        unit: String::new(),
    };
    let mut encoder = BodyEncoder::new();
    let v1 = encoder
        .encode(
            Protocol::V1,
            &[series("jobs_done", None), series("temperature", None)],
            &[metadata],
        )
        .to_vec();
    assert_eq!(post(&server, &V1_HEADERS, &v1).status, 204);
    let v2 = encoder
        .encode(
            Protocol::V2,
            &[series("queue_total", Some(MetricType::Gauge))],
            &[],
        )
        .to_vec();
    assert_eq!(post(&server, &V2_HEADERS, &v2).status, 204);
    let path = "/api/v1/series/state?match[]=%7Bjob%3D%22kinds%22%7D";
    let mut kinds = Vec::new();
    for _ in 0..100 {
        let json: serde_json::Value =
            serde_json::from_str(&http::get(server.addr, path).unwrap().text()).unwrap();
        kinds = json["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["labels"]["__name__"].as_str().unwrap_or("").to_owned(),
                    s["kind"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        if kinds.len() == 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    kinds.sort();
    let want = [
        ("jobs_done", "counter"),
        ("queue_total", "gauge"),
        ("temperature", "unknown"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(n, k)| (n.to_string(), k.to_string()))
        .collect();
    assert_eq!(kinds, want);
}

#[test]
fn the_configured_token_and_body_limit_are_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("omen.toml");
    std::fs::write(dir.path().join("token"), "s3cret\n").unwrap();
    std::fs::write(
        &config,
        "[server]\nmax_body_bytes = 4096\n\n[server.auth]\nbearer_token_file = \"token\"\n",
    )
    .unwrap();
    let server = Server::start(&dir.path().join("data"), Some(&config));
    let body = fixture("prom-2.42-node-exporter-1.bin");
    let response = post(&server, &V1_HEADERS, &body);
    assert_eq!(response.status, 401);
    assert!(response.header("WWW-Authenticate").is_some());
    assert_eq!(http::get(server.addr, "/metrics").unwrap().status, 401);
    let mut headers = V1_HEADERS.to_vec();
    headers.push(("Authorization", "Bearer s3cret"));
    assert_eq!(post(&server, &headers, &body).status, 204);
    // A body over server.max_body_bytes (4 KiB here) is refused before it is decoded.
    let large = fixture("prom-2.42-selfscrape-500.bin");
    assert!(large.len() > 4096);
    let response = post(&server, &headers, &large);
    assert_eq!(response.status, 413, "{}", response.text());
    assert!(
        response.text().contains("server.max_body_bytes"),
        "{}",
        response.text()
    );
    assert_eq!(http::get(server.addr, "/-/healthy").unwrap().status, 200);
    assert_eq!(http::get(server.addr, "/-/ready").unwrap().status, 200);
}

#[test]
fn a_busy_port_is_an_error_that_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), None);
    let address = server.addr.to_string();
    let other = dir.path().join("other");
    let run = crate::support::omen([
        "serve",
        "--listen",
        address.as_str(),
        "--data-dir",
        other.to_str().unwrap(),
    ]);
    assert!(!run.success);
    assert!(
        run.stderr.contains(&format!("cannot listen on {address}")),
        "{}",
        run.stderr
    );
    assert!(
        !other.exists(),
        "nothing is created before the port is taken"
    );
}
