//! Remote-write 1.0: `prometheus.WriteRequest` into a [`WriteSummary`] and visited series, read
//! straight from the wire (see `wire.rs`): labels are borrowed from the body until a series is
//! known to be valid, and only the visitor decides what to allocate.

use prost::Message;

use crate::batch::{Metadata, SeriesRef, WriteSummary};
use crate::collect::{Collector, Held};
use crate::decode::{invalid_protobuf, lossy_string};
use crate::error::Rejection;
use crate::histogram::check_histogram;
use crate::metric_type::MetricType;
use crate::proto::v1;
use crate::protocol::Protocol;
use crate::stats::InvalidReason;
use crate::wire::{Reader, WireError};

/// Buffers reused from one series to the next.
#[derive(Default)]
struct Scratch<'a> {
    labels: Vec<(&'a [u8], &'a [u8])>,
    pairs: Vec<(&'a str, &'a str)>,
    samples: Vec<(i64, f64)>,
}

/// Decodes a 1.0 body, handing each valid series to `visit`.
pub(crate) fn decode_v1(
    bytes: &[u8],
    visit: impl FnMut(SeriesRef<'_>),
) -> Result<WriteSummary, Rejection> {
    read_request(bytes, visit).map_err(|e| invalid_protobuf(Protocol::V1, e))
}

fn read_request(bytes: &[u8], visit: impl FnMut(SeriesRef<'_>)) -> Result<WriteSummary, WireError> {
    let mut out = Collector::new(visit);
    let mut metadata = Vec::new();
    let mut scratch = Scratch::default();
    let mut reader = Reader::new(bytes);
    while let Some((field, value)) = reader.next_field()? {
        match field {
            1 => {
                let series = value.bytes("WriteRequest.timeseries")?;
                read_series(series, &mut scratch, &mut out).map_err(|e| e.within("TimeSeries"))?;
            }
            3 => {
                let entry = v1::MetricMetadata::decode(value.bytes("WriteRequest.metadata")?)?;
                metadata.push(to_metadata(entry));
            }
            _ => {} // unknown (2 is reserved): skipped, as protobuf requires
        }
    }
    out.stats.metadata_received = metadata.len() as u64;
    Ok(out.finish(Protocol::V1, metadata))
}

fn read_series<'a, F: FnMut(SeriesRef<'_>)>(
    bytes: &'a [u8],
    scratch: &mut Scratch<'a>,
    out: &mut Collector<F>,
) -> Result<(), WireError> {
    scratch.labels.clear();
    scratch.samples.clear();
    let mut held = Held::default();
    let mut reader = Reader::new(bytes);
    while let Some((field, value)) = reader.next_field()? {
        match field {
            1 => {
                let label = read_label(value.bytes("TimeSeries.labels")?);
                scratch.labels.push(label.map_err(|e| e.within("Label"))?);
            }
            2 => {
                let sample = read_sample(value.bytes("TimeSeries.samples")?);
                scratch
                    .samples
                    .push(sample.map_err(|e| e.within("Sample"))?);
            }
            3 => {
                // Counted, not modelled; decoded only to check it.
                v1::Exemplar::decode(value.bytes("TimeSeries.exemplars")?)?;
                held.exemplars += 1;
            }
            4 => {
                let h = v1::Histogram::decode(value.bytes("TimeSeries.histograms")?)?;
                held.histograms += 1;
                held.bad_histograms += usize::from(check_histogram(&h).is_err());
            }
            _ => {}
        }
    }
    held.samples = scratch.samples.len();
    process_series(
        held,
        &scratch.labels,
        bytes,
        &scratch.samples,
        &mut scratch.pairs,
        out,
    );
    Ok(())
}

/// Checks the labels of a read series for UTF-8, then validates and keeps or drops it.
/// `within` is the message the label bytes were read from (empty when they were not read from
/// one buffer): their UTF-8 is then checked in one pass (see [`label_text`]).
pub(crate) fn process_series<'a, F: FnMut(SeriesRef<'_>)>(
    held: Held,
    labels: &[(&'a [u8], &'a [u8])],
    within: &'a [u8],
    samples: &[(i64, f64)],
    pairs: &mut Vec<(&'a str, &'a str)>,
    out: &mut Collector<F>,
) {
    if let Err(bad) = label_text(labels, within, pairs) {
        out.reject(held, InvalidReason::InvalidUtf8, || {
            format!(
                "label bytes {:?} are not UTF-8",
                String::from_utf8_lossy(bad)
            )
        });
        return;
    }
    out.accept(held, 0, pairs, samples, None);
}

