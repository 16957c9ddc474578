//! Remote-write request bodies built the way the receiver compliance suite
//! (`prometheus/compliance/remotewrite/receiver`) builds them, for `tests/serve_compliance/`.
//!
//! A Rust rewrite of the suite's request generator (`generateRequest`, `histogram` and
//! `generateRW1Request` in `helpers_test.go` and `rw1_compat_test.go`), not a copy:
//!
//! - every sample is its own `TimeSeries` with one sample at `now + offset`;
//! - an exemplar goes to the first sample or histogram with exactly its label set: one exemplar
//!   per series entry, except that the last entry of a series takes all those left over; an
//!   exemplar that matches nothing becomes a series of its own with no samples;
//! - metadata goes, by metric name, to every sample or histogram of that name; metadata whose
//!   name matches nothing becomes a series of its own; metadata with an empty name is dropped;
//! - the symbol table starts with `""` and is de-duplicated;
//! - every series carries a metadata field, empty when there is none (the Go structs embed
//!   `Metadata` by value, so gogo-protobuf always writes it);
//! - label sets are Go maps there, so their order on the wire is random. Here a label set is
//!   sent in reverse lexicographic order of names: one of the orders the suite can produce, and
//!   the one that makes the receiver sort every set of more than one label.

use std::collections::HashMap;

use omen_remote_write::proto::v1::{self, BucketSpan, HistogramCount, HistogramZeroCount};
use omen_remote_write::proto::v2;
use prost::Message;

/// A label set, as written in a case (any order).
pub type LabelSet = Vec<(&'static str, &'static str)>;

/// `Metadata.MetricType` numbers of the 2.0 proto.
pub mod metric_type {
    pub const UNSPECIFIED: i32 = 0;
    pub const COUNTER: i32 = 1;
    pub const GAUGE: i32 = 2;
    pub const HISTOGRAM: i32 = 3;
    pub const GAUGE_HISTOGRAM: i32 = 4;
    pub const SUMMARY: i32 = 5;
    pub const INFO: i32 = 6;
    pub const STATESET: i32 = 7;
}

/// One float sample to send.
#[derive(Clone, Debug, Default)]
pub struct SampleSpec {
    pub labels: LabelSet,
    pub value: f64,
    /// Milliseconds added to the request's "now".
    pub offset_ms: i64,
    /// `TimeSeries.created_timestamp`, as milliseconds before "now".
    pub created_ago_ms: Option<i64>,
}

/// One native histogram to send.
#[derive(Clone, Debug)]
pub struct HistogramSpec {
    pub labels: LabelSet,
    pub histogram: v2::Histogram,
    pub created_ago_ms: Option<i64>,
}

/// One exemplar to send, attached to the series with labels `labels`.
#[derive(Clone, Debug, Default)]
pub struct ExemplarSpec {
    pub labels: LabelSet,
    pub exemplar_labels: LabelSet,
    pub value: f64,
    pub offset_ms: i64,
}

/// Metadata for the metric named by `labels`' `__name__`.
#[derive(Clone, Debug, Default)]
pub struct MetadataSpec {
    pub labels: LabelSet,
    pub metric_type: i32,
    pub help: &'static str,
    pub unit: &'static str,
}

/// Everything one request carries (the suite's `RequestOpts`).
#[derive(Clone, Debug, Default)]
pub struct RequestSpec {
    pub samples: Vec<SampleSpec>,
    pub histograms: Vec<HistogramSpec>,
    pub exemplars: Vec<ExemplarSpec>,
    pub metadata: Vec<MetadataSpec>,
    /// Skip the consistency checks (exemplars and metadata must match a sample or histogram).
    pub unchecked: bool,
}

impl RequestSpec {
    /// Samples only.
    pub fn samples(samples: Vec<SampleSpec>) -> RequestSpec {
        RequestSpec {
            samples,
            ..RequestSpec::default()
        }
    }
}

/// A sample of `value` with `labels` at "now".
pub fn sample(labels: LabelSet, value: f64) -> SampleSpec {
    SampleSpec {
        labels,
        value,
        ..SampleSpec::default()
    }
}

/// A histogram with `labels` and no created timestamp.
pub fn hist(labels: LabelSet, histogram: v2::Histogram) -> HistogramSpec {
    HistogramSpec {
        labels,
        histogram,
        created_ago_ms: None,
    }
}

/// An exemplar of `value` at "now" on the series `labels`.
pub fn exemplar(labels: LabelSet, exemplar_labels: LabelSet, value: f64) -> ExemplarSpec {
    ExemplarSpec {
        labels,
        exemplar_labels,
        value,
        offset_ms: 0,
    }
}

/// Metadata for the metric of `labels`.
pub fn meta(
    labels: LabelSet,
    metric_type: i32,
    help: &'static str,
    unit: &'static str,
) -> MetadataSpec {
    MetadataSpec {
        labels,
        metric_type,
        help,
        unit,
    }
}

