//! The `anomaly` column of `scores.parquet`: a required boolean, `PLAIN`-encoded, which in
//! Parquet is one bit per row, least significant first, as Arrow holds it in memory. So a
//! page is a copy of the verdicts' bits. Arrow's writer read each verdict out of its bitmap
//! and packed it again, one at a time.

use arrow::array::{Array, AsArray, BooleanBufferBuilder};
use arrow::datatypes::DataType;
use bytes::Bytes;
use parquet::basic::{Encoding, Type as PhysicalType};
use parquet::column::page::Page;
use parquet::file::metadata::ColumnIndexBuilder;
use parquet::file::statistics::{Statistics, ValueStatistics};
use parquet::schema::types::ColumnDescPtr;

use super::{OwnChunk, PageSink};
use crate::error::{Context, Result, bail, ensure};

/// Rows per data page: as many as the float columns' largest page (a multiple of 8, so that
/// each page starts on a byte).
const ROWS_PER_PAGE: usize = 1 << 17;

/// One boolean column's chunk in the making.
#[derive(Debug)]
pub(crate) struct FlagChunk {
    descr: ColumnDescPtr,
    bits: BooleanBufferBuilder,
}

impl FlagChunk {
    /// Whether this encoder writes the column of `data_type` stored as `descr`: a required,
    /// top-level boolean.
    pub(crate) fn fits(data_type: &DataType, descr: &ColumnDescPtr) -> bool {
        *data_type == DataType::Boolean
            && descr.physical_type() == PhysicalType::BOOLEAN
            && descr.max_def_level() == 0
            && descr.max_rep_level() == 0
    }

    pub(crate) fn new(descr: ColumnDescPtr) -> Self {
        Self {
            descr,
            bits: BooleanBufferBuilder::new(0),
        }
    }

    /// Append a batch's flags (it has no nulls: the column is required).
    pub(crate) fn push(&mut self, column: &dyn Array) -> Result<()> {
        let name = self.descr.name();
        ensure!(
            column.null_count() == 0,
            "a null in the required column `{name}`"
        );
        let flags = column
            .as_boolean_opt()
            .with_context(|| format!("the column `{name}` is not boolean"))?;
        self.bits.append_buffer(flags.values());
        Ok(())
    }

    /// Encode the chunk and start again.
    pub(crate) fn take(&mut self) -> Result<OwnChunk> {
        let rows = self.bits.len();
        if rows == 0 {
            bail!("an empty row group");
        }
        let bits = self.bits.finish();
        debug_assert_eq!(bits.offset(), 0);
        let pages = rows.div_ceil(ROWS_PER_PAGE);
        let mut sink = PageSink::new(Vec::with_capacity(rows / 8 + 64 * pages));
        let mut column_index = ColumnIndexBuilder::new(PhysicalType::BOOLEAN);
        let (mut any_false, mut any_true) = (false, false);
        for page in 0..pages {
            let start = page * ROWS_PER_PAGE;
            let len = ROWS_PER_PAGE.min(rows - start);
            let slice = bits.slice(start, len);
            let set = slice.count_set_bits();
            let (min, max) = (set == len, set > 0);
            column_index.append(false, vec![min as u8], vec![max as u8], 0);
            any_false |= !min;
            any_true |= max;
            // `start` is a multiple of 8 (and the buffer's bits start at its first byte): the
            // page's bytes are the buffer's as they are, but for the bits past the page's last
            // row, which must not carry a later row's flag.
            let mut body = bits.values()[start / 8..(start + len).div_ceil(8)].to_vec();
            if !len.is_multiple_of(8)
                && let Some(last) = body.last_mut()
            {
                *last &= (1u8 << (len % 8)) - 1;
            }
            sink.write(
                Page::DataPage {
                    buf: Bytes::from(body),
                    num_values: len as u32,
                    encoding: Encoding::PLAIN,
                    def_level_encoding: Encoding::RLE,
                    rep_level_encoding: Encoding::RLE,
                    statistics: None,
                },
                start as i64,
            )?;
        }
        let statistics = Statistics::from(ValueStatistics::new(
            Some(!any_false),
            Some(any_true),
            None,
            Some(0),
            false,
        ));
        sink.finish(
            &self.descr,
            rows as u64,
            &[Encoding::PLAIN, Encoding::RLE],
            Some(statistics),
            column_index,
        )
        .with_context(|| format!("cannot encode the column `{}`", self.descr.name()))
    }
}
