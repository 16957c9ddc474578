//! `io.prometheus.write.v2.Request`: the remote-write 2.0 message.
//!
//! Hand-written `prost` structs, so that no `protoc` is needed. Field numbers follow upstream
//! `prometheus/prometheus` `prompb/io/prometheus/write/v2/types.proto` at commit
//! `3c8f56c3931ca8c1a7d270ef124d092a1d0b8e41` (spec version 2.0-rc.4): `Request` reserves 1 to
//! 3, `symbols` = 4, `timeseries` = 5; the start ("created") timestamp lives in
//! `Sample.start_timestamp` = 3 and `Histogram.start_timestamp` = 17, and `TimeSeries` field 6
//! is reserved. Earlier release candidates (and the Prometheus 3.0 to 3.4 senders) put
//! `created_timestamp` in `TimeSeries` field 6; it is decoded here too so that neither
//! generation of sender is misread.
//!
//! As for 1.0, these structs are the schema of record that the decoder's wire reader is tested
//! against.
//!
//! Deliberate difference: `symbols` is decoded as `bytes`, so that one symbol that is not UTF-8
//! costs only the series that use it (dropped and counted as `invalid_utf8`) instead of failing
//! the whole request in the protobuf decoder.

use super::v1::{BucketSpan, HistogramCount, HistogramZeroCount};

/// `io.prometheus.write.v2.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Request {
    /// Field 4: the de-duplicated string table; entry 0 must be `""`.
    #[prost(bytes = "vec", repeated, tag = "4")]
    pub symbols: Vec<Vec<u8>>,
    /// Field 5: the series.
    #[prost(message, repeated, tag = "5")]
    pub timeseries: Vec<TimeSeries>,
}

/// `io.prometheus.write.v2.TimeSeries`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    /// Field 1: name/value pairs of indices into `Request.symbols` (even length).
    #[prost(uint32, repeated, tag = "1")]
    pub labels_refs: Vec<u32>,
    /// Field 2: float samples, oldest first.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    /// Field 3: native histogram samples (counted, not modelled).
    #[prost(message, repeated, tag = "3")]
    pub histograms: Vec<Histogram>,
    /// Field 4: exemplars (counted, not modelled).
    #[prost(message, repeated, tag = "4")]
    pub exemplars: Vec<Exemplar>,
    /// Field 5: the series' metadata (type, help, unit).
    #[prost(message, optional, tag = "5")]
    pub metadata: Option<Metadata>,
    /// Field 6: `created_timestamp` of release candidates up to rc.3 (reserved in rc.4).
    #[prost(int64, tag = "6")]
    pub created_timestamp: i64,
}

/// `io.prometheus.write.v2.Sample`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Sample {
    /// Field 1: the value.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Field 2: the timestamp in milliseconds since the epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
    /// Field 3: the start (created) timestamp in milliseconds; 0 means unset.
    #[prost(int64, tag = "3")]
    pub start_timestamp: i64,
}

/// `io.prometheus.write.v2.Exemplar`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Exemplar {
    /// Field 1: name/value pairs of indices into `Request.symbols`.
    #[prost(uint32, repeated, tag = "1")]
    pub labels_refs: Vec<u32>,
    /// Field 2: the value.
    #[prost(double, tag = "2")]
    pub value: f64,
    /// Field 3: the timestamp in milliseconds.
    #[prost(int64, tag = "3")]
    pub timestamp: i64,
}

/// `io.prometheus.write.v2.Metadata`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Metadata {
    /// Field 1: the `Metadata.MetricType` number (0 unspecified, 1 counter … 7 stateset).
    #[prost(int32, tag = "1")]
    pub r#type: i32,
    /// Field 3: index of the help text in `Request.symbols`.
    #[prost(uint32, tag = "3")]
    pub help_ref: u32,
    /// Field 4: index of the unit in `Request.symbols`.
    #[prost(uint32, tag = "4")]
    pub unit_ref: u32,
}

/// `io.prometheus.write.v2.Histogram`: the 1.0 message plus `start_timestamp` (17). The
/// `count`/`zero_count` oneofs and `BucketSpan` have the same numbers as in 1.0 and are shared.
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
    /// Field 17: the start (created) timestamp in milliseconds; 0 means unset.
    #[prost(int64, tag = "17")]
    pub start_timestamp: i64,
}
