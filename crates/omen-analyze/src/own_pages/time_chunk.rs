//! The `timestamp` column of `scores.parquet`, encoded as Parquet's `DELTA_BINARY_PACKED`.
//!
//! A series' samples come at a steady step, so within a block of 128 timestamps every delta is
//! the same and packs to zero bits: a block is its smallest delta and four zero bit widths. A
//! block where one series ends and the next begins packs every delta at the width of the jump.
//! Arrow's writer produced the same encoding, at about 3 % of a 100 M-point run's CPU time:
//! it is general (any bit width, any level structure), and it kept page statistics value by
//! value. This is the one case, done directly.

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Int64Type};
use bytes::Bytes;
use parquet::basic::{Encoding, Type as PhysicalType};
use parquet::column::page::Page;
use parquet::file::metadata::ColumnIndexBuilder;
use parquet::file::statistics::{Statistics, ValueStatistics};
use parquet::schema::types::ColumnDescPtr;

use super::{OwnChunk, PageSink, write_uleb128};
use crate::error::{Context, Result, bail, ensure};

/// Values per data page: the float columns' largest page (1 MiB of doubles).
const VALUES_PER_PAGE: usize = 1 << 17;
/// Deltas per block, and miniblocks per block: Arrow's writer's choice (the format asks for a
/// multiple of 128, and of 32 values per miniblock).
const BLOCK: usize = 128;
const MINIBLOCKS: usize = 4;
const MINIBLOCK: usize = BLOCK / MINIBLOCKS;

/// One timestamp column's chunk in the making.
#[derive(Debug)]
pub(crate) struct TimeChunk {
    descr: ColumnDescPtr,
    values: Vec<i64>,
}

impl TimeChunk {
    /// Whether this encoder writes the column of `data_type` stored as `descr`: a required,
    /// top-level timestamp (any unit: the values are written as they are).
    pub(crate) fn fits(data_type: &DataType, descr: &ColumnDescPtr) -> bool {
        matches!(data_type, DataType::Timestamp(..))
            && descr.physical_type() == PhysicalType::INT64
            && descr.max_def_level() == 0
            && descr.max_rep_level() == 0
    }

    pub(crate) fn new(descr: ColumnDescPtr) -> Self {
        Self {
            descr,
            values: Vec::new(),
        }
    }

    /// Append a batch's timestamps (it has no nulls: the column is required).
    pub(crate) fn push(&mut self, column: &dyn Array) -> Result<()> {
        let name = self.descr.name();
        ensure!(
            column.null_count() == 0,
            "a null in the required column `{name}`"
        );
        // Timestamps of any unit hold their values as 64-bit integers: read them as such.
        let data = column.to_data();
        let values = arrow::array::make_array(
            data.into_builder()
                .data_type(DataType::Int64)
                .build()
                .with_context(|| format!("the column `{name}` is not a timestamp"))?,
        );
        let values = values
            .as_primitive_opt::<Int64Type>()
            .with_context(|| format!("the column `{name}` is not a timestamp"))?;
        self.values.extend_from_slice(values.values());
        Ok(())
    }

