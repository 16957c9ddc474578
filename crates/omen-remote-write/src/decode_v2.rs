//! Remote-write 2.0: `io.prometheus.write.v2.Request` into a [`WriteSummary`] and visited
//! series, read straight from the wire (see `wire.rs`). Symbols are checked for UTF-8 once;
//! labels are borrowed from them, and only the visitor decides what to allocate.

use prost::Message;

use crate::batch::{Metadata, SeriesRef, WriteSummary};
use crate::collect::{Collector, Held};
use crate::decode::{describe_pairs, invalid_protobuf};
use crate::error::{RejectReason, Rejection};
use crate::histogram::check_histogram;
use crate::metric_type::MetricType;
use crate::proto::{v1, v2};
use crate::protocol::Protocol;
use crate::stats::InvalidReason;
use crate::wire::{Reader, WireError};

/// The symbol table, each entry checked for UTF-8 once.
pub(crate) struct Symbols<'a> {
    raw: Vec<&'a [u8]>,
    text: Vec<Option<&'a str>>,
}

impl<'a> Symbols<'a> {
    pub(crate) fn new(raw: Vec<&'a [u8]>) -> Self {
        let text = raw.iter().map(|s| std::str::from_utf8(s).ok()).collect();
        Symbols { raw, text }
    }

    fn contains(&self, r: u32) -> bool {
        (r as usize) < self.text.len()
    }

