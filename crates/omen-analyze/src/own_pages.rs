//! Column chunks of `scores.parquet` that omen encodes itself rather than through Arrow's
//! Parquet writer, all in this module (`OMEN_SCORES_WRITER=arrow` writes the same rows through
//! the parquet crate's public API instead; docs/performance.md has why these stay): the five
//! float columns here, and what they share with the others omen
//! encodes (timestamps in [`time_chunk`](self::time_chunk), the verdict in
//! [`flag_chunk`](self::flag_chunk), text series columns in
//! [`label_chunk`](self::label_chunk)): the page sink and the buffers handed back.
//!
//! Arrow's writer is general: it gathers every value through an index, keeps page statistics
//! row by row, grows each page's buffer from empty, and interns every row's label strings into
//! its dictionary. On a 100 M-point run that was about a quarter of the CPU time, for columns
//! that need none of it:
//! - a float column of scores is required, plain-encoded and uncompressed, so a page is the
//!   values' bytes as they are, each batch's buffer a page ([`FloatChunk`]). Uncompressed
//!   because snappy did not shrink the values or bands, and while it took scores from 8 to 3.2
//!   bytes a row, writing those bytes around the page cache cost less than compressing them
//!   (paired 100 M-point runs);
//! - a label changes only where the series does, once in thousands of rows, so a text column
//!   is a dictionary of the row group's labels and one run-length entry per run of rows
//!   ([`LabelChunk`](self::label_chunk::LabelChunk)).
//!
//! Pages and their headers still go through the `parquet` crate's page writer, and the chunk's
//! metadata through its builders; only the encoding of the values is done here.

pub(crate) mod flag_chunk;
pub(crate) mod label_chunk;
pub(crate) mod time_chunk;

use std::sync::Mutex;

use arrow::array::{Array, Float64Array};
use bytes::Bytes;
use parquet::basic::{Compression, Encoding, PageType};
use parquet::column::page::{CompressedPage, Page, PageWriter};
use parquet::column::writer::ColumnCloseResult;
use parquet::file::metadata::{ColumnChunkMetaData, ColumnIndexBuilder, PageEncodingStats};
use parquet::file::page_index::offset_index::{OffsetIndexMetaData, PageLocation};
use parquet::file::statistics::{Statistics, ValueStatistics};
use parquet::file::writer::{SerializedPageWriter, TrackedWrite};
use parquet::schema::types::ColumnDescPtr;

use crate::error::{Context, Result, ensure};

/// Values per data page of a float column at most: 1 MiB, Parquet's usual page size.
const FLOATS_PER_PAGE: usize = 1 << 17;
/// Values per data page of a float column at least, but for a row group's last page and one
/// before a large batch: 64 KiB.
const MIN_PAGE_VALUES: usize = 1 << 13;

/// Bytes a float chunk's buffer is allocated with, for row groups of about `group_rows` rows:
/// a row group ends with the batch that reaches `group_rows`, so it holds a batch more at most
/// (an eighth of a row group is more than any batch the reader makes), and each page's header
/// takes a few dozen bytes (pages of at least [`MIN_PAGE_VALUES`] values, but for one before
/// each large batch). One size for every buffer, so that buffers handed back from the file's
/// thread fit any chunk.
fn float_chunk_bytes(group_rows: usize) -> usize {
    let rows = group_rows + group_rows / 8;
    8 * rows + 64 * (2 * rows.div_ceil(MIN_PAGE_VALUES) + 2)
}

/// One encoded column chunk: its bytes, and the metadata that goes with them.
#[derive(Debug)]
pub(crate) struct OwnChunk {
    pub(crate) data: Bytes,
    pub(crate) close: ColumnCloseResult,
}

/// The buffers of written float chunks, handed back by the file's thread for the workers'
/// next row groups. A fresh buffer of a few megabytes is memory the kernel has to zero page by
/// page when it is first written (the allocator does not keep blocks that size once freed on
/// another thread): that was 4 % of the CPU time of a 100 M-point run.
#[derive(Debug, Default)]
pub(crate) struct BufferPool {
    buffers: Mutex<Vec<Vec<u8>>>,
}

impl BufferPool {
    /// Buffers kept at most: about those of the row groups in flight.
    const MAX_BUFFERS: usize = 64;
    /// Smaller buffers (label chunks) are not worth keeping.
    const MIN_BYTES: usize = 1 << 20;