/// `{__name__="<name>"}`.
pub fn name_only(name: &'static str) -> LabelSet {
    vec![("__name__", name)]
}

/// `up{job="testjob", instance="localhost:9090"}`.
pub fn job_instance() -> LabelSet {
    vec![
        ("__name__", "up"),
        ("job", "testjob"),
        ("instance", "localhost:9090"),
    ]
}

/// `{trace_id="<id>"}`.
pub fn trace(id: &'static str) -> LabelSet {
    vec![("trace_id", id)]
}

/// Which buckets [`histogram`] fills.
#[derive(Clone, Copy, Debug, Default)]
pub struct Buckets {
    pub positive: bool,
    pub negative: bool,
    pub zero: bool,
    /// Schema -53 with six custom bounds (replaces the positive buckets).
    pub custom: bool,
    /// A count (99) that does not match the buckets.
    pub bad_count: bool,
}

/// An integer native histogram with sum `sum` and the buckets of `b`, as the suite's
/// `histogram()` fixture: positive spans `[0+3, 2+2]` with deltas `1 2 1 3 1` (counts 1 3 4 7 8,
/// 23 observations), negative span `[0+2]` with deltas `1 1` (3), a zero bucket of 1, or six
/// custom buckets with deltas `2 1 2 3 -1 -2` (counts 2 3 5 8 7 5, 30).
pub fn histogram(sum: f64, b: Buckets) -> v2::Histogram {
    let span = |offset, length| BucketSpan { offset, length };
    let mut h = v2::Histogram {
        sum,
        ..v2::Histogram::default()
    };
    let mut count = 0;
    if b.positive {
        h.positive_spans = vec![span(0, 3), span(2, 2)];
        h.positive_deltas = vec![1, 2, 1, 3, 1];
        count += 23;
    }
    if b.negative {
        h.negative_spans = vec![span(0, 2)];
        h.negative_deltas = vec![1, 1];
        count += 3;
    }
    if b.zero {
        h.zero_count = Some(HistogramZeroCount::ZeroCountInt(1));
        count += 1;
    }
    if b.custom {
        h.schema = -53;
        h.custom_values = vec![0.1, 0.5, 1.0, 2.5, 5.0, 10.0];
        h.positive_spans = vec![span(0, 6)];
        h.positive_deltas = vec![2, 1, 2, 3, -1, -2];
        count = 30;
    }
    if b.bad_count {
        count = 99;
    }
    h.count = Some(HistogramCount::CountInt(count));
    h
}

/// The de-duplicated string table of a 2.0 request; entry 0 is `""`.
#[derive(Default)]
struct Symbols {
    table: Vec<String>,
    index: HashMap<String, u32>,
}

impl Symbols {
    fn new() -> Symbols {
        let mut symbols = Symbols::default();
        symbols.symbolize("");
        symbols
    }

    fn symbolize(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.table.len() as u32;
        self.table.push(s.to_owned());
        self.index.insert(s.to_owned(), i);
        i
    }

    /// Name/value references for `labels`, in reverse order of names (see the module docs).
    fn refs(&mut self, labels: &LabelSet) -> Vec<u32> {
        let mut labels = labels.clone();
        labels.sort_by(|a, b| b.0.cmp(a.0));
        labels
            .iter()
            .flat_map(|(n, v)| [self.symbolize(n), self.symbolize(v)])
            .collect()
    }
}

/// The same label set, whatever the order.
fn same_set(a: &LabelSet, b: &LabelSet) -> bool {
    let sorted = |s: &LabelSet| {
        let mut s = s.clone();
        s.sort();
        s
    };
    sorted(a) == sorted(b)
}

fn metric_name(labels: &LabelSet) -> &'static str {
    labels
        .iter()
        .find(|(n, _)| *n == "__name__")
        .map_or("", |(_, v)| v)
}

impl RequestSpec {
    /// Panics when the spec breaks the suite's rules for a checked request.
    fn check(&self) {
        if self.unchecked {
            return;
        }
        assert!(
            self.samples.is_empty() || self.histograms.is_empty(),
            "a request has samples or histograms, not both"
        );
        let sets = || {
            self.samples
                .iter()
                .map(|s| &s.labels)
                .chain(self.histograms.iter().map(|h| &h.labels))
        };
        for e in &self.exemplars {
            assert!(
                sets().any(|l| same_set(l, &e.labels)),
                "exemplar without its series"
            );
        }
        for m in &self.metadata {
            let name = metric_name(&m.labels);
            assert!(
                name.is_empty() || sets().any(|l| metric_name(l) == name),
                "metadata without its metric"
            );
        }
    }

