//! Writes a `prometheus.WriteRequest` (remote-write 1.0).

use super::wire::{
    double_field_len, int_field_len, len_field_len, put_double, put_int, put_len_header,
    put_string, string_field_len,
};
use crate::batch::{Metadata, SeriesSamples};

pub(super) fn write_request(buf: &mut Vec<u8>, series: &[SeriesSamples], metadata: &[Metadata]) {
    for s in series {
        let labels_len: usize = s
            .labels
            .iter()
            .map(|(n, v)| len_field_len(label_len(n, v)))
            .sum();
        let samples_len: usize = s
            .samples
            .iter()
            .map(|&(ts, v)| len_field_len(sample_len(ts, v)))
            .sum();
        put_len_header(buf, 1, labels_len + samples_len); // WriteRequest.timeseries
        for (name, value) in s.labels.iter() {
            put_len_header(buf, 1, label_len(name, value)); // TimeSeries.labels
            put_string(buf, 1, name);
            put_string(buf, 2, value);
        }
        for &(ts, value) in &s.samples {
            put_len_header(buf, 2, sample_len(ts, value)); // TimeSeries.samples
            put_double(buf, 1, value);
            put_int(buf, 2, ts);
        }
    }
    for m in metadata {
        let kind = i64::from(m.metric_type.to_wire());
        let len = int_field_len(kind)
            + string_field_len(&m.metric_family_name)
            + string_field_len(&m.help)
            + string_field_len(&m.unit);
        put_len_header(buf, 3, len); // WriteRequest.metadata
        put_int(buf, 1, kind);
        put_string(buf, 2, &m.metric_family_name);
        put_string(buf, 4, &m.help);
        put_string(buf, 5, &m.unit);
    }
}

fn label_len(name: &str, value: &str) -> usize {
    string_field_len(name) + string_field_len(value)
}

fn sample_len(ts: i64, value: f64) -> usize {
    double_field_len(value) + int_field_len(ts)
}