    /// Whether the table breaks the rule that entry 0 is `""` (an empty table is fine).
    pub(crate) fn check_first(&self) -> Result<(), Rejection> {
        match self.raw.first() {
            Some(first) if !first.is_empty() => Err(Rejection::new(
                RejectReason::BadSymbolTable,
                format!(
                    "invalid symbol table: the first symbol must be the empty string, got {:?}",
                    String::from_utf8_lossy(first)
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Advisory text (help, unit): lossy when not UTF-8; the reference was checked.
    fn lossy(&self, r: u32) -> String {
        match self.text[r as usize] {
            Some(s) => s.to_owned(),
            None => String::from_utf8_lossy(self.raw[r as usize]).into_owned(),
        }
    }

    pub(crate) fn refs_ok(&self, refs: &[u32]) -> bool {
        refs.len().is_multiple_of(2) && refs.iter().all(|&r| self.contains(r))
    }
}

/// `Metadata { MetricType type = 1; uint32 help_ref = 3; uint32 unit_ref = 4; }`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct MetaRefs {
    pub(crate) kind: i32,
    pub(crate) help: u32,
    pub(crate) unit: u32,
}

/// Buffers reused from one series to the next.
#[derive(Default)]
struct Scratch<'a> {
    refs: Vec<u32>,
    pairs: Vec<(&'a str, &'a str)>,
    samples: Vec<(i64, f64)>,
}

/// Decodes a 2.0 body. The symbol table must start with `""` (else 400 for the whole
/// request); every other problem costs only its own series.
///
/// Series are visited before the symbol table's first entry is checked (the series must be
/// read anyway to tell a corrupt body from a bad table); on an error, discard what the visitor
/// collected.
pub(crate) fn decode_v2(
    bytes: &[u8],
    visit: impl FnMut(SeriesRef<'_>),
) -> Result<WriteSummary, Rejection> {
    let (symbols, summary) =
        read_request(bytes, visit).map_err(|e| invalid_protobuf(Protocol::V2, e))?;
    symbols.check_first()?;
    Ok(summary)
}

fn read_request(
    bytes: &[u8],
    visit: impl FnMut(SeriesRef<'_>),
) -> Result<(Symbols<'_>, WriteSummary), WireError> {
    // Symbols may follow the series on the wire: find both first, then read the series.
    let mut raw_symbols = Vec::new();
    let mut timeseries = Vec::new();
    let mut reader = Reader::new(bytes);
    while let Some((field, value)) = reader.next_field()? {
        match field {
            4 => raw_symbols.push(value.bytes("Request.symbols")?),
            5 => timeseries.push(value.bytes("Request.timeseries")?),
            _ => {} // unknown (1 to 3 are reserved): skipped
        }
    }
    let symbols = Symbols::new(raw_symbols);
    let mut out = Collector::new(visit);
    let mut metadata = Vec::new();
    let mut scratch = Scratch::default();
    for series in timeseries {
        read_series(series, &symbols, &mut scratch, &mut out, &mut metadata)
            .map_err(|e| e.within("TimeSeries"))?;
    }
    Ok((symbols, out.finish(Protocol::V2, metadata)))
}

fn read_series<'a, F: FnMut(SeriesRef<'_>)>(
    bytes: &[u8],
    symbols: &Symbols<'a>,
    scratch: &mut Scratch<'a>,
    out: &mut Collector<F>,
    metadata: &mut Vec<Metadata>,
) -> Result<(), WireError> {
    scratch.refs.clear();
    scratch.samples.clear();
    let mut held = Held::default();
    let mut bad_exemplars = 0;
    let mut meta = MetaRefs::default();
    let mut reader = Reader::new(bytes);
    while let Some((field, value)) = reader.next_field()? {
        match field {
            1 => value.uint32s("TimeSeries.labels_refs", &mut scratch.refs)?,
            2 => {
                let sample = read_sample(value.bytes("TimeSeries.samples")?);
                scratch
                    .samples
                    .push(sample.map_err(|e| e.within("Sample"))?);
            }
            3 => {
                // Counted, not modelled; decoded only to check it. 1.0's struct is 2.0's
                // without the start timestamp (field 17, skipped), which the check ignores.
                let h = v1::Histogram::decode(value.bytes("TimeSeries.histograms")?)?;
                held.histograms += 1;
                held.bad_histograms += usize::from(check_histogram(&h).is_err());
            }
            4 => {
                let exemplar = v2::Exemplar::decode(value.bytes("TimeSeries.exemplars")?)?;
                held.exemplars += 1;
                bad_exemplars += usize::from(!symbols.refs_ok(&exemplar.labels_refs));
            }
            5 => {
                let bytes = value.bytes("TimeSeries.metadata")?;
                merge_metadata(bytes, &mut meta).map_err(|e| e.within("Metadata"))?;
            }
            6 => drop(value.varint("TimeSeries.created_timestamp")?),
            _ => {}
        }
    }
    held.samples = scratch.samples.len();
    let read = ReadSeries {
        held,
        bad_exemplars,
        meta,
        refs: &scratch.refs,
        samples: &scratch.samples,
    };
    process_series(read, symbols, &mut scratch.pairs, out, metadata);
    Ok(())
}

/// A series as read from the wire, before validation.
pub(crate) struct ReadSeries<'s> {
    pub(crate) held: Held,
    /// Exemplars with broken label references.
    pub(crate) bad_exemplars: usize,
    pub(crate) meta: MetaRefs,
    pub(crate) refs: &'s [u32],
    pub(crate) samples: &'s [(i64, f64)],
}

/// Validates a read series (samples xor histograms, references, UTF-8, labels) and keeps or
/// drops it; a kept series with metadata adds its family's entry.
pub(crate) fn process_series<'a, F: FnMut(SeriesRef<'_>)>(
    read: ReadSeries<'_>,
    symbols: &Symbols<'a>,
    pairs: &mut Vec<(&'a str, &'a str)>,
    out: &mut Collector<F>,
    metadata: &mut Vec<Metadata>,
) {
    let ReadSeries {
        held,
        bad_exemplars,
        meta,
        refs,
        samples,
    } = read;
    if meta != MetaRefs::default() {
        out.stats.metadata_received += 1;
    }
    let broken = match (held.samples, held.histograms) {
        (0, 0) => Some(InvalidReason::NoSamples),
        (1.., 1..) => Some(InvalidReason::SamplesAndHistograms),
        _ if !refs.len().is_multiple_of(2) => Some(InvalidReason::OddLabelRefs),
        _ if !refs
            .iter()
            .chain([&meta.help, &meta.unit])
            .all(|&r| symbols.contains(r)) =>
        {
            Some(InvalidReason::BadSymbolRef)
        }
        _ => None,
    };
    if let Some(reason) = broken {
        out.reject(held, reason, || describe_refs(refs, symbols));
        return;
    }
    pairs.clear();
    for pair in refs.chunks_exact(2) {
        match (
            symbols.text[pair[0] as usize],
            symbols.text[pair[1] as usize],
        ) {
            (Some(name), Some(value)) => pairs.push((name, value)),
            _ => {
                out.reject(held, InvalidReason::InvalidUtf8, || {
                    describe_refs(refs, symbols)
                });
                return;
            }
        }
    }
    let metric_type = match MetricType::from_wire(meta.kind) {
        MetricType::Unknown => None,
        known => Some(known),
    };
    let kept = out.accept(held, bad_exemplars, pairs, samples, metric_type);
    if let Some(name) = kept
        && meta != MetaRefs::default()
    {
        push_metadata(metadata, name, metric_type, meta, symbols);
    }
}

/// `Sample { double value = 1; int64 timestamp = 2; int64 start_timestamp = 3; }`, as
/// `(timestamp, value)`.
fn read_sample(bytes: &[u8]) -> Result<(i64, f64), WireError> {
    let (mut timestamp, mut value) = (0i64, 0f64);
    let mut reader = Reader::new(bytes);
    while let Some((field, v)) = reader.next_field()? {
        match field {
            1 => value = f64::from_bits(v.fixed64("Sample.value")?),
            2 => timestamp = v.varint("Sample.timestamp")? as i64,
            3 => drop(v.varint("Sample.start_timestamp")?),
            _ => {}
        }
    }
    Ok((timestamp, value))
}

/// Reads one occurrence of the metadata field into `meta` (later occurrences merge, field by
/// field, as protobuf requires).
fn merge_metadata(bytes: &[u8], meta: &mut MetaRefs) -> Result<(), WireError> {
    let mut reader = Reader::new(bytes);
    while let Some((field, v)) = reader.next_field()? {
        // `as` truncates, as prost does for int32 and uint32.
        match field {
            1 => meta.kind = v.varint("Metadata.type")? as i32,
            3 => meta.help = v.varint("Metadata.help_ref")? as u32,
            4 => meta.unit = v.varint("Metadata.unit_ref")? as u32,
            _ => {}
        }
    }
    Ok(())
}

/// Adds the series' metadata unless the previous entry is the same family.
fn push_metadata(
    metadata: &mut Vec<Metadata>,
    name: &str,
    metric_type: Option<MetricType>,
    meta: MetaRefs,
    symbols: &Symbols<'_>,
) {
    if metadata
        .last()
        .is_some_and(|m| m.metric_family_name == name)
    {
        return;
    }
    metadata.push(Metadata {
        metric_family_name: name.to_owned(),
        metric_type: metric_type.unwrap_or(MetricType::Unknown),
        help: symbols.lossy(meta.help),
        unit: symbols.lossy(meta.unit),
    });
}

/// A dropped series whose references may be broken: the pairs that resolve, `?n` for the
/// rest (at most 64 pairs).
fn describe_refs(refs: &[u32], symbols: &Symbols<'_>) -> String {
    let text = |r: u32| -> String {
        match symbols.text.get(r as usize) {
            Some(Some(s)) => (*s).to_owned(),
            Some(None) => String::from_utf8_lossy(symbols.raw[r as usize]).into_owned(),
            None => format!("?{r}"),
        }
    };
    let owned: Vec<(String, String)> = refs
        .chunks(2)
        .take(64)
        .map(|p| {
            (
                text(p[0]),
                p.get(1).map_or_else(|| "?".to_owned(), |&r| text(r)),
            )
        })
        .collect();
    let pairs: Vec<(&str, &str)> = owned
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    describe_pairs(&pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::WriteBatch;

    /// The owned decoder over this protocol (shadows the visitor-taking one above).
    fn decode_v2(bytes: &[u8]) -> Result<WriteBatch, Rejection> {
        crate::decode(Protocol::V2, bytes)
    }

    /// Symbols for the tests: 0 "", 1 "__name__", 2 "up", 3 "job", 4 "node", 5 "help", 6 "unit",
    /// 7 not UTF-8, 8 "zone", 9 "".
    fn symbols() -> Vec<Vec<u8>> {
        ["", "__name__", "up", "job", "node", "help", "unit"]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .chain([b"\xffbad".to_vec(), b"zone".to_vec(), Vec::new()])
            .collect()
    }

    fn series(refs: &[u32], samples: usize) -> v2::TimeSeries {
        v2::TimeSeries {
            labels_refs: refs.to_vec(),
            samples: (0..samples)
                .map(|i| v2::Sample {
                    value: 2.0,
                    timestamp: 5 + i as i64,
                    start_timestamp: 0,
                })
                .collect(),
            ..Default::default()
        }
    }

    fn decode_request(
        symbols: Vec<Vec<u8>>,
        timeseries: Vec<v2::TimeSeries>,
    ) -> Result<WriteBatch, Rejection> {
        decode_v2(
            &v2::Request {
                symbols,
                timeseries,
            }
            .encode_to_vec(),
        )
    }

    const UP: &[u32] = &[1, 2, 3, 4];

    #[test]
    fn one_bad_series_costs_only_itself() {
        let with = |f: fn(&mut v2::TimeSeries)| {
            let mut s = series(UP, 1);
            f(&mut s);
            s
        };
        // (name, series, Ok(printed labels) or Err(reason))
        let cases: Vec<(&str, v2::TimeSeries, Result<&str, InvalidReason>)> = vec![
            ("valid", series(UP, 1), Ok(r#"up{job="node"}"#)),
            (
                "unsorted is sorted",
                series(&[3, 4, 1, 2], 1),
                Ok(r#"up{job="node"}"#),
            ),
            ("empty value dropped", series(&[1, 2, 8, 0], 1), Ok("up")),
            (
                "ref out of range",
                series(&[1, 2, 3, 99], 1),
                Err(InvalidReason::BadSymbolRef),
            ),
            (
                "odd refs",
                series(&[1, 2, 3], 1),
                Err(InvalidReason::OddLabelRefs),
            ),
            (
                "symbol not utf-8",
                series(&[1, 2, 3, 7], 1),
                Err(InvalidReason::InvalidUtf8),
            ),
            (
                "compliance: empty metric",
                series(&[], 1),
                Err(InvalidReason::MissingMetricName),
            ),
            (
                "compliance: without name label",
                series(&[3, 4], 1),
                Err(InvalidReason::MissingMetricName),
            ),
            (
                "compliance: empty name",
                series(&[1, 0], 1),
                Err(InvalidReason::MissingMetricName),
            ),
            (
                "empty label name",
                series(&[0, 4, 1, 2], 1),
                Err(InvalidReason::EmptyLabelName),
            ),
            (
                "duplicate",
                series(&[1, 2, 3, 4, 3, 2], 1),
                Err(InvalidReason::DuplicateLabelName),
            ),
            ("no samples", series(UP, 0), Err(InvalidReason::NoSamples)),
            (
                "samples and histograms",
                with(|s| s.histograms.push(v2::Histogram::default())),
                Err(InvalidReason::SamplesAndHistograms),
            ),
            (
                "help ref out of range",
                with(|s| {
                    s.metadata = Some(v2::Metadata {
                        r#type: 1,
                        help_ref: 50,
                        unit_ref: 0,
                    })
                }),
                Err(InvalidReason::BadSymbolRef),
            ),
            (
                "help not utf-8 is lossy",
                with(|s| {
                    s.metadata = Some(v2::Metadata {
                        r#type: 2,
                        help_ref: 7,
                        unit_ref: 6,
                    })
                }),
                Ok(r#"up{job="node"}"#),
            ),
            (
                "rc.3 created timestamp",
                with(|s| s.created_timestamp = 1),
                Ok(r#"up{job="node"}"#),
            ),
        ];
        for (name, bad, expected) in cases {
            let batch = decode_request(symbols(), vec![series(UP, 2), bad, series(UP, 2)]).unwrap();
            let s = &batch.stats;
            assert_eq!(s.series_received, 3, "{name}");
            match expected {
                Ok(printed) => {
                    assert_eq!(batch.series.len(), 3, "{name}");
                    assert_eq!(batch.series[1].labels.to_string(), printed, "{name}");
                    assert_eq!(batch.outcome().status, 204, "{name}");
                    assert_eq!(batch.outcome().samples_written, 5, "{name}");
                }
                Err(reason) => {
                    assert_eq!(batch.series.len(), 2, "{name}");
                    assert_eq!(s.invalid_series.get(reason), 1, "{name}");
                    assert_eq!(s.invalid_series.total(), 1, "{name}");
                    let outcome = batch.outcome();
                    assert_eq!(
                        (outcome.status, outcome.samples_written),
                        (400, 4),
                        "{name}"
                    );
                    let message = outcome.message.unwrap();
                    assert!(message.contains(reason.as_str()), "{name}: {message}");
                }
            }
        }
    }

    #[test]
    fn metadata_types_and_histograms() {
        let mut counter = series(UP, 1);
        counter.metadata = Some(v2::Metadata {
            r#type: 1,
            help_ref: 5,
            unit_ref: 6,
        });
        let mut same_family = series(&[1, 2, 3, 2], 1);
        same_family.metadata = counter.metadata;
        let mut unspecified = series(&[1, 4], 1);
        unspecified.metadata = Some(v2::Metadata {
            r#type: 0,
            help_ref: 0,
            unit_ref: 0,
        });
        let mut histogram = series(&[1, 3], 0);
        histogram.histograms = vec![v2::Histogram::default(), v2::Histogram::default()];
        histogram.exemplars = vec![v2::Exemplar {
            labels_refs: vec![3, 4],
            value: 1.0,
            timestamp: 1,
        }];
        let mut bad_exemplar = series(&[1, 8, 3, 4], 1);
        bad_exemplar.exemplars = vec![
            v2::Exemplar {
                labels_refs: vec![3, 4],
                value: 1.0,
                timestamp: 1,
            },
            v2::Exemplar {
                labels_refs: vec![3, 40],
                value: 1.0,
                timestamp: 1,
            },
            v2::Exemplar {
                labels_refs: vec![3],
                value: 1.0,
                timestamp: 1,
            },
        ];
        let batch = decode_request(
            symbols(),
            vec![counter, same_family, unspecified, histogram, bad_exemplar],
        )
        .unwrap();
        let types: Vec<Option<MetricType>> = batch.series.iter().map(|s| s.metric_type).collect();
        assert_eq!(
            types,
            [
                Some(MetricType::Counter),
                Some(MetricType::Counter),
                None,
                None
            ]
        );
        assert_eq!(
            batch.metadata,
            [Metadata {
                metric_family_name: "up".into(),
                metric_type: MetricType::Counter,
                help: "help".into(),
                unit: "unit".into(),
            }]
        );
        let s = &batch.stats;
        assert_eq!(s.metadata_received, 2);
        assert_eq!((s.histograms_received, s.histograms_accepted), (2, 2));
        assert_eq!(
            (
                s.exemplars_received,
                s.exemplars_accepted,
                s.invalid_exemplars
            ),
            (4, 2, 2)
        );
        let outcome = batch.outcome();
        assert_eq!(
            (
                outcome.status,
                outcome.samples_written,
                outcome.histograms_written,
                outcome.exemplars_written
            ),
            (400, 4, 2, 2)
        );
        assert_eq!(outcome.message.as_deref(), Some("dropped 2 of 4 exemplars"));
    }

    #[test]
    fn a_malformed_histogram_drops_its_series_only() {
        // The compliance suite's bad_count_histogram: 23 observations in the buckets, count 99.
        let bad = v2::Histogram {
            count: Some(v1::HistogramCount::CountInt(99)),
            positive_spans: vec![v1::BucketSpan {
                offset: 0,
                length: 3,
            }],
            positive_deltas: vec![1, 2, 20],
            ..v2::Histogram::default()
        };
        let mut bad_series = series(UP, 0);
        bad_series.histograms = vec![v2::Histogram::default(), bad];
        let mut good_series = series(&[1, 3], 0);
        good_series.histograms = vec![v2::Histogram::default()];
        let batch = decode_request(symbols(), vec![bad_series, good_series]).unwrap();
        let s = &batch.stats;
        assert_eq!((s.histograms_received, s.histograms_accepted), (3, 1));
        assert_eq!(s.invalid_series.get(InvalidReason::InvalidHistogram), 1);
        let outcome = batch.outcome();
        assert_eq!((outcome.status, outcome.histograms_written), (400, 1));
        assert_eq!(
            outcome.message.as_deref(),
            Some(
                "dropped 1 of 2 series (0 samples, 2 histograms): 1 invalid_histogram; \
                 first: up{job=\"node\"} (invalid_histogram)"
            )
        );
    }

    #[test]
    fn whole_request_rejections_and_edge_cases() {
        let r = decode_request(vec![b"__name__".to_vec()], vec![series(&[0, 0], 1)]).unwrap_err();
        assert_eq!((r.status, r.reason), (400, RejectReason::BadSymbolTable));
        assert!(r.message.contains("__name__"), "{}", r.message);

        let r = decode_v2(&[0x2a, 0x05, 0x01]).unwrap_err();
        assert_eq!((r.status, r.reason), (400, RejectReason::InvalidProtobuf));
        assert!(
            r.message.contains("io.prometheus.write.v2.Request"),
            "{}",
            r.message
        );

        let empty = decode_request(Vec::new(), Vec::new()).unwrap();
        assert_eq!(
            (empty.stats.series_received, empty.outcome().status),
            (0, 204)
        );

        // No symbols at all: every reference is out of range.
        let batch = decode_request(Vec::new(), vec![series(UP, 1)]).unwrap();
        assert_eq!(
            batch.stats.invalid_series.get(InvalidReason::BadSymbolRef),
            1
        );

        // A 1.0 body sent as 2.0: its fields (1, 3) are reserved in 2.0, so it reads as empty,
        // as in Prometheus.
        let v1_body = crate::proto::v1::WriteRequest {
            timeseries: vec![crate::proto::v1::TimeSeries {
                labels: vec![crate::proto::v1::Label {
                    name: b"__name__".to_vec(),
                    value: b"up".to_vec(),
                }],
                samples: vec![crate::proto::v1::Sample {
                    value: 1.0,
                    timestamp: 1,
                }],
                ..Default::default()
            }],
            metadata: Vec::new(),
        }
        .encode_to_vec();
        let batch = decode_v2(&v1_body).unwrap();
        assert_eq!((batch.stats.series_received, batch.series.len()), (0, 0));
    }
}
