//! Writes an `io.prometheus.write.v2.Request` (remote-write 2.0).

use foldhash::{HashMap, HashMapExt};

use super::symbols::SymbolTable;
use super::wire::{
    double_field_len, int_field_len, len_field_len, put_bytes, put_double, put_int, put_len_header,
    put_varint, varint_len,
};
use crate::batch::{Metadata, SeriesSamples};
use crate::metric_type::MetricType;

/// A series' metadata as references.
#[derive(Clone, Copy, Default)]
struct MetaRefs {
    kind: i64,
    help: u32,
    unit: u32,
}

impl MetaRefs {
    fn len(self) -> usize {
        int_field_len(self.kind)
            + int_field_len(i64::from(self.help))
            + int_field_len(i64::from(self.unit))
    }
}

/// Each series' type comes from [`SeriesSamples::metric_type`], else from the `metadata` entry
/// of its family; help and unit from that entry. Metadata of families with no series in the
/// request cannot be expressed in 2.0 and is left out.
pub(super) fn write_request(buf: &mut Vec<u8>, series: &[SeriesSamples], metadata: &[Metadata]) {
    let mut by_family: HashMap<&str, &Metadata> = HashMap::with_capacity(metadata.len());
    for m in metadata {
        by_family.insert(&m.metric_family_name, m);
    }
    let label_count: usize = series.iter().map(|s| s.labels.len()).sum();
    let mut table = SymbolTable::with_capacity(label_count.min(1 << 16));
    let mut refs: Vec<u32> = Vec::with_capacity(2 * label_count);
    let mut metas: Vec<MetaRefs> = Vec::with_capacity(series.len());
    for s in series {
        for (name, value) in s.labels.iter() {
            refs.push(table.symbol(name));
            refs.push(table.symbol(value));
        }
        let family = s
            .labels
            .name()
            .and_then(|name| by_family.get(name).copied());
        let kind = s
            .metric_type
            .or(family.map(|m| m.metric_type))
            .unwrap_or(MetricType::Unknown);
        metas.push(MetaRefs {
            kind: i64::from(kind.to_wire()),
            help: family.map_or(0, |m| table.symbol(&m.help)),
            unit: family.map_or(0, |m| table.symbol(&m.unit)),
        });
    }

    for symbol in table.symbols() {
        put_bytes(buf, 4, symbol.as_bytes()); // Request.symbols
    }
    let mut refs = refs.as_slice();
    for (s, meta) in series.iter().zip(metas) {
        let (mine, rest) = refs.split_at(2 * s.labels.len());
        refs = rest;
        let packed_len: usize = mine.iter().map(|&r| varint_len(u64::from(r))).sum();
        let labels_len = if mine.is_empty() {
            0
        } else {
            len_field_len(packed_len)
        };
        let samples_len: usize = s
            .samples
            .iter()
            .map(|&(ts, v)| len_field_len(sample_len(ts, v)))
            .sum();
        let meta_len = meta.len();
        let metadata_len = if meta_len == 0 {
            0
        } else {
            len_field_len(meta_len)
        };
        put_len_header(buf, 5, labels_len + samples_len + metadata_len); // Request.timeseries
        if !mine.is_empty() {
            put_len_header(buf, 1, packed_len); // TimeSeries.labels_refs, packed
            for &r in mine {
                put_varint(buf, u64::from(r));
            }
        }
        for &(ts, value) in &s.samples {
            put_len_header(buf, 2, sample_len(ts, value)); // TimeSeries.samples
            put_double(buf, 1, value);
            put_int(buf, 2, ts);
        }
        if meta_len > 0 {
            put_len_header(buf, 5, meta_len); // TimeSeries.metadata
            put_int(buf, 1, meta.kind);
            put_int(buf, 3, i64::from(meta.help));
            put_int(buf, 4, i64::from(meta.unit));
        }
    }
}

fn sample_len(ts: i64, value: f64) -> usize {
    double_field_len(value) + int_field_len(ts)
}