    /// An empty buffer that can hold `bytes`, reused when one is free. Callers ask for one
    /// size, so a kept buffer always fits: growing one would have the allocator copy its old
    /// contents (it does not know they are no longer wanted) into fresh pages.
    pub(crate) fn take(&self, bytes: usize) -> Vec<u8> {
        let Ok(mut free) = self.buffers.lock() else {
            return Vec::with_capacity(bytes);
        };
        while let Some(mut buffer) = free.pop() {
            if buffer.capacity() >= bytes {
                buffer.clear();
                return buffer;
            }
        }
        Vec::with_capacity(bytes)
    }

    /// Keep `buffer` for a later [`take`](Self::take).
    pub(crate) fn give(&self, buffer: Vec<u8>) {
        if buffer.capacity() < Self::MIN_BYTES {
            return;
        }
        if let Ok(mut free) = self.buffers.lock()
            && free.len() < Self::MAX_BUFFERS
        {
            free.push(buffer);
        }
    }
}

/// Writes the pages of one chunk into memory and keeps what its metadata needs.
pub(super) struct PageSink {
    sink: TrackedWrite<Vec<u8>>,
    locations: Vec<PageLocation>,
    encoding_stats: Vec<PageEncodingStats>,
    dictionary_len: Option<i64>,
    uncompressed: i64,
}

impl PageSink {
    /// Pages written into `buffer` (empty).
    pub(super) fn new(buffer: Vec<u8>) -> Self {
        Self {
            sink: TrackedWrite::new(buffer),
            locations: Vec::new(),
            encoding_stats: Vec::new(),
            dictionary_len: None,
            uncompressed: 0,
        }
    }

    /// Write `page` (uncompressed). `first_row` is the row group's index of a data page's
    /// first row.
    pub(super) fn write(&mut self, page: Page, first_row: i64) -> Result<()> {
        let size = page.buffer().len();
        let page_type = page.page_type();
        let encoding = page.encoding();
        let spec = SerializedPageWriter::new(&mut self.sink)
            .write_page(CompressedPage::new(page, size))
            .context("cannot encode scores")?;
        self.uncompressed += spec.uncompressed_size as i64;
        if page_type == PageType::DICTIONARY_PAGE {
            self.dictionary_len = Some(spec.bytes_written as i64);
        } else {
            self.locations.push(PageLocation {
                offset: spec.offset as i64,
                compressed_page_size: spec.bytes_written as i32,
                first_row_index: first_row,
            });
        }
        match self.encoding_stats.last_mut() {
            Some(last) if last.page_type == page_type && last.encoding == encoding => {
                last.count += 1
            }
            _ => self.encoding_stats.push(PageEncodingStats {
                page_type,
                encoding,
                count: 1,
            }),
        }
        Ok(())
    }

    /// The chunk of `rows` rows, with `statistics` and the pages' min/max in `column_index`.
    pub(super) fn finish(
        self,
        descr: &ColumnDescPtr,
        rows: u64,
        encodings: &[Encoding],
        statistics: Option<Statistics>,
        column_index: ColumnIndexBuilder,
    ) -> Result<OwnChunk> {
        let data = Bytes::from(self.sink.into_inner().context("cannot encode scores")?);
        let mut metadata = ColumnChunkMetaData::builder(descr.clone())
            .set_compression(Compression::UNCOMPRESSED)
            .set_encodings(encodings.to_vec())
            .set_page_encoding_stats(self.encoding_stats)
            .set_total_compressed_size(data.len() as i64)
            .set_total_uncompressed_size(self.uncompressed)
            .set_num_values(rows as i64)
            .set_dictionary_page_offset(self.dictionary_len.map(|_| 0))
            .set_data_page_offset(self.dictionary_len.unwrap_or(0));
        if let Some(statistics) = statistics {
            metadata = metadata.set_statistics(statistics);
        }
        let close = ColumnCloseResult {
            bytes_written: data.len() as u64,
            rows_written: rows,
            metadata: metadata.build().context("cannot encode scores")?,
            bloom_filter: None,
            column_index: if column_index.valid() {
                Some(column_index.build().context("cannot encode scores")?)
            } else {
                None
            },
            offset_index: Some(OffsetIndexMetaData {
                page_locations: self.locations,
                unencoded_byte_array_data_bytes: None,
            }),
        };
        Ok(OwnChunk { data, close })
    }
}

