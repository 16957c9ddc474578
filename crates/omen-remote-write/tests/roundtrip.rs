//! Encode, then decode: the same series come back, bit for bit, in both protocols.

use std::collections::BTreeMap;

use omen_remote_write::{
    Limits, Metadata, MetricType, Protocol, SeriesSamples, ValidatedLabels, content_type,
    decode_request, encode_v1, encode_v2,
};
use proptest::prelude::*;

fn label_name() -> impl Strategy<Value = String> {
    // Classic names, UTF-8 names with dots and spaces (the compliance suite's), and anything.
    prop_oneof![
        "[a-zA-Z_][a-zA-Z0-9_]{0,10}",
        "[a-z]{1,5}[. ][a-z]{1,5}",
        "\\PC{1,8}",
    ]
}

fn label_value() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z0-9:./-]{1,12}", "\\PC{1,10}", "[\"\\\\\n\r\t ]{1,4}"]
}

fn labels() -> impl Strategy<Value = ValidatedLabels> {
    (
        label_value(),
        prop::collection::btree_map(label_name(), label_value(), 0..8),
    )
        .prop_map(|(name, mut rest): (String, BTreeMap<String, String>)| {
            rest.insert("__name__".to_owned(), name);
            ValidatedLabels::new(rest).expect("unique, non-empty names and values with a name")
        })
}

fn samples() -> impl Strategy<Value = Vec<(i64, f64)>> {
    prop::collection::vec((any::<i64>(), any::<u64>().prop_map(f64::from_bits)), 1..6)
}

fn metric_type() -> impl Strategy<Value = MetricType> {
    (0..8i32).prop_map(MetricType::from_wire)
}

fn series(with_types: bool) -> impl Strategy<Value = Vec<SeriesSamples>> {
    prop::collection::vec(
        (labels(), samples(), metric_type()).prop_map(move |(labels, samples, t)| SeriesSamples {
            labels,
            samples,
            // 2.0 has no "unknown": 0 is "unspecified", which decodes as None.
            metric_type: (with_types && t != MetricType::Unknown).then_some(t),
        }),
        0..12,
    )
}

fn metadata() -> impl Strategy<Value = Vec<Metadata>> {
    prop::collection::vec(
        ("[a-z_]{1,12}", metric_type(), "\\PC{0,20}", "[a-z]{0,6}").prop_map(
            |(name, t, help, unit)| Metadata {
                metric_family_name: name,
                metric_type: t,
                help,
                unit,
            },
        ),
        0..5,
    )
}

fn decode(protocol: Protocol, body: &[u8]) -> omen_remote_write::WriteBatch {
    decode_request(
        Some(content_type(protocol)),
        Some("snappy"),
        body,
        &Limits::default(),
    )
    .unwrap()
}

fn assert_same(got: &[SeriesSamples], sent: &[SeriesSamples]) {
    assert_eq!(got.len(), sent.len());
    for (g, s) in got.iter().zip(sent) {
        assert_eq!(g.labels, s.labels);
        assert_eq!(g.metric_type, s.metric_type, "{}", s.labels);
        let bits = |x: &SeriesSamples| {
            x.samples
                .iter()
                .map(|&(t, v)| (t, v.to_bits()))
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(g), bits(s), "{}", s.labels);
    }
}

proptest! {
    #[test]
    fn v1_round_trip(sent in series(false), meta in metadata()) {
        let batch = decode(Protocol::V1, &encode_v1(&sent, &meta));
        assert_same(&batch.series, &sent);
        prop_assert_eq!(&batch.metadata, &meta);
        let outcome = batch.outcome();
        prop_assert_eq!(outcome.status, 204);
        prop_assert_eq!(outcome.samples_written, sent.iter().map(|s| s.samples.len() as u64).sum::<u64>());
    }

    #[test]
    fn v2_round_trip(sent in series(true)) {
        let batch = decode(Protocol::V2, &encode_v2(&sent, &[]));
        assert_same(&batch.series, &sent);
        prop_assert_eq!(batch.outcome().status, 204);
        prop_assert_eq!(batch.stats.series_resorted, 0);
    }
}
