//! [`decode`]: protobuf bytes into a [`WriteBatch`], and [`decode_request`], the whole path
//! from HTTP headers and body.

use crate::batch::{SeriesRef, WriteBatch, WriteSummary};
use crate::error::{RejectReason, Rejection};
use crate::labels::write_label_set;
use crate::limits::{Limits, check_body_len};
use crate::negotiate::negotiate;
use crate::protocol::Protocol;
use crate::snappy::decompress;
use crate::{decode_v1, decode_v2};

/// Decodes and validates a decompressed body of `protocol`.
///
/// A body that is not a valid protobuf message is a 400 [`Rejection`], as is a 2.0 symbol
/// table that does not start with `""`. Otherwise the batch holds the valid series; invalid
/// ones are dropped and counted in [`WriteBatch::stats`], and [`WriteBatch::outcome`] says what
/// to answer. Linear in the size of the body; each kept series costs one allocation per label
/// string, one for its label list and one for its samples (see [`decode_with`] for none).
pub fn decode(protocol: Protocol, bytes: &[u8]) -> Result<WriteBatch, Rejection> {
    let mut series = Vec::new();
    let summary = decode_with(protocol, bytes, |s| series.push(s.to_series()))?;
    let WriteSummary {
        protocol,
        metadata,
        stats,
    } = summary;
    Ok(WriteBatch {
        protocol,
        series,
        metadata,
        stats,
    })
}