/// The labels as text in `pairs`, or the first name or value that is not UTF-8.
///
/// A series' labels usually lie side by side in its message, between framing bytes that are
/// ASCII (tags, and lengths under 128): then one check of the span from the first to the last
/// covers all of them, and each is cut out of the checked text where it starts and ends on
/// a character boundary (any piece of valid UTF-8 cut at character boundaries is valid; a
/// label whose bytes are not UTF-8 cannot be cut out so, or makes the span invalid). Anything
/// else is checked label by label, with the same answer.
fn label_text<'a>(
    labels: &[(&'a [u8], &'a [u8])],
    within: &'a [u8],
    pairs: &mut Vec<(&'a str, &'a str)>,
) -> Result<(), &'a [u8]> {
    pairs.clear();
    let span = span_of(labels, within);
    let text = span.and_then(|(lo, hi)| std::str::from_utf8(&within[lo..hi]).ok());
    let base = within.as_ptr() as usize + span.map_or(0, |(lo, _)| lo);
    let cut = |bytes: &'a [u8]| -> Result<&'a str, &'a [u8]> {
        if bytes.is_empty() {
            return Ok("");
        }
        let from = (bytes.as_ptr() as usize).wrapping_sub(base);
        let fast = text.and_then(|text| text.get(from..from.wrapping_add(bytes.len())));
        match fast {
            Some(s) => Ok(s),
            None => std::str::from_utf8(bytes).map_err(|_| bytes),
        }
    };
    for &(name, value) in labels {
        pairs.push((cut(name)?, cut(value)?));
    }
    Ok(())
}

/// The byte range of `within` from the first non-empty label string to the end of the last,
/// if they all lie in it.
fn span_of(labels: &[(&[u8], &[u8])], within: &[u8]) -> Option<(usize, usize)> {
    let base = within.as_ptr() as usize;
    let (mut lo, mut hi) = (usize::MAX, 0);
    for bytes in labels.iter().flat_map(|&(n, v)| [n, v]) {
        if bytes.is_empty() {
            continue;
        }
        let from = (bytes.as_ptr() as usize).checked_sub(base)?;
        let to = from.checked_add(bytes.len())?;
        if to > within.len() {
            return None;
        }
        (lo, hi) = (lo.min(from), hi.max(to));
    }
    (lo < hi).then_some((lo, hi))
}

/// `Label { bytes name = 1; bytes value = 2; }`; the last occurrence of a field wins.
fn read_label(bytes: &[u8]) -> Result<(&[u8], &[u8]), WireError> {
    let (mut name, mut value): (&[u8], &[u8]) = (&[], &[]);
    let mut reader = Reader::new(bytes);
    while let Some((field, v)) = reader.next_field()? {
        match field {
            1 => name = v.bytes("Label.name")?,
            2 => value = v.bytes("Label.value")?,
            _ => {}
        }
    }
    Ok((name, value))
}

/// `Sample { double value = 1; int64 timestamp = 2; }`, as `(timestamp, value)`.
fn read_sample(bytes: &[u8]) -> Result<(i64, f64), WireError> {
    let (mut timestamp, mut value) = (0i64, 0f64);
    let mut reader = Reader::new(bytes);
    while let Some((field, v)) = reader.next_field()? {
        match field {
            1 => value = f64::from_bits(v.fixed64("Sample.value")?),
            2 => timestamp = v.varint("Sample.timestamp")? as i64,
            _ => {}
        }
    }
    Ok((timestamp, value))
}