/// A required `DOUBLE` column, plain-encoded: each page is the values' little-endian bytes.
///
/// A batch's values become a page as they are (their buffer is shared, not copied), so the
/// only copy is into the chunk's buffer, after each page's header. Batches of fewer than
/// [`MIN_PAGE_VALUES`] values (a router that splits the reader's batches over many workers)
/// are gathered into one page, so that pages stay large enough for their headers and index
/// entries not to matter.
#[derive(Debug)]
pub(crate) struct FloatChunk {
    descr: ColumnDescPtr,
    /// About the rows of a row group, to allocate a chunk's buffer once.
    group_rows: usize,
    pages: Vec<Bytes>,
    /// Small batches' values, until they make a page.
    pending: Vec<u8>,
    rows: usize,
}

/// An Arrow buffer as the bytes of a page.
struct PageBytes(arrow::buffer::Buffer);

impl AsRef<[u8]> for PageBytes {
    fn as_ref(&self) -> &[u8] {
        self.0.as_slice()
    }
}

impl FloatChunk {
    /// For the column `descr`, which must be a required `DOUBLE` (see [`Self::fits`]), in
    /// row groups of about `group_rows` rows.
    pub(crate) fn new(descr: ColumnDescPtr, group_rows: usize) -> Self {
        Self {
            descr,
            group_rows,
            pages: Vec::new(),
            pending: Vec::new(),
            rows: 0,
        }
    }

    /// Whether `descr` is a column this encoder writes: a required, top-level `DOUBLE`, on a
    /// little-endian machine (the values' bytes are copied as they are in memory, and Parquet's
    /// are little-endian).
    pub(crate) fn fits(descr: &ColumnDescPtr) -> bool {
        cfg!(target_endian = "little")
            && descr.physical_type() == parquet::basic::Type::DOUBLE
            && descr.max_def_level() == 0
            && descr.max_rep_level() == 0
    }

    /// Append a batch's values (it has no nulls: the column is required).
    pub(crate) fn push(&mut self, values: &Float64Array) -> Result<()> {
        ensure!(
            values.null_count() == 0,
            "a null in the required column `{}`",
            self.descr.name()
        );
        self.rows += values.len();
        // The array's own buffer, already cut to its rows.
        let bytes = values.values().inner().clone();
        if bytes.len() >= 8 * MIN_PAGE_VALUES {
            self.flush_pending();
            self.push_pages(Bytes::from_owner(PageBytes(bytes)));
        } else {
            self.pending.extend_from_slice(bytes.as_slice());
            if self.pending.len() >= 8 * MIN_PAGE_VALUES {
                self.flush_pending();
            }
        }
        Ok(())
    }

    /// `data` as pages of at most [`FLOATS_PER_PAGE`] values.
    fn push_pages(&mut self, mut data: Bytes) {
        while data.len() > 8 * FLOATS_PER_PAGE {
            self.pages.push(data.split_to(8 * FLOATS_PER_PAGE));
        }
        if !data.is_empty() {
            self.pages.push(data);
        }
    }

    fn flush_pending(&mut self) {
        if !self.pending.is_empty() {
            let pending = std::mem::take(&mut self.pending);
            self.push_pages(Bytes::from(pending));
        }
    }

    /// Encode the chunk, into a buffer from `pool`, and start again.
    pub(crate) fn take(&mut self, pool: &BufferPool) -> Result<OwnChunk> {
        self.flush_pending();
        let rows = std::mem::take(&mut self.rows);
        let pages = std::mem::take(&mut self.pages);
        let bytes = float_chunk_bytes(self.group_rows).max(8 * rows + 64 * (pages.len() + 1));
        let mut sink = PageSink::new(pool.take(bytes));
        let mut column_index = ColumnIndexBuilder::new(parquet::basic::Type::DOUBLE);
        let mut bounds: Option<(f64, f64)> = None;
        let mut first_row = 0;
        for page in pages {
            match finite_bounds(&page) {
                Some((lo, hi)) => {
                    column_index.append(
                        false,
                        signed_zero(lo, -0.0).to_le_bytes().to_vec(),
                        signed_zero(hi, 0.0).to_le_bytes().to_vec(),
                        0,
                    );
                    bounds = Some(bounds.map_or((lo, hi), |(min, max)| (min.min(lo), max.max(hi))));
                }
                // A page of NaN only has no bounds to give, and a page that is not null must.
                None => column_index.to_invalid(),
            }
            let values = page.len() / 8;
            let page_data = Page::DataPage {
                buf: page,
                num_values: values as u32,
                encoding: Encoding::PLAIN,
                def_level_encoding: Encoding::RLE,
                rep_level_encoding: Encoding::RLE,
                statistics: None,
            };
            sink.write(page_data, first_row as i64)?;
            first_row += values;
        }
        sink.finish(
            &self.descr,
            rows as u64,
            &[Encoding::PLAIN, Encoding::RLE],
            Some(float_statistics(bounds)),
            column_index,
        )
    }
}

