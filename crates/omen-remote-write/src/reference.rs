//! Test only: the decoders built on `prost` messages instead of `wire.rs`, as the reference the
//! fast path must agree with, byte for byte of output, on any input (property tests below).

use prost::Message;

use crate::batch::{WriteBatch, WriteSummary};
use crate::collect::{Collector, Held};
use crate::decode::invalid_protobuf;
use crate::decode_v1::{process_series as process_v1, to_metadata};
use crate::decode_v2::{MetaRefs, ReadSeries, Symbols, process_series as process_v2};
use crate::error::Rejection;
use crate::histogram::check_histogram;
use crate::proto::{v1, v2};
use crate::protocol::Protocol;

pub(crate) fn reference_v1(bytes: &[u8]) -> Result<WriteBatch, Rejection> {
    let request = v1::WriteRequest::decode(bytes).map_err(|e| invalid_protobuf(Protocol::V1, e))?;
    let mut series = Vec::new();
    let mut out = Collector::new(|s: crate::SeriesRef<'_>| series.push(s.to_series()));
    let mut pairs = Vec::new();
    for ts in &request.timeseries {
        let held = Held {
            samples: ts.samples.len(),
            histograms: ts.histograms.len(),
            exemplars: ts.exemplars.len(),
            bad_histograms: ts
                .histograms
                .iter()
                .filter(|h| check_histogram(h).is_err())
                .count(),
        };
        let labels: Vec<(&[u8], &[u8])> = ts
            .labels
            .iter()
            .map(|l| (l.name.as_slice(), l.value.as_slice()))
            .collect();
        let samples: Vec<(i64, f64)> = ts.samples.iter().map(|s| (s.timestamp, s.value)).collect();
        process_v1(held, &labels, &[], &samples, &mut pairs, &mut out);
    }
    let metadata: Vec<_> = request.metadata.into_iter().map(to_metadata).collect();
    out.stats.metadata_received = metadata.len() as u64;
    let summary = out.finish(Protocol::V1, metadata);
    Ok(batch(series, summary))
}

pub(crate) fn reference_v2(bytes: &[u8]) -> Result<WriteBatch, Rejection> {
    let request = v2::Request::decode(bytes).map_err(|e| invalid_protobuf(Protocol::V2, e))?;
    let symbols = Symbols::new(request.symbols.iter().map(Vec::as_slice).collect());
    let mut series = Vec::new();
    let mut out = Collector::new(|s: crate::SeriesRef<'_>| series.push(s.to_series()));
    let mut metadata = Vec::new();
    let mut pairs = Vec::new();
    for ts in &request.timeseries {
        // 2.0's histogram is 1.0's plus a start timestamp: checked through 1.0's struct.
        let as_v1 = |h: &v2::Histogram| v1::Histogram::decode(&*h.encode_to_vec()).unwrap();
        let held = Held {
            samples: ts.samples.len(),
            histograms: ts.histograms.len(),
            exemplars: ts.exemplars.len(),
            bad_histograms: ts
                .histograms
                .iter()
                .filter(|h| check_histogram(&as_v1(h)).is_err())
                .count(),
        };
        let bad_exemplars = ts
            .exemplars
            .iter()
            .filter(|e| !symbols.refs_ok(&e.labels_refs))
            .count();
        let meta = ts.metadata.unwrap_or_default();
        let meta = MetaRefs {
            kind: meta.r#type,
            help: meta.help_ref,
            unit: meta.unit_ref,
        };
        let samples: Vec<(i64, f64)> = ts.samples.iter().map(|s| (s.timestamp, s.value)).collect();
        let read = ReadSeries {
            held,
            bad_exemplars,
            meta,
            refs: &ts.labels_refs,
            samples: &samples,
        };
        process_v2(read, &symbols, &mut pairs, &mut out, &mut metadata);
    }
    let summary = out.finish(Protocol::V2, metadata);
    symbols.check_first()?;
    Ok(batch(series, summary))
}

fn batch(series: Vec<crate::SeriesSamples>, summary: WriteSummary) -> WriteBatch {
    let WriteSummary {
        protocol,
        metadata,
        stats,
    } = summary;
    WriteBatch {
        protocol,
        series,
        metadata,
        stats,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::batch::SeriesSamples;
    use crate::decode::decode;

    /// A comparable rendering: NaN payloads kept as bits; error messages left out (the two
    /// decoders word protobuf errors differently).
    fn canonical(result: &Result<WriteBatch, Rejection>) -> String {
        match result {
            Err(r) => format!("Err({}, {:?})", r.status, r.reason),
            Ok(b) => {
                let series: Vec<String> = b.series.iter().map(series_key).collect();
                format!(
                    "Ok({:?} {:?} {:?} {:?})",
                    b.protocol, series, b.metadata, b.stats
                )
            }
        }
    }

    fn series_key(s: &SeriesSamples) -> String {
        let bits: Vec<(i64, u64)> = s.samples.iter().map(|&(t, v)| (t, v.to_bits())).collect();
        format!("{} {bits:?} {:?}", s.labels, s.metric_type)
    }

    fn agree(bytes: &[u8]) {
        let pairs = [
            (decode(Protocol::V1, bytes), reference_v1(bytes)),
            (decode(Protocol::V2, bytes), reference_v2(bytes)),
        ];
        for (fast, reference) in pairs {
            assert_eq!(canonical(&fast), canonical(&reference), "{bytes:02x?}");
        }
    }

    /// Protobuf-shaped bodies: both schemas' field numbers, every wire type, nested messages,
    /// so that random cases reach deep into both decoders.
    fn message(depth: u32) -> BoxedStrategy<Vec<u8>> {
        let leaf = prop_oneof![
            (1..8u32, any::<u64>()).prop_map(|(f, v)| field(f, 0, &varint(v))),
            (1..8u32, any::<u64>()).prop_map(|(f, v)| field(f, 1, &v.to_le_bytes())),
            (1..8u32, any::<u32>()).prop_map(|(f, v)| field(f, 5, &v.to_le_bytes())),
            (1..8u32, prop::collection::vec(any::<u8>(), 0..6)).prop_map(|(f, b)| len_field(f, &b)),
            (
                1..8u32,
                prop_oneof![
                    Just(b"__name__".to_vec()),
                    Just(b"up".to_vec()),
                    Just(Vec::new()),
                    Just(b"\xff".to_vec())
                ]
            )
                .prop_map(|(f, b)| len_field(f, &b)),
            prop::collection::vec(any::<u8>(), 1..3),
        ];
        if depth == 0 {
            return prop::collection::vec(leaf, 0..6)
                .prop_map(|v| v.concat())
                .boxed();
        }
        let nested = (1..8u32, message(depth - 1)).prop_map(|(f, m)| len_field(f, &m));
        prop::collection::vec(prop_oneof![3 => leaf, 2 => nested], 0..6)
            .prop_map(|v| v.concat())
            .boxed()
    }

    fn varint(mut v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
        out
    }

    fn field(number: u32, wire_type: u32, payload: &[u8]) -> Vec<u8> {
        let mut out = varint(u64::from((number << 3) | wire_type));
        out.extend_from_slice(payload);
        out
    }

    fn len_field(number: u32, payload: &[u8]) -> Vec<u8> {
        let mut body = varint(payload.len() as u64);
        body.extend_from_slice(payload);
        field(number, 2, &body)
    }

    const WORDS: [&[u8]; 7] = [
        b"",
        b"__name__",
        b"up",
        b"job",
        b"node",
        b"\xffbad",
        b"zone",
    ];

    fn word() -> impl Strategy<Value = Vec<u8>> + Clone {
        (0..WORDS.len()).prop_map(|i| WORDS[i].to_vec())
    }

    fn sample_values() -> impl Strategy<Value = (f64, i64)> {
        (
            prop_oneof![Just(0u64), Just(crate::STALE_NAN_BITS), any::<u64>()],
            any::<i64>(),
        )
            .prop_map(|(bits, ts)| (f64::from_bits(bits), ts))
    }

    /// Typed 1.0 requests, mostly well formed, from a small vocabulary.
    fn v1_request() -> impl Strategy<Value = Vec<u8>> {
        let label = (word(), word()).prop_map(|(name, value)| v1::Label { name, value });
        let named = prop::collection::vec(label.clone(), 0..3).prop_map(|mut rest| {
            rest.insert(
                0,
                v1::Label {
                    name: b"__name__".to_vec(),
                    value: b"up".to_vec(),
                },
            );
            rest
        });
        let labels = prop_oneof![2 => named, 1 => prop::collection::vec(label, 0..5)];
        let series = (
            labels,
            prop::collection::vec(sample_values(), 0..3),
            0..2usize,
            prop_oneof![3 => Just(0usize), 1 => Just(1usize)],
        )
            .prop_map(|(labels, samples, exemplars, histograms)| v1::TimeSeries {
                labels,
                samples: samples
                    .into_iter()
                    .map(|(value, timestamp)| v1::Sample { value, timestamp })
                    .collect(),
                exemplars: vec![v1::Exemplar::default(); exemplars],
                histograms: vec![v1::Histogram::default(); histograms],
            });
        let metadata = (0..9i32, word()).prop_map(|(t, name)| v1::MetricMetadata {
            r#type: t,
            metric_family_name: name,
            help: b"help".to_vec(),
            unit: Vec::new(),
        });
        (
            prop::collection::vec(series, 0..5),
            prop::collection::vec(metadata, 0..2),
        )
            .prop_map(|(timeseries, metadata)| {
                v1::WriteRequest {
                    timeseries,
                    metadata,
                }
                .encode_to_vec()
            })
    }

    /// Typed 2.0 requests, mostly well formed, over the same vocabulary as symbols.
    fn v2_request() -> impl Strategy<Value = Vec<u8>> {
        // Mostly `__name__="up"` plus pairs from the vocabulary, sometimes anything.
        let named = prop::collection::vec(0..9u32, 0..5).prop_map(|mut rest| {
            rest.truncate(rest.len() & !1);
            rest.splice(0..0, [1, 2]);
            rest
        });
        let refs = prop_oneof![3 => named, 1 => prop::collection::vec(0..9u32, 0..7)];
        let exemplar = prop::collection::vec(0..9u32, 0..3).prop_map(|labels_refs| v2::Exemplar {
            labels_refs,
            value: 1.0,
            timestamp: 1,
        });
        let series = (
            refs,
            prop::collection::vec(sample_values(), 0..3),
            prop_oneof![3 => Just(0usize), 1 => Just(1usize)],
            prop::collection::vec(exemplar, 0..2),
            prop::option::of((0..9i32, 0..9u32, 0..9u32)),
        )
            .prop_map(|(labels_refs, samples, histograms, exemplars, meta)| {
                v2::TimeSeries {
                    labels_refs,
                    samples: samples
                        .into_iter()
                        .map(|(value, timestamp)| v2::Sample {
                            value,
                            timestamp,
                            start_timestamp: 0,
                        })
                        .collect(),
                    histograms: vec![v2::Histogram::default(); histograms],
                    exemplars,
                    metadata: meta.map(|(t, help_ref, unit_ref)| v2::Metadata {
                        r#type: t,
                        help_ref,
                        unit_ref,
                    }),
                    created_timestamp: 0,
                }
            });
        let good_table = prop_oneof![5 => Just(true), 1 => Just(false)];
        (good_table, prop::collection::vec(series, 0..5)).prop_map(|(good_table, timeseries)| {
            let mut symbols: Vec<Vec<u8>> = WORDS.iter().map(|w| w.to_vec()).collect();
            if !good_table {
                symbols.swap(0, 2);
            }
            v2::Request {
                symbols,
                timeseries,
            }
            .encode_to_vec()
        })
    }

    fn edit(bytes: &mut Vec<u8>, edits: Vec<(prop::sample::Index, u8, u8)>) {
        for (at, byte, op) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => bytes.truncate(i),
                _ => bytes.insert(i, byte),
            }
        }
    }

    fn edits() -> impl Strategy<Value = Vec<(prop::sample::Index, u8, u8)>> {
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 0..3)
    }

    fn fixture_protobufs() -> Vec<Vec<u8>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut out: Vec<Vec<u8>> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "bin"))
            .map(|p| crate::decompress(&std::fs::read(p).unwrap(), usize::MAX).unwrap())
            .collect();
        out.sort();
        out
    }

    #[test]
    fn fixtures_agree() {
        for bytes in fixture_protobufs() {
            agree(&bytes);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn random_messages_agree(body in message(3)) {
            agree(&body);
        }

        #[test]
        fn random_bytes_agree(body in prop::collection::vec(any::<u8>(), 0..256)) {
            agree(&body);
        }

        #[test]
        fn typed_requests_agree(v1 in v1_request(), v2 in v2_request(), e1 in edits(), e2 in edits()) {
            for (mut bytes, e) in [(v1, e1), (v2, e2)] {
                edit(&mut bytes, e);
                agree(&bytes);
            }
        }

        #[test]
        fn mutated_fixtures_agree(which in 0..6usize, e in edits()) {
            let mut bytes = fixture_protobufs()[which].clone();
            edit(&mut bytes, e);
            agree(&bytes);
        }
    }
}