    /// Encode the chunk and start again.
    pub(crate) fn take(&mut self) -> Result<OwnChunk> {
        let rows = self.values.len();
        if rows == 0 {
            bail!("an empty row group");
        }
        let pages = rows.div_ceil(VALUES_PER_PAGE);
        let mut sink = PageSink::new(Vec::with_capacity(rows / 16 + 64 * pages));
        let mut column_index = ColumnIndexBuilder::new(PhysicalType::INT64);
        let (mut min, mut max) = (i64::MAX, i64::MIN);
        for (page, values) in self.values.chunks(VALUES_PER_PAGE).enumerate() {
            let (lo, hi) = values
                .iter()
                .fold((i64::MAX, i64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
            column_index.append(
                false,
                lo.to_le_bytes().to_vec(),
                hi.to_le_bytes().to_vec(),
                0,
            );
            (min, max) = (min.min(lo), max.max(hi));
            let mut body = Vec::with_capacity(values.len() / 16 + 64);
            encode_delta_binary_packed(values, &mut body);
            sink.write(
                Page::DataPage {
                    buf: Bytes::from(body),
                    num_values: values.len() as u32,
                    encoding: Encoding::DELTA_BINARY_PACKED,
                    def_level_encoding: Encoding::RLE,
                    rep_level_encoding: Encoding::RLE,
                    statistics: None,
                },
                (page * VALUES_PER_PAGE) as i64,
            )?;
        }
        self.values.clear();
        let statistics = Statistics::from(
            ValueStatistics::new(Some(min), Some(max), None, Some(0), false)
                .with_backwards_compatible_min_max(true),
        );
        sink.finish(
            &self.descr,
            rows as u64,
            &[Encoding::DELTA_BINARY_PACKED, Encoding::RLE],
            Some(statistics),
            column_index,
        )
        .with_context(|| format!("cannot encode the column `{}`", self.descr.name()))
    }
}

/// Append `values` (at least one) to `out` as one `DELTA_BINARY_PACKED` run: a header (block
/// size, miniblocks per block, value count, first value), then blocks of 128 deltas, each its
/// smallest delta, the bit width of each miniblock and the miniblocks' deltas above the
/// smallest, bit-packed. A last miniblock is padded with zeros; miniblocks the last block does
/// not need have a zero width and no bytes.
fn encode_delta_binary_packed(values: &[i64], out: &mut Vec<u8>) {
    write_uleb128(out, BLOCK as u64);
    write_uleb128(out, MINIBLOCKS as u64);
    write_uleb128(out, values.len() as u64);
    write_uleb128(out, zigzag(values[0]));
    let mut deltas = [0i64; BLOCK];
    // Value `i` (from 1) is the delta `values[i] − values[i − 1]`.
    for start in (1..values.len()).step_by(BLOCK) {
        let n = (values.len() - start).min(BLOCK);
        for (i, delta) in deltas[..n].iter_mut().enumerate() {
            *delta = values[start + i].wrapping_sub(values[start + i - 1]);
        }
        let deltas = &deltas[..n];
        let min = deltas.iter().copied().min().unwrap_or(0);
        write_uleb128(out, zigzag(min));
        let mut widths = [0u32; MINIBLOCKS];
        for (width, mini) in widths.iter_mut().zip(deltas.chunks(MINIBLOCK)) {
            let largest = mini.iter().map(|d| d.wrapping_sub(min) as u64).max();
            *width = largest.map_or(0, |v| u64::BITS - v.leading_zeros());
        }
        out.extend(widths.iter().map(|&w| w as u8));
        for (&width, mini) in widths.iter().zip(deltas.chunks(MINIBLOCK)) {
            if width > 0 {
                pack_miniblock(mini, min, width, out);
            }
        }
    }
}

/// Bit-pack 32 values `delta − min` (fewer: padded with zeros) at `width` bits each, least
/// significant bit first.
fn pack_miniblock(deltas: &[i64], min: i64, width: u32, out: &mut Vec<u8>) {
    let mut acc: u128 = 0;
    let mut bits = 0;
    for i in 0..MINIBLOCK {
        let value = deltas.get(i).map_or(0, |d| d.wrapping_sub(min) as u64);
        acc |= u128::from(value) << bits;
        bits += width;
        if bits >= 64 {
            out.extend_from_slice(&(acc as u64).to_le_bytes());
            acc >>= 64;
            bits -= 64;
        }
    }
    // 32 values of any width fill whole 32-bit words.
    out.extend_from_slice(&(acc as u64).to_le_bytes()[..(bits / 8) as usize]);
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    // Values read back through the `parquet` crate's decoder: see the round trips of
    // `scores_file`.

    #[test]
    fn steady_steps_pack_to_a_few_bytes_a_block() {
        let values: Vec<i64> = (0..12_801).map(|i| 60_000 * i).collect();
        let mut bytes = Vec::new();
        encode_delta_binary_packed(&values, &mut bytes);
        // 100 blocks of a 3-byte minimum and 4 zero widths, and a 6-byte header.
        assert_eq!(bytes.len(), 100 * 7 + 6);
    }

    #[test]
    fn a_miniblock_packs_least_significant_bit_first() {
        let deltas: Vec<i64> = (0..32).map(|i| 10 + (i % 4)).collect();
        let mut bytes = Vec::new();
        pack_miniblock(&deltas, 10, 2, &mut bytes);
        // 0, 1, 2, 3 at two bits each: 0b11_10_01_00 in every byte.
        assert_eq!(bytes, vec![0b1110_0100; 8]);
        let mut wide = Vec::new();
        pack_miniblock(&[i64::MAX, 0], i64::MIN, 64, &mut wide);
        assert_eq!(wide.len(), 32 * 8);
        assert_eq!(wide[..8], [0xff; 8]);
        assert_eq!(wide[8..16], i64::MIN.to_le_bytes());
        assert!(wide[16..].iter().all(|&b| b == 0), "padded with zeros");
    }
}