    /// The `io.prometheus.write.v2.Request` for this spec, with timestamps around `now_ms`,
    /// protobuf-encoded (not compressed).
    pub fn encode_v2(&self, now_ms: i64) -> Vec<u8> {
        self.check();
        let mut symbols = Symbols::new();
        let mut by_name: HashMap<&str, v2::Metadata> = HashMap::new();
        for m in &self.metadata {
            let name = metric_name(&m.labels);
            if !name.is_empty() {
                let entry = v2::Metadata {
                    r#type: m.metric_type,
                    help_ref: symbols.symbolize(m.help),
                    unit_ref: symbols.symbolize(m.unit),
                };
                by_name.insert(name, entry);
            }
        }
        let mut used = vec![false; self.exemplars.len()];
        let mut timeseries = Vec::new();
        // Samples, then histograms: each its own series entry.
        let entries: Vec<(&LabelSet, Option<i64>)> = self
            .samples
            .iter()
            .map(|s| (&s.labels, s.created_ago_ms))
            .chain(
                self.histograms
                    .iter()
                    .map(|h| (&h.labels, h.created_ago_ms)),
            )
            .collect();
        for (i, &(labels, created_ago_ms)) in entries.iter().enumerate() {
            let is_last_of_series = !entries[i + 1..].iter().any(|(l, _)| same_set(l, labels));
            let labels_refs = symbols.refs(labels);
            let mut exemplars = Vec::new();
            for (j, e) in self.exemplars.iter().enumerate() {
                if used[j] || !same_set(&e.labels, labels) {
                    continue;
                }
                used[j] = true;
                exemplars.push(v2::Exemplar {
                    labels_refs: symbols.refs(&e.exemplar_labels),
                    value: e.value,
                    timestamp: now_ms + e.offset_ms,
                });
                if !is_last_of_series {
                    break;
                }
            }
            let mut series = v2::TimeSeries {
                labels_refs,
                exemplars,
                metadata: Some(
                    by_name
                        .get(metric_name(labels))
                        .copied()
                        .unwrap_or_default(),
                ),
                created_timestamp: created_ago_ms.map_or(0, |ago| now_ms - ago),
                ..v2::TimeSeries::default()
            };
            if let Some(s) = self.samples.get(i) {
                series.samples = vec![v2::Sample {
                    value: s.value,
                    timestamp: now_ms + s.offset_ms,
                    start_timestamp: 0,
                }];
            } else {
                let mut h = self.histograms[i - self.samples.len()].histogram.clone();
                h.timestamp = now_ms;
                series.histograms = vec![h];
            }
            timeseries.push(series);
        }
        // Exemplars that matched nothing: a series each, with no samples.
        for (e, _) in self.exemplars.iter().zip(&used).filter(|(_, u)| !**u) {
            timeseries.push(v2::TimeSeries {
                labels_refs: symbols.refs(&e.labels),
                exemplars: vec![v2::Exemplar {
                    labels_refs: symbols.refs(&e.exemplar_labels),
                    value: e.value,
                    timestamp: now_ms + e.offset_ms,
                }],
                metadata: Some(v2::Metadata::default()),
                ..v2::TimeSeries::default()
            });
        }
        // Metadata whose metric sent nothing: a series each, with no samples.
        for m in &self.metadata {
            let name = metric_name(&m.labels);
            if name.is_empty() || entries.iter().any(|(l, _)| metric_name(l) == name) {
                continue;
            }
            timeseries.push(v2::TimeSeries {
                labels_refs: symbols.refs(&m.labels),
                metadata: Some(v2::Metadata {
                    r#type: m.metric_type,
                    help_ref: symbols.symbolize(m.help),
                    unit_ref: symbols.symbolize(m.unit),
                }),
                ..v2::TimeSeries::default()
            });
        }
        v2::Request {
            symbols: symbols.table.into_iter().map(String::into_bytes).collect(),
            timeseries,
        }
        .encode_to_vec()
    }
}

/// A 1.0 series of one sample, its labels in the order given, valid or not.
pub fn v1_series(labels: &[(&str, &str)], value: f64, timestamp_ms: i64) -> v1::TimeSeries {
    v1::TimeSeries {
        labels: labels
            .iter()
            .map(|(name, value)| v1::Label {
                name: name.as_bytes().to_vec(),
                value: value.as_bytes().to_vec(),
            })
            .collect(),
        samples: vec![v1::Sample {
            value,
            timestamp: timestamp_ms,
        }],
        ..v1::TimeSeries::default()
    }
}

/// A 1.0 `WriteRequest` with one series per sample (labels in reverse order of names),
/// protobuf-encoded.
pub fn encode_v1(samples: &[SampleSpec], now_ms: i64) -> Vec<u8> {
    let timeseries = samples
        .iter()
        .map(|s| {
            let mut labels = s.labels.clone();
            labels.sort_by(|a, b| b.0.cmp(a.0));
            v1_series(&labels, s.value, now_ms + s.offset_ms)
        })
        .collect();
    v1::WriteRequest {
        timeseries,
        metadata: Vec::new(),
    }
    .encode_to_vec()
}