/// Append `value` as an unsigned LEB128 varint, as Parquet's encodings write their headers and
/// run lengths: seven bits a byte, least significant first, the high bit set on all but the
/// last.
pub(super) fn write_uleb128(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Statistics of a column with no nulls whose non-NaN values lie in `bounds` (none when every
/// value was NaN). A zero bound is written as -0.0 for the min and +0.0 for the max, as the
/// format asks, so that a reader comparing with either zero keeps the row group.
fn float_statistics(bounds: Option<(f64, f64)>) -> Statistics {
    Statistics::from(
        ValueStatistics::new(
            bounds.map(|(min, _)| signed_zero(min, -0.0)),
            bounds.map(|(_, max)| signed_zero(max, 0.0)),
            None,
            Some(0),
            false,
        )
        .with_backwards_compatible_min_max(true),
    )
}

/// A zero bound as statistics hold it: `zero`, signed.
fn signed_zero(bound: f64, zero: f64) -> f64 {
    if bound == 0.0 { zero } else { bound }
}

/// The smallest and largest values of `bytes` (little-endian doubles) but NaN, which Parquet's
/// statistics must not hold (the band of a series' first sample is NaN); none when every value
/// is NaN. Eight running bounds side by side, so that the compiler keeps them in vector
/// registers: one value at a time through `f64::min` took 5 % of the workers' time.
fn finite_bounds(bytes: &[u8]) -> Option<(f64, f64)> {
    const LANES: usize = 8;
    let mut lo = [f64::INFINITY; LANES];
    let mut hi = [f64::NEG_INFINITY; LANES];
    let mut blocks = bytes.chunks_exact(8 * LANES);
    for block in &mut blocks {
        for (lane, value) in block.chunks_exact(8).enumerate() {
            let v = f64::from_le_bytes(value.try_into().expect("8 bytes"));
            // Every comparison with NaN is false: a NaN changes neither bound.
            lo[lane] = if v < lo[lane] { v } else { lo[lane] };
            hi[lane] = if v > hi[lane] { v } else { hi[lane] };
        }
    }
    for value in blocks.remainder().chunks_exact(8) {
        let v = f64::from_le_bytes(value.try_into().expect("8 bytes"));
        lo[0] = if v < lo[0] { v } else { lo[0] };
        hi[0] = if v > hi[0] { v } else { hi[0] };
    }
    let lo = lo.into_iter().fold(f64::INFINITY, f64::min);
    let hi = hi.into_iter().fold(f64::NEG_INFINITY, f64::max);
    // Still at their start only when every value was NaN (one infinite value moves both).
    (lo <= hi).then_some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(values: &[f64]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    #[test]
    fn bounds_skip_nan_in_every_lane_and_the_remainder() {
        let mut values: Vec<f64> = (0..67).map(|i| (i as f64 - 30.0) * 0.5).collect();
        values[3] = f64::NAN;
        values[66] = f64::NAN;
        values[65] = -99.0; // in the remainder
        values[9] = 77.0;
        assert_eq!(finite_bounds(&bytes(&values)), Some((-99.0, 77.0)));
        assert_eq!(finite_bounds(&bytes(&[f64::NAN; 20])), None);
        assert_eq!(finite_bounds(&bytes(&[])), None);
        assert_eq!(
            finite_bounds(&bytes(&[f64::INFINITY, f64::NAN])),
            Some((f64::INFINITY, f64::INFINITY))
        );
        assert_eq!(
            finite_bounds(&bytes(&[f64::NEG_INFINITY; 9])),
            Some((f64::NEG_INFINITY, f64::NEG_INFINITY))
        );
    }
}