/// [`decode`] without building owned series: each valid series with float samples is handed
/// to `visit` as a [`SeriesRef`] borrowed from `bytes` and the decoder's reused buffers, in
/// request order, so that a receiver can look up the series it already knows without
/// allocating. Same validation, counts and errors as [`decode`].
///
/// The visitor may have been called when an error is found later in the body (a corrupt
/// message, a bad 2.0 symbol table): collect first, ingest on `Ok`.
pub fn decode_with(
    protocol: Protocol,
    bytes: &[u8],
    visit: impl FnMut(SeriesRef<'_>),
) -> Result<WriteSummary, Rejection> {
    match protocol {
        Protocol::V1 => decode_v1::decode_v1(bytes, visit),
        Protocol::V2 => decode_v2::decode_v2(bytes, visit),
    }
}

/// The whole receiving path for one request: body length, negotiation, snappy, decode.
pub fn decode_request(
    content_type: Option<&str>,
    content_encoding: Option<&str>,
    body: &[u8],
    limits: &Limits,
) -> Result<WriteBatch, Rejection> {
    let protocol = negotiate(content_type, content_encoding)?;
    check_body_len(body.len(), limits.max_body_bytes)?;
    let bytes = decompress(body, limits.max_decoded_bytes)?;
    decode(protocol, &bytes)
}

/// The 400 for a body that is not a valid message of `protocol`.
pub(crate) fn invalid_protobuf(protocol: Protocol, error: impl std::fmt::Display) -> Rejection {
    Rejection::new(
        RejectReason::InvalidProtobuf,
        format!(
            "invalid protobuf body for {}: {error}",
            protocol.message_name()
        ),
    )
}

/// Prints a label set that failed validation, for the response message.
pub(crate) fn describe_pairs(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_label_set(&mut out, pairs.iter().copied());
    out
}

/// A `String` from protobuf bytes, replacing invalid UTF-8 (for advisory text: help, unit).
pub(crate) fn lossy_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::SeriesSamples;
    use crate::encode::encode_v2;
    use crate::labels::ValidatedLabels;

    fn series() -> Vec<SeriesSamples> {
        vec![
            SeriesSamples {
                labels: ValidatedLabels::new([("__name__", "up"), ("job", "node")]).unwrap(),
                samples: vec![(1, 1.0), (2, 0.0)],
                metric_type: None,
            },
            SeriesSamples {
                labels: ValidatedLabels::new([("__name__", "load1")]).unwrap(),
                samples: vec![(1, 0.5)],
                metric_type: None,
            },
        ]
    }

    #[test]
    fn decode_with_visits_what_decode_keeps() {
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let body = std::fs::read(fixtures.join("prom-2.42-selfscrape-500.bin")).unwrap();
        let bytes = decompress(&body, usize::MAX).unwrap();
        for protocol in [Protocol::V1, Protocol::V2] {
            let bytes = match protocol {
                Protocol::V1 => bytes.clone(),
                Protocol::V2 => {
                    let batch = decode(Protocol::V1, &bytes).unwrap();
                    decompress(&encode_v2(&batch.series, &batch.metadata), usize::MAX).unwrap()
                }
            };
            let owned = decode(protocol, &bytes).unwrap();
            let mut visited = Vec::new();
            let mut names = Vec::new();
            let summary = decode_with(protocol, &bytes, |s| {
                names.push(s.name().to_owned());
                visited.push(s.to_series());
            })
            .unwrap();
            assert_eq!(visited.len(), 500, "{protocol:?}");
            assert_eq!(summary.stats, owned.stats, "{protocol:?}");
            assert_eq!(summary.metadata, owned.metadata, "{protocol:?}");
            assert_eq!(summary.outcome(), owned.outcome(), "{protocol:?}");
            for ((v, o), name) in visited.iter().zip(&owned.series).zip(&names) {
                assert_eq!(v.labels, o.labels);
                assert_eq!(Some(name.as_str()), o.labels.name());
                let bits = |s: &SeriesSamples| -> Vec<(i64, u64)> {
                    s.samples.iter().map(|&(t, x)| (t, x.to_bits())).collect()
                };
                assert_eq!(bits(v), bits(o));
            }
        }
    }

    #[test]
    fn visited_labels_are_sorted_without_empty_values() {
        let body = crate::proto::v1::WriteRequest {
            timeseries: vec![crate::proto::v1::TimeSeries {
                labels: [("zone", ""), ("job", "x"), ("__name__", "up")]
                    .iter()
                    .map(|(n, v)| crate::proto::v1::Label {
                        name: n.as_bytes().to_vec(),
                        value: v.as_bytes().to_vec(),
                    })
                    .collect(),
                samples: vec![crate::proto::v1::Sample {
                    value: 1.0,
                    timestamp: 1,
                }],
                ..Default::default()
            }],
            metadata: Vec::new(),
        };
        let bytes = prost::Message::encode_to_vec(&body);
        let mut seen = Vec::new();
        decode_with(Protocol::V1, &bytes, |s| {
            seen.push(s.labels.to_vec().join_pairs())
        })
        .unwrap();
        assert_eq!(seen, ["__name__=up,job=x"]);
    }

    trait JoinPairs {
        fn join_pairs(&self) -> String;
    }

    impl JoinPairs for Vec<(&str, &str)> {
        fn join_pairs(&self) -> String {
            self.iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        }
    }

    #[test]
    fn decode_request_table() {
        let v2 = crate::protocol::content_type(Protocol::V2);
        let body = encode_v2(&series(), &[]);
        let decoded_len = decompress(&body, usize::MAX).unwrap().len();
        let roomy = Limits::default();
        let tight_body = Limits {
            max_body_bytes: body.len() - 1,
            ..roomy
        };
        let tight_decoded = Limits {
            max_decoded_bytes: decoded_len - 1,
            ..roomy
        };
        // (name, content type, encoding, body, limits, Ok(series) or Err((status, reason)))
        type Case<'a> = (
            &'a str,
            Option<&'a str>,
            Option<&'a str>,
            &'a [u8],
            Limits,
            Result<usize, (u16, RejectReason)>,
        );
        let cases: Vec<Case<'_>> = vec![
            ("2.0 body", Some(v2), Some("snappy"), &body, roomy, Ok(2)),
            (
                "body at the limits",
                Some(v2),
                None,
                &body,
                Limits {
                    max_body_bytes: body.len(),
                    max_decoded_bytes: decoded_len,
                },
                Ok(2),
            ),
            (
                "json",
                Some("application/json"),
                Some("snappy"),
                &body,
                roomy,
                Err((415, RejectReason::UnsupportedContentType)),
            ),
            (
                "gzip",
                Some(v2),
                Some("gzip"),
                &body,
                roomy,
                Err((415, RejectReason::UnsupportedContentEncoding)),
            ),
            (
                "body too large",
                Some(v2),
                Some("snappy"),
                &body,
                tight_body,
                Err((413, RejectReason::BodyTooLarge)),
            ),
            (
                "decoded too large",
                Some(v2),
                Some("snappy"),
                &body,
                tight_decoded,
                Err((413, RejectReason::DecodedTooLarge)),
            ),
            (
                "not snappy",
                Some(v2),
                Some("snappy"),
                b"\x0a\x02hi",
                roomy,
                Err((400, RejectReason::CorruptSnappy)),
            ),
            (
                // 2.0's fields (4, 5) are unknown to 1.0 and skipped: an empty request, as in
                // Prometheus. A 2.0 sender always names its message in Content-Type.
                "2.0 body read as 1.0",
                None,
                None,
                &body,
                roomy,
                Ok(0),
            ),
        ];
        for (name, content_type, encoding, body, limits, expected) in cases {
            let got = decode_request(content_type, encoding, body, &limits)
                .map(|b| b.series.len())
                .map_err(|r| (r.status, r.reason));
            assert_eq!(got, expected, "{name}");
        }
    }
}
