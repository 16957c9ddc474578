//! The encoder: series into snappy-compressed remote-write bodies, for load generators and
//! tests. Writes the protobuf straight from [`SeriesSamples`] (no intermediate messages, no
//! string copies) into buffers that a [`BodyEncoder`] reuses from one body to the next.

mod symbols;
mod v1;
mod v2;
mod wire;

use std::fmt;

use crate::batch::{Metadata, SeriesSamples};
use crate::protocol::Protocol;
use crate::snappy::compress_into;

/// Encodes bodies, reusing its buffers and snappy state between calls.
pub struct BodyEncoder {
    protobuf: Vec<u8>,
    body: Vec<u8>,
    snappy: snap::raw::Encoder,
}

impl fmt::Debug for BodyEncoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyEncoder")
            .field("protobuf_capacity", &self.protobuf.capacity())
            .field("body_capacity", &self.body.capacity())
            .finish_non_exhaustive()
    }
}

impl Default for BodyEncoder {
    fn default() -> Self {
        BodyEncoder::new()
    }
}

impl BodyEncoder {
    /// An encoder with empty buffers.
    pub fn new() -> Self {
        BodyEncoder {
            protobuf: Vec::new(),
            body: Vec::new(),
            snappy: snap::raw::Encoder::new(),
        }
    }

    /// The uncompressed protobuf of a request.
    ///
    /// 1.0 writes the series in order, then `metadata`. 2.0 gives each series its metadata:
    /// the type from [`SeriesSamples::metric_type`], else from the `metadata` entry of its
    /// family, and help and unit from that entry; metadata of families with no series in the
    /// request cannot be expressed in 2.0 and is left out.
    pub fn protobuf(
        &mut self,
        protocol: Protocol,
        series: &[SeriesSamples],
        metadata: &[Metadata],
    ) -> &[u8] {
        self.protobuf.clear();
        match protocol {
            Protocol::V1 => v1::write_request(&mut self.protobuf, series, metadata),
            Protocol::V2 => v2::write_request(&mut self.protobuf, series, metadata),
        }
        &self.protobuf
    }

    /// The snappy-compressed body of a request, ready to POST with
    /// [`crate::content_type`]`(protocol)` and `Content-Encoding: snappy`.
    ///
    /// # Panics
    ///
    /// When the protobuf exceeds 4 GiB, the snappy block format's limit.
    pub fn encode(
        &mut self,
        protocol: Protocol,
        series: &[SeriesSamples],
        metadata: &[Metadata],
    ) -> &[u8] {
        self.protobuf(protocol, series, metadata);
        self.body
            .resize(snap::raw::max_compress_len(self.protobuf.len()), 0);
        let n = compress_into(&mut self.snappy, &self.protobuf, &mut self.body);
        self.body.truncate(n);
        &self.body
    }
}

/// A remote-write 1.0 body (snappy-compressed `prometheus.WriteRequest`).
pub fn encode_v1(series: &[SeriesSamples], metadata: &[Metadata]) -> Vec<u8> {
    BodyEncoder::new()
        .encode(Protocol::V1, series, metadata)
        .to_vec()
}

