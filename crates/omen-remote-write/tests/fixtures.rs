//! Real Prometheus 2.42 request bodies (see `fixtures/README.md`) decoded and checked against
//! their golden decodes and sidecars, and re-encoded byte for byte.

use std::fs;
use std::path::{Path, PathBuf};

use omen_remote_write::{
    Limits, MetricType, Protocol, STALE_NAN_BITS, WriteBatch, decode, decode_request, decode_with,
    decompress, encode_v2, is_stale_marker,
};
use serde::Deserialize;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn read(name: &str) -> Vec<u8> {
    let path = fixtures().join(name);
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[derive(Deserialize)]
struct Sidecar {
    body_len: usize,
    decoded_protobuf_len: usize,
    request: SidecarRequest,
    summary: Summary,
}

#[derive(Deserialize)]
struct SidecarRequest {
    headers: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Summary {
    series: u64,
    samples: u64,
    exemplars: u64,
    histograms: u64,
    metadata: u64,
    stale_markers: u64,
    min_ts: Option<i64>,
    max_ts: Option<i64>,
}

#[derive(Deserialize)]
struct Expected {
    timeseries: Vec<ExpectedSeries>,
    metadata: Vec<ExpectedMetadata>,
}

#[derive(Deserialize)]
struct ExpectedSeries {
    labels: Vec<(String, String)>,
    samples: Vec<ExpectedSample>,
    exemplars: u64,
    histograms: u64,
}

#[derive(Deserialize)]
struct ExpectedSample {
    timestamp_ms: i64,
    value: Option<f64>,
    value_bits: String,
    stale: bool,
}

#[derive(Deserialize)]
struct ExpectedMetadata {
    r#type: String,
    metric_family_name: String,
    help: String,
    unit: String,
}

/// Every fixture name (the `.bin` files), sorted.
fn names() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(fixtures())
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok())
        .filter_map(|f| f.strip_suffix(".bin").map(str::to_owned))
        .collect();
    names.sort();
    assert_eq!(names.len(), 6, "{names:?}");
    names
}

fn sidecar(name: &str) -> Sidecar {
    serde_json::from_slice(&read(&format!("{name}.json"))).unwrap()
}

/// Decodes a fixture with the headers Prometheus sent with it.
fn decode_fixture(name: &str) -> WriteBatch {
    let headers = sidecar(name).request.headers;
    decode_request(
        headers.get("Content-Type").map(String::as_str),
        headers.get("Content-Encoding").map(String::as_str),
        &read(&format!("{name}.bin")),
        &Limits::default(),
    )
    .unwrap_or_else(|r| panic!("{name}: {r}"))
}

#[test]
fn every_fixture_decodes_to_its_sidecar_counts() {
    for name in names() {
        let side = sidecar(&name);
        let body = read(&format!("{name}.bin"));
        assert_eq!(body.len(), side.body_len, "{name}");
        assert_eq!(
            decompress(&body, usize::MAX).unwrap().len(),
            side.decoded_protobuf_len,
            "{name}"
        );

        let batch = decode_fixture(&name);
        assert_eq!(batch.protocol, Protocol::V1, "{name}");
        let (s, want) = (&batch.stats, &side.summary);
        assert_eq!(s.series_received, want.series, "{name}");
        assert_eq!(s.series_accepted, want.series, "{name}");
        assert_eq!(batch.series.len() as u64, want.series, "{name}");
        assert_eq!(
            (s.samples_received, s.samples_accepted),
            (want.samples, want.samples),
            "{name}"
        );
        assert_eq!(s.histograms_received, want.histograms, "{name}");
        assert_eq!(s.exemplars_received, want.exemplars, "{name}");
        assert_eq!(s.metadata_received, want.metadata, "{name}");
        assert_eq!(batch.metadata.len() as u64, want.metadata, "{name}");
        assert_eq!(s.stale_markers, want.stale_markers, "{name}");
        assert_eq!(
            s.invalid_series.total() + s.series_resorted + s.empty_label_values_dropped,
            0,
            "{name}"
        );
        let timestamps = batch
            .series
            .iter()
            .flat_map(|s| s.samples.iter().map(|&(t, _)| t));
        assert_eq!(timestamps.clone().min(), want.min_ts, "{name}");
        assert_eq!(timestamps.max(), want.max_ts, "{name}");

        let outcome = batch.outcome();
        assert_eq!((outcome.status, outcome.message), (204, None), "{name}");
        assert_eq!(outcome.samples_written, want.samples, "{name}");
    }
}