pub(crate) fn to_metadata(m: v1::MetricMetadata) -> Metadata {
    Metadata {
        metric_family_name: lossy_string(m.metric_family_name),
        metric_type: MetricType::from_wire(m.r#type),
        help: lossy_string(m.help),
        unit: lossy_string(m.unit),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::WriteBatch;

    /// The owned decoder over this protocol (shadows the visitor-taking one above).
    fn decode_v1(bytes: &[u8]) -> Result<WriteBatch, Rejection> {
        crate::decode(Protocol::V1, bytes)
    }
    use crate::stats::WriteStats;
    use omen_core::STALE_NAN_BITS;

    fn label(name: &[u8], value: &[u8]) -> v1::Label {
        v1::Label {
            name: name.to_vec(),
            value: value.to_vec(),
        }
    }

    fn series(labels: &[(&str, &str)], samples: usize) -> v1::TimeSeries {
        v1::TimeSeries {
            labels: labels
                .iter()
                .map(|(n, v)| label(n.as_bytes(), v.as_bytes()))
                .collect(),
            samples: (0..samples)
                .map(|i| v1::Sample {
                    value: i as f64 + 0.5,
                    timestamp: 1000 + i as i64,
                })
                .collect(),
            ..Default::default()
        }
    }

    fn decode_series_list(timeseries: Vec<v1::TimeSeries>) -> WriteBatch {
        let body = v1::WriteRequest {
            timeseries,
            metadata: Vec::new(),
        }
        .encode_to_vec();
        decode_v1(&body).unwrap()
    }

    const UP: &[(&str, &str)] = &[("__name__", "up"), ("job", "node")];

    #[test]
    fn one_bad_series_costs_only_itself() {
        let mut bad_utf8 = series(UP, 1);
        bad_utf8.labels[1].value = b"no\xffde".to_vec();
        let mut histogram_only = series(&[("__name__", "h")], 0);
        histogram_only.histograms.push(v1::Histogram::default());
        let mut with_exemplar = series(&[("__name__", "e")], 1);
        with_exemplar.exemplars.push(v1::Exemplar::default());
        // (name, series, Ok(printed labels of the listed series) or Err(reason))
        let cases: Vec<(&str, v1::TimeSeries, Result<&str, InvalidReason>)> = vec![
            ("valid", series(UP, 2), Ok(r#"up{job="node"}"#)),
            (
                "missing name",
                series(&[("job", "node")], 1),
                Err(InvalidReason::MissingMetricName),
            ),
            (
                "empty name value",
                series(&[("__name__", "")], 1),
                Err(InvalidReason::MissingMetricName),
            ),
            (
                "no labels",
                series(&[], 1),
                Err(InvalidReason::MissingMetricName),
            ),
            (
                "empty label name",
                series(&[("", "x"), ("__name__", "up")], 1),
                Err(InvalidReason::EmptyLabelName),
            ),
            (
                "duplicate label",
                series(&[("__name__", "up"), ("job", "a"), ("job", "b")], 1),
                Err(InvalidReason::DuplicateLabelName),
            ),
            ("not utf-8", bad_utf8, Err(InvalidReason::InvalidUtf8)),
            (
                "unsorted is sorted",
                series(&[("job", "node"), ("__name__", "up")], 1),
                Ok(r#"up{job="node"}"#),
            ),
            (
                "empty value dropped",
                series(&[("__name__", "up"), ("zone", "")], 1),
                Ok("up"),
            ),
            ("exemplar counted", with_exemplar, Ok("e")),
        ];
        for (name, bad, expected) in cases {
            // Each case sits between two valid series, which must survive it.
            let batch = decode_series_list(vec![series(UP, 1), bad, series(UP, 1)]);
            let s = &batch.stats;
            assert_eq!(s.series_received, 3, "{name}");
            match expected {
                Ok(printed) => {
                    assert_eq!(batch.series.len(), 3, "{name}");
                    assert_eq!(batch.series[1].labels.to_string(), printed, "{name}");
                    assert_eq!(s.series_accepted, 3, "{name}");
                    assert_eq!(s.samples_accepted, s.samples_received, "{name}");
                    assert_eq!(batch.outcome().status, 204, "{name}");
                }
                Err(reason) => {
                    assert_eq!(batch.series.len(), 2, "{name}");
                    assert_eq!(s.invalid_series.get(reason), 1, "{name}");
                    assert_eq!(s.invalid_series.total(), 1, "{name}");
                    assert_eq!(s.samples_accepted, 2, "{name}");
                    assert_eq!(s.invalid_samples, 1, "{name}");
                    let outcome = batch.outcome();
                    assert_eq!(outcome.status, 400, "{name}");
                    assert_eq!(outcome.samples_written, 2, "{name}");
                    let message = outcome.message.unwrap();
                    let expected =
                        format!("dropped 1 of 3 series (1 samples): 1 {}", reason.as_str());
                    assert!(message.starts_with(&expected), "{name}: {message}");
                }
            }
        }
        let batch = decode_series_list(vec![series(UP, 1), histogram_only]);
        assert_eq!(
            batch.series.len(),
            1,
            "histogram-only series are valid but not listed"
        );
        assert_eq!(
            (
                batch.stats.histograms_received,
                batch.stats.histograms_accepted
            ),
            (1, 1)
        );
        assert_eq!(batch.outcome().histograms_written, 1);
        let batch = decode_series_list(vec![series(UP, 0)]);
        assert!(batch.series.is_empty());
        assert_eq!(
            (batch.stats.series_accepted, batch.outcome().status),
            (1, 204)
        );
    }

    /// Labels checked for UTF-8 in one pass over their span, or one by one when the span
    /// cannot be: every case must get the answer of checking each string alone.
    #[test]
    fn label_text_agrees_with_checking_each_label() {
        let long = "v".repeat(200); // a two-byte length: framing that is not ASCII
        type Pairs<'a> = Vec<(&'a [u8], &'a [u8])>;
        let cases: Vec<(&str, Pairs<'_>)> = vec![
            ("ascii", vec![(b"__name__", b"up"), (b"job", b"node")]),
            (
                "multi-byte",
                vec![(b"__name__", "h\u{e9}llo \u{1f600}".as_bytes())],
            ),
            (
                "long value",
                vec![(b"__name__", b"up"), (b"v", long.as_bytes())],
            ),
            ("empty value", vec![(b"__name__", b"up"), (b"zone", b"")]),
            (
                "bad value",
                vec![(b"__name__", b"up"), (b"job", b"no\xffde")],
            ),
            ("bad name", vec![(b"\xc3", b"x"), (b"__name__", b"up")]),
            (
                "cut char",
                vec![(b"__name__", b"\xe2\x82"), (b"a", b"\xac")],
            ),
            ("lone continuation", vec![(b"__name__", b"\x82up")]),
        ];
        for (name, labels) in cases {
            let mut series = v1::TimeSeries::default();
            for (n, v) in &labels {
                series.labels.push(label(n, v));
            }
            // A sample between the labels in one variant: the span then holds a double.
            for interleave in [false, true] {
                let mut bytes = Vec::new();
                for (i, l) in series.labels.iter().enumerate() {
                    prost::encoding::message::encode(1, l, &mut bytes);
                    if interleave && i == 0 {
                        let sample = v1::Sample {
                            value: f64::from_bits(0xc3c3_c3c3_ffff_ffff),
                            timestamp: 7,
                        };
                        prost::encoding::message::encode(2, &sample, &mut bytes);
                    }
                }
                let mut reader = Reader::new(&bytes);
                let mut read = Vec::new();
                while let Some((field, value)) = reader.next_field().unwrap() {
                    if field == 1 {
                        read.push(read_label(value.bytes("labels").unwrap()).unwrap());
                    }
                }
                let mut pairs = Vec::new();
                let got = label_text(&read, &bytes, &mut pairs).map(|()| pairs.clone());
                let want = read
                    .iter()
                    .map(
                        |&(n, v)| match (std::str::from_utf8(n), std::str::from_utf8(v)) {
                            (Ok(n), Ok(v)) => Ok((n, v)),
                            (Err(_), _) => Err(n),
                            (_, Err(_)) => Err(v),
                        },
                    )
                    .collect::<Result<Vec<_>, _>>();
                assert_eq!(got, want, "{name}, interleaved: {interleave}");
            }
        }
    }

    #[test]
    fn flags_kept_counts() {
        let mut s = series(&[("job", "x"), ("__name__", "up"), ("zone", "")], 3);
        s.samples[1].value = f64::from_bits(STALE_NAN_BITS);
        s.samples[2].value = f64::from_bits(0x7ff8_0000_0000_0001);
        let batch = decode_series_list(vec![s]);
        let stats = &batch.stats;
        assert_eq!(
            (stats.series_resorted, stats.empty_label_values_dropped),
            (1, 1)
        );
        assert_eq!(stats.stale_markers, 1);
        let samples = &batch.series[0].samples;
        assert_eq!(samples[1].1.to_bits(), STALE_NAN_BITS);
        assert_eq!(samples[2].1.to_bits(), 0x7ff8_0000_0000_0001);
        assert_eq!(
            samples.iter().map(|s| s.0).collect::<Vec<_>>(),
            [1000, 1001, 1002]
        );
    }

    #[test]
    fn metadata_is_decoded_and_lossy_when_not_utf8() {
        let body = v1::WriteRequest {
            timeseries: Vec::new(),
            metadata: vec![
                v1::MetricMetadata {
                    r#type: 1,
                    metric_family_name: b"http_requests_total".to_vec(),
                    help: b"Requests.".to_vec(),
                    unit: Vec::new(),
                },
                v1::MetricMetadata {
                    r#type: 42,
                    metric_family_name: b"odd".to_vec(),
                    help: b"bad \xff byte".to_vec(),
                    unit: b"seconds".to_vec(),
                },
            ],
        }
        .encode_to_vec();
        let batch = decode_v1(&body).unwrap();
        assert_eq!(batch.stats.metadata_received, 2);
        assert!(batch.series.is_empty());
        assert_eq!(batch.outcome().status, 204);
        let m = &batch.metadata;
        assert_eq!(
            (m[0].metric_family_name.as_str(), m[0].metric_type),
            ("http_requests_total", MetricType::Counter)
        );
        assert_eq!(
            (m[1].metric_type, m[1].help.as_str(), m[1].unit.as_str()),
            (MetricType::Unknown, "bad \u{fffd} byte", "seconds")
        );
    }

    #[test]
    fn corrupt_protobuf_is_a_400() {
        let cases: &[(&str, &[u8])] = &[
            ("truncated series", &[0x0a, 0x10, 0x0a]),
            ("bad wire type", &[0x0f]),
            (
                "varint never ends",
                &[
                    0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                ],
            ),
            ("label bytes parsed as a message", b"0\x10\x0a\x08__name__"),
        ];
        for &(name, body) in cases {
            let r = decode_v1(body).unwrap_err();
            assert_eq!(
                (r.status, r.reason),
                (400, crate::RejectReason::InvalidProtobuf),
                "{name}"
            );
            assert!(
                r.message.contains("prometheus.WriteRequest"),
                "{name}: {}",
                r.message
            );
        }
        assert_eq!(
            decode_v1(&[]).unwrap().stats,
            WriteStats::default(),
            "empty body: empty request"
        );
    }
}