/// A remote-write 2.0 body (snappy-compressed `io.prometheus.write.v2.Request`).
pub fn encode_v2(series: &[SeriesSamples], metadata: &[Metadata]) -> Vec<u8> {
    BodyEncoder::new()
        .encode(Protocol::V2, series, metadata)
        .to_vec()
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use crate::labels::ValidatedLabels;
    use crate::metric_type::MetricType;
    use crate::proto::{v1 as pb1, v2 as pb2};

    fn example() -> (Vec<SeriesSamples>, Vec<Metadata>) {
        let series = vec![
            SeriesSamples {
                labels: ValidatedLabels::new([
                    ("__name__", "http_requests_total"),
                    ("code", "200"),
                    ("job", "api"),
                ])
                .unwrap(),
                samples: vec![
                    (1_700_000_000_000, 1027.0),
                    (1_700_000_015_000, 0.0),
                    (-5, f64::NAN),
                ],
                metric_type: None,
            },
            SeriesSamples {
                labels: ValidatedLabels::new([("__name__", "up"), ("job", "api")]).unwrap(),
                samples: vec![(0, 1.0)],
                metric_type: Some(MetricType::Gauge),
            },
        ];
        let metadata = vec![Metadata {
            metric_family_name: "http_requests_total".into(),
            metric_type: MetricType::Counter,
            help: "Requests.".into(),
            unit: String::new(),
        }];
        (series, metadata)
    }

    #[test]
    fn v1_bytes_equal_prosts() {
        let (series, metadata) = example();
        let expected = pb1::WriteRequest {
            timeseries: series
                .iter()
                .map(|s| pb1::TimeSeries {
                    labels: s
                        .labels
                        .iter()
                        .map(|(n, v)| pb1::Label {
                            name: n.into(),
                            value: v.into(),
                        })
                        .collect(),
                    samples: s
                        .samples
                        .iter()
                        .map(|&(t, v)| pb1::Sample {
                            value: v,
                            timestamp: t,
                        })
                        .collect(),
                    ..Default::default()
                })
                .collect(),
            metadata: vec![pb1::MetricMetadata {
                r#type: 1,
                metric_family_name: b"http_requests_total".to_vec(),
                help: b"Requests.".to_vec(),
                unit: Vec::new(),
            }],
        }
        .encode_to_vec();
        assert_eq!(
            BodyEncoder::new().protobuf(Protocol::V1, &series, &metadata),
            expected
        );
    }

    #[test]
    fn v2_bytes_equal_prosts() {
        let (series, metadata) = example();
        let symbols = [
            "",
            "__name__",
            "http_requests_total",
            "code",
            "200",
            "job",
            "api",
            "Requests.",
            "up",
        ];
        let expected = pb2::Request {
            symbols: symbols.iter().map(|s| s.as_bytes().to_vec()).collect(),
            timeseries: vec![
                pb2::TimeSeries {
                    labels_refs: vec![1, 2, 3, 4, 5, 6],
                    samples: series[0]
                        .samples
                        .iter()
                        .map(|&(t, v)| pb2::Sample {
                            value: v,
                            timestamp: t,
                            start_timestamp: 0,
                        })
                        .collect(),
                    metadata: Some(pb2::Metadata {
                        r#type: 1,
                        help_ref: 7,
                        unit_ref: 0,
                    }),
                    ..Default::default()
                },
                pb2::TimeSeries {
                    labels_refs: vec![1, 8, 5, 6],
                    samples: vec![pb2::Sample {
                        value: 1.0,
                        timestamp: 0,
                        start_timestamp: 0,
                    }],
                    metadata: Some(pb2::Metadata {
                        r#type: 2,
                        help_ref: 0,
                        unit_ref: 0,
                    }),
                    ..Default::default()
                },
            ],
        }
        .encode_to_vec();
        assert_eq!(
            BodyEncoder::new().protobuf(Protocol::V2, &series, &metadata),
            expected
        );
    }

    #[test]
    fn bodies_decode_back_and_the_encoder_is_reusable() {
        let (series, metadata) = example();
        let mut encoder = BodyEncoder::default();
        for protocol in [Protocol::V1, Protocol::V2, Protocol::V1] {
            let body = encoder.encode(protocol, &series, &metadata).to_vec();
            let fresh = match protocol {
                Protocol::V1 => encode_v1(&series, &metadata),
                Protocol::V2 => encode_v2(&series, &metadata),
            };
            assert_eq!(body, fresh, "{protocol:?}");
            let bytes = crate::decompress(&body, 1 << 20).unwrap();
            let batch = crate::decode(protocol, &bytes).unwrap();
            assert_eq!(batch.series.len(), 2);
            assert_eq!(batch.series[0].labels, series[0].labels);
            let bits = |s: &SeriesSamples| {
                s.samples
                    .iter()
                    .map(|&(t, v)| (t, v.to_bits()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(bits(&batch.series[0]), bits(&series[0]));
            assert_eq!(batch.metadata[0], metadata[0], "{protocol:?}");
        }
        assert!(format!("{encoder:?}").starts_with("BodyEncoder"));
    }
}
