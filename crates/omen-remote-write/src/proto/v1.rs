//! `prometheus.WriteRequest`: the remote-write 1.0 message.
//!
//! Hand-written `prost` structs, so that no `protoc` is needed. Field numbers follow upstream
//! `prometheus/prometheus` `prompb/types.proto` and `prompb/remote.proto` as released in v2.42
//! and unchanged since (`WriteRequest` reserves field 2; metadata is field 3). The message
//! layouts were checked against the copy of `prompb/types.proto` at commit
//! `030ccfad618c5553bf8f812efadae7cc7d46cb16` and `prompb/remote.proto` at commit
//! `3ee71d12794f1958ec477a48f2572c9a344da417`, plus the `MetricMetadata`, `Exemplar` and
//! `Histogram` messages those files gained later (same numbers in every release since 2.40).
//!
//! These structs are the schema of record: the encoder's tests compare its bytes with theirs,
//! the decoder checks histograms, exemplars and metadata with them, and a property test holds
//! the decoder's own wire reader (`wire.rs`) to the same answers as decoding through them.
//!
//! Deliberate difference: every proto `string` is decoded as `bytes`. The wire format is the
//! same, but a label that is not UTF-8 then costs only its own series (dropped and counted as
//! `invalid_utf8`) instead of failing the whole request in the protobuf decoder.

/// `prometheus.WriteRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    /// Field 1: the series with their samples.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
    /// Field 3: metric metadata; Prometheus sends it in separate requests with no series.
    #[prost(message, repeated, tag = "3")]
    pub metadata: Vec<MetricMetadata>,
}

/// `prometheus.TimeSeries`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    /// Field 1: the full label set, sorted by name.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// Field 2: float samples, oldest first.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    /// Field 3: exemplars (counted, not modelled).
    #[prost(message, repeated, tag = "3")]
    pub exemplars: Vec<Exemplar>,
    /// Field 4: native histogram samples (counted, not modelled).
    #[prost(message, repeated, tag = "4")]
    pub histograms: Vec<Histogram>,
}

/// `prometheus.Label`; `string` fields read as bytes (see the module documentation).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Label {
    /// Field 1: the label name.
    #[prost(bytes = "vec", tag = "1")]
    pub name: Vec<u8>,
    /// Field 2: the label value.
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

/// `prometheus.Sample`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Sample {
    /// Field 1: the value.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Field 2: the timestamp in milliseconds since the epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// `prometheus.Exemplar`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Exemplar {
    /// Field 1: the exemplar's own labels (typically `trace_id`).
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// Field 2: the value.
    #[prost(double, tag = "2")]
    pub value: f64,
    /// Field 3: the timestamp in milliseconds.
    #[prost(int64, tag = "3")]
    pub timestamp: i64,
}

/// `prometheus.MetricMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricMetadata {
    /// Field 1: the `MetricMetadata.MetricType` number (0 unknown … 7 stateset).
    #[prost(int32, tag = "1")]
    pub r#type: i32,
    /// Field 2: the metric family name.
    #[prost(bytes = "vec", tag = "2")]
    pub metric_family_name: Vec<u8>,
    /// Field 4: the help text.
    #[prost(bytes = "vec", tag = "4")]
    pub help: Vec<u8>,
    /// Field 5: the unit.
    #[prost(bytes = "vec", tag = "5")]
    pub unit: Vec<u8>,
}

/// `prometheus.Histogram`: a native histogram sample. Omen counts these and does not model
/// them; the full message is here so that tests and load generators can send real ones.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Histogram {
    /// Fields 1 and 2: the observation count, integer or float.
    #[prost(oneof = "HistogramCount", tags = "1, 2")]
    pub count: Option<HistogramCount>,
    /// Field 3: the sum of observations.
    #[prost(double, tag = "3")]
    pub sum: f64,
    /// Field 4: the bucket schema (-4..=8 exponential, -53 custom buckets).
    #[prost(sint32, tag = "4")]
    pub schema: i32,
    /// Field 5: the width of the zero bucket.
    #[prost(double, tag = "5")]
    pub zero_threshold: f64,
    /// Fields 6 and 7: the zero bucket's count, integer or float.
    #[prost(oneof = "HistogramZeroCount", tags = "6, 7")]
    pub zero_count: Option<HistogramZeroCount>,
    /// Field 8: negative bucket spans.
    #[prost(message, repeated, tag = "8")]
    pub negative_spans: Vec<BucketSpan>,
    /// Field 9: negative bucket count deltas (integer histograms).
    #[prost(sint64, repeated, tag = "9")]
    pub negative_deltas: Vec<i64>,
    /// Field 10: negative bucket counts (float histograms).
    #[prost(double, repeated, tag = "10")]
    pub negative_counts: Vec<f64>,
    /// Field 11: positive bucket spans.
    #[prost(message, repeated, tag = "11")]
    pub positive_spans: Vec<BucketSpan>,
    /// Field 12: positive bucket count deltas (integer histograms).
    #[prost(sint64, repeated, tag = "12")]
    pub positive_deltas: Vec<i64>,
    /// Field 13: positive bucket counts (float histograms).
    #[prost(double, repeated, tag = "13")]
    pub positive_counts: Vec<f64>,
    /// Field 14: the `ResetHint` number.
    #[prost(int32, tag = "14")]
    pub reset_hint: i32,
    /// Field 15: the timestamp in milliseconds.
    #[prost(int64, tag = "15")]
    pub timestamp: i64,
    /// Field 16: custom bucket upper bounds (schema -53).
    #[prost(double, repeated, tag = "16")]
    pub custom_values: Vec<f64>,
}

/// The `count` oneof of [`Histogram`].
#[derive(Clone, Copy, PartialEq, prost::Oneof)]
pub enum HistogramCount {
    /// Field 1: integer count.
    #[prost(uint64, tag = "1")]
    CountInt(u64),
    /// Field 2: float count.
    #[prost(double, tag = "2")]
    CountFloat(f64),
}

/// The `zero_count` oneof of [`Histogram`].
#[derive(Clone, Copy, PartialEq, prost::Oneof)]
pub enum HistogramZeroCount {
    /// Field 6: integer zero-bucket count.
    #[prost(uint64, tag = "6")]
    ZeroCountInt(u64),
    /// Field 7: float zero-bucket count.
    #[prost(double, tag = "7")]
    ZeroCountFloat(f64),
}

/// `prometheus.BucketSpan`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct BucketSpan {
    /// Field 1: gap to the previous span (or the start of the first one).
    #[prost(sint32, tag = "1")]
    pub offset: i32,
    /// Field 2: number of consecutive buckets.
    #[prost(uint32, tag = "2")]
    pub length: u32,
}