#[test]
fn golden_decodes_match_exactly() {
    let mut checked = 0;
    for name in names() {
        let Ok(text) = fs::read(fixtures().join(format!("{name}.expected.json"))) else {
            continue;
        };
        let expected: Expected = serde_json::from_slice(&text).unwrap();
        let batch = decode_fixture(&name);
        assert_eq!(batch.series.len(), expected.timeseries.len(), "{name}");
        for (i, (got, want)) in batch.series.iter().zip(&expected.timeseries).enumerate() {
            assert_eq!(
                got.labels.as_slice(),
                want.labels.as_slice(),
                "{name} series {i}"
            );
            assert_eq!(
                (want.exemplars, want.histograms),
                (0, 0),
                "{name} series {i}"
            );
            assert_eq!(got.metric_type, None, "{name} series {i}");
            assert_eq!(got.samples.len(), want.samples.len(), "{name} series {i}");
            for (&(ts, value), w) in got.samples.iter().zip(&want.samples) {
                let bits = u64::from_str_radix(w.value_bits.trim_start_matches("0x"), 16).unwrap();
                assert_eq!(ts, w.timestamp_ms, "{name} series {i}");
                assert_eq!(value.to_bits(), bits, "{name} series {i}");
                assert_eq!(is_stale_marker(value), w.stale, "{name} series {i}");
                assert_eq!(w.value.is_none(), value.is_nan(), "{name} series {i}");
            }
        }
        assert_eq!(batch.metadata.len(), expected.metadata.len(), "{name}");
        for (got, want) in batch.metadata.iter().zip(&expected.metadata) {
            assert_eq!(got.metric_family_name, want.metric_family_name, "{name}");
            assert_eq!(got.metric_type.as_str(), want.r#type, "{name}");
            assert_eq!(
                (got.help.as_str(), got.unit.as_str()),
                (want.help.as_str(), want.unit.as_str()),
                "{name}"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 4);
}

/// `prom-2.42-selfscrape-500.txt` lists every series as
/// `   n {a="b", c="d"} => value @ ts`, with raw (unescaped) values and Python's float `repr`.
#[test]
fn selfscrape_500_matches_its_text_decode_line_by_line() {
    let name = "prom-2.42-selfscrape-500";
    let batch = decode_fixture(name);
    let text = String::from_utf8(read(&format!("{name}.txt"))).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(lines.len(), batch.series.len());
    let mut ordinary_nans = 0;
    for (line, series) in lines.iter().zip(&batch.series) {
        let (head, ts) = line.rsplit_once(" @ ").unwrap();
        let (head, value) = head.rsplit_once(" => ").unwrap();
        let labels = head.trim_start().split_once(' ').unwrap().1;
        let printed: Vec<String> = series
            .labels
            .iter()
            .map(|(n, v)| format!("{n}=\"{v}\""))
            .collect();
        assert_eq!(labels, format!("{{{}}}", printed.join(", ")), "{line}");
        let [(t, v)] = series.samples[..] else {
            panic!("{line}: one sample per series")
        };
        assert_eq!(t, ts.parse::<i64>().unwrap(), "{line}");
        match value.strip_prefix("NaN(0x") {
            Some(bits) => {
                let bits = u64::from_str_radix(bits.trim_end_matches(')'), 16).unwrap();
                assert_eq!(v.to_bits(), bits, "{line}");
                assert_eq!(
                    bits, 0x7ff8_0000_0000_0001,
                    "{line}: Prometheus's ordinary NaN"
                );
                assert!(
                    !is_stale_marker(v),
                    "{line}: an ordinary NaN is not a stale marker"
                );
                ordinary_nans += 1;
            }
            None => assert_eq!(
                v.to_bits(),
                value.parse::<f64>().unwrap().to_bits(),
                "{line}"
            ),
        }
    }
    assert!(ordinary_nans > 0, "the fixture holds ordinary NaNs");
    let infinities = batch
        .series
        .iter()
        .filter(|s| s.labels.get("le") == Some("+Inf"))
        .count();
    assert!(infinities > 0, "histogram buckets with le=\"+Inf\"");
}

#[test]
fn selfscrape_metadata_matches_its_text_decode() {
    let name = "prom-2.42-selfscrape-metadata";
    let batch = decode_fixture(name);
    assert!(batch.series.is_empty());
    let text = String::from_utf8(read(&format!("{name}.txt"))).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("META "))
        .collect();
    assert_eq!(lines.len(), batch.metadata.len());
    for (line, m) in lines.iter().zip(&batch.metadata) {
        let (family, rest) = line.split_once(" type=").unwrap();
        let (kind, _) = rest.split_once(' ').unwrap();
        assert_eq!(
            (m.metric_family_name.as_str(), m.metric_type.as_str()),
            (family, kind),
            "{line}"
        );
        assert!(
            rest.contains(" unit='' "),
            "{line}: Prometheus 2.42 sends no units"
        );
        assert!(m.unit.is_empty(), "{line}");
    }
    let count = |t| batch.metadata.iter().filter(|m| m.metric_type == t).count();
    let counts = [
        (MetricType::Counter, 157),
        (MetricType::Gauge, 227),
        (MetricType::Histogram, 8),
        (MetricType::Summary, 10),
        (MetricType::Unknown, 47),
    ];
    for (t, n) in counts {
        assert_eq!(count(t), n, "{t:?}");
    }
}

#[test]
fn stale_fixture_markers_are_recognised_by_bits() {
    let batch = decode_fixture("prom-2.42-node-exporter-4-stale");
    let stale: Vec<_> = batch
        .series
        .iter()
        .flat_map(|s| &s.samples)
        .filter(|&&(_, v)| is_stale_marker(v))
        .collect();
    assert_eq!(stale.len(), 26);
    assert!(stale.iter().all(|&&(_, v)| v.to_bits() == STALE_NAN_BITS));
    // `up` went to 0, it did not go stale.
    let up: Vec<f64> = batch
        .series
        .iter()
        .filter(|s| s.labels.name() == Some("up"))
        .map(|s| s.samples[0].1)
        .collect();
    assert!(!up.is_empty() && up.iter().all(|&v| v == 0.0), "{up:?}");
}

#[test]
fn repeated_label_sets_are_kept_as_sent() {
    let batch = decode_fixture("prom-2.42-node-exporter-2");
    assert_eq!(batch.series.len(), 62);
    let mut labels: Vec<String> = batch.series.iter().map(|s| s.labels.to_string()).collect();
    labels.sort();
    labels.dedup();
    assert_eq!(labels.len(), 31, "every label set twice");
}

#[test]
fn re_encoding_reproduces_prometheus_bytes() {
    for name in names() {
        let batch = decode_fixture(&name);
        let original = decompress(&read(&format!("{name}.bin")), usize::MAX).unwrap();
        let encoded = omen_remote_write::BodyEncoder::new()
            .protobuf(Protocol::V1, &batch.series, &batch.metadata)
            .to_vec();
        assert!(
            encoded == original,
            "{name}: re-encoded protobuf differs from Prometheus's"
        );
    }
}

/// The zero-copy path a receiver takes (`decode_with`, series borrowed from the body) sees
/// exactly the series, samples, counts and metadata of the owned path, on every real body and
/// on the same body re-encoded as 2.0.
#[test]
fn decode_with_sees_what_decode_keeps_on_every_fixture() {
    let mut series = 0;
    for name in names() {
        let owned_v1 = decode_fixture(&name);
        let v1 = decompress(&read(&format!("{name}.bin")), usize::MAX).unwrap();
        let v2 = decompress(&encode_v2(&owned_v1.series, &owned_v1.metadata), usize::MAX).unwrap();
        for (protocol, bytes) in [(Protocol::V1, v1), (Protocol::V2, v2)] {
            let owned = decode(protocol, &bytes).unwrap();
            type Seen = (Vec<(String, String)>, Vec<(i64, u64)>, Option<MetricType>);
            let mut seen: Vec<Seen> = Vec::new();
            let summary = decode_with(protocol, &bytes, |s| {
                seen.push((
                    s.labels
                        .iter()
                        .map(|&(n, v)| (n.to_owned(), v.to_owned()))
                        .collect(),
                    s.samples.iter().map(|&(t, v)| (t, v.to_bits())).collect(),
                    s.metric_type,
                ));
                assert_eq!(Some(s.name()), owned.series[seen.len() - 1].labels.name());
            })
            .unwrap_or_else(|r| panic!("{name} {protocol:?}: {r}"));
            let want: Vec<Seen> = owned
                .series
                .iter()
                .map(|s| {
                    (
                        s.labels.as_slice().to_vec(),
                        s.samples.iter().map(|&(t, v)| (t, v.to_bits())).collect(),
                        s.metric_type,
                    )
                })
                .collect();
            series += seen.len();
            assert_eq!(seen, want, "{name} {protocol:?}");
            assert_eq!(summary.stats, owned.stats, "{name} {protocol:?}");
            assert_eq!(summary.metadata, owned.metadata, "{name} {protocol:?}");
            assert_eq!(summary.outcome(), owned.outcome(), "{name} {protocol:?}");
        }
    }
    assert!(series > 1000, "{series} series seen");
}
