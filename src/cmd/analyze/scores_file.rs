//! `scores.parquet`, encoded in parallel.
//!
//! Encoding is most of the cost of writing scores: interning the series' labels into the
//! Parquet dictionaries, statistics, compression, and copying every page. One writer thread
//! doing all of it for every worker was the bottleneck of `omen analyze` (38 % of the CPU time,
//! on one core). So each worker encodes its own row groups with a [`RowGroupEncoder`], and the
//! file's thread only appends finished row groups ([`append_row_groups`]).
//!
//! A row group therefore holds the series of one worker only, which changes nothing for a
//! reader: rows were never in a defined order across series.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender};

use anyhow::{Context, Result};
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{
    ArrowColumnChunk, ArrowColumnWriter, ArrowRowGroupWriterFactory, compute_leaves,
};
use parquet::basic::{Compression, Encoding};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::ColumnPath;

use super::direct_file::DirectFile;
use super::label_stats::{self, LabelStats};

/// Rows per row group (Parquet's usual million): a worker holds one encoded row group, about
/// 40 MB, before handing it over.
const ROW_GROUP_ROWS: usize = 1 << 20;

/// One row group, encoded by a worker, to be appended to the file.
pub(crate) struct EncodedRowGroup {
    chunks: Vec<ArrowColumnChunk>,
    rows: u64,
}

/// How the columns of `scores.parquet` are encoded.
fn writer_properties(schema: &SchemaRef) -> WriterProperties {
    // Series columns: dictionaries (a handful of values each), compressed. The text ones get
    // their statistics from `LabelStats`, far cheaper than Parquet's row by row.
    let mut props = WriterProperties::builder().set_compression(Compression::SNAPPY);
    for field in schema.fields() {
        if label_stats::is_text(field.data_type()) {
            props = props.set_column_statistics_enabled(
                ColumnPath::from(field.name().as_str()),
                EnabledStatistics::None,
            );
        }
    }
    // Timestamps of a series come at a steady step, so their deltas pack to a few bits; plain
    // and compressed they took 5.6 bytes a row.
    let timestamp = ColumnPath::from("timestamp");
    props = props
        .set_column_dictionary_enabled(timestamp.clone(), false)
        .set_column_encoding(timestamp.clone(), Encoding::DELTA_BINARY_PACKED)
        .set_column_compression(timestamp, Compression::UNCOMPRESSED);
    // Values, bands and scores are nearly all distinct floats. A dictionary only costs hashing
    // every value before Parquet falls back to plain encoding, and compression gains nothing on
    // the bands (8.0 bytes a row either way) and little on the values. Snappy takes scores
    // from 8 to 3.2 bytes a row, but since the file is written around the page cache, writing
    // those bytes costs less than compressing them: 100 M points, paired runs, 13.9 -> 12.1 s
    // and 12.1 -> 11.7 s, for a file 14 % larger.
    for column in ["value", "score", "expected", "lower", "upper"] {
        props = props
            .set_column_dictionary_enabled(ColumnPath::from(column), false)
            .set_column_compression(ColumnPath::from(column), Compression::UNCOMPRESSED);
    }
    props.build()
}

/// Start `scores.parquet` in `file`: the file writer, for [`append_row_groups`], and the
/// factory every worker's [`RowGroupEncoder`] makes its column writers with.
pub(crate) fn create(
    file: DirectFile,
    schema: &SchemaRef,
) -> Result<(
    SerializedFileWriter<DirectFile>,
    Arc<ArrowRowGroupWriterFactory>,
)> {
    // Through `ArrowWriter`, so that the Arrow schema (dictionary types, time zones) goes into
    // the file's metadata as it would with the high-level writer.
    let (writer, factory) =
        ArrowWriter::try_new(file, schema.clone(), Some(writer_properties(schema)))
            .and_then(ArrowWriter::into_serialized_writer)
            .context("cannot start writing scores.parquet")?;
    Ok((writer, Arc::new(factory)))
}

/// Append every row group received to `writer`, then finish the file and flush it to disk.
/// Returns the rows written.
pub(crate) fn append_row_groups(
    mut writer: SerializedFileWriter<DirectFile>,
    inbox: Receiver<EncodedRowGroup>,
) -> Result<u64> {
    let mut rows = 0;
    for group in inbox {
        let mut row_group = writer
            .next_row_group()
            .context("cannot write scores.parquet")?;
        for chunk in group.chunks {
            chunk
                .append_to_row_group(&mut row_group)
                .context("cannot write scores.parquet")?;
        }
        row_group.close().context("cannot write scores.parquet")?;
        rows += group.rows;
    }
    let file = writer
        .into_inner()
        .context("cannot finish scores.parquet")?
        .finish()
        .context("cannot write scores.parquet")?;
    file.sync_all().context("cannot write scores.parquet")?;
    Ok(rows)
}

/// A worker's row group in the making.
pub(crate) struct RowGroupEncoder {
    factory: Arc<ArrowRowGroupWriterFactory>,
    schema: SchemaRef,
    writers: Vec<ArrowColumnWriter>,
    rows: usize,
    label_stats: LabelStats,
    output: SyncSender<EncodedRowGroup>,
}

impl RowGroupEncoder {
    pub(crate) fn new(
        factory: Arc<ArrowRowGroupWriterFactory>,
        schema: SchemaRef,
        output: SyncSender<EncodedRowGroup>,
    ) -> Result<Self> {
        let writers = new_writers(&factory)?;
        let label_stats = LabelStats::new(&schema);
        Ok(Self {
            factory,
            schema,
            writers,
            rows: 0,
            label_stats,
            output,
        })
    }

    /// Encode `batch` (of the scores schema); hand the row group over once it is full.
    pub(crate) fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let mut writers = self.writers.iter_mut();
        for (field, column) in self.schema.fields().iter().zip(batch.columns()) {
            for leaf in compute_leaves(field, column).context("cannot encode scores")? {
                writers
                    .next()
                    .context("scores.parquet has fewer columns than a batch")?
                    .write(&leaf)
                    .context("cannot encode scores")?;
            }
        }
        self.label_stats.observe(batch.columns())?;
        self.rows += batch.num_rows();
        if self.rows >= ROW_GROUP_ROWS {
            let full = std::mem::replace(&mut self.writers, new_writers(&self.factory)?);
            return self.hand_over(full);
        }
        Ok(())
    }

    /// Hand over the last, partial row group.
    pub(crate) fn finish(mut self) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let last = std::mem::take(&mut self.writers);
        self.hand_over(last)
    }

    /// Close `writers` (the row group of the last `self.rows` rows) and send it to the file.
    fn hand_over(&mut self, writers: Vec<ArrowColumnWriter>) -> Result<()> {
        let mut chunks = writers
            .into_iter()
            .map(ArrowColumnWriter::close)
            .collect::<parquet::errors::Result<Vec<_>>>()
            .context("cannot encode scores")?;
        self.label_stats.apply(&mut chunks)?;
        let group = EncodedRowGroup {
            chunks,
            rows: std::mem::take(&mut self.rows) as u64,
        };
        // A closed channel means the file's thread failed; its own error is the one reported.
        self.output
            .send(group)
            .map_err(|_| anyhow::anyhow!("scores.parquet could not be written"))
    }
}

fn new_writers(factory: &ArrowRowGroupWriterFactory) -> Result<Vec<ArrowColumnWriter>> {
    // The index only matters for encrypted files, which these are not.
    factory
        .create_column_writers(0)
        .context("cannot start a row group of scores.parquet")
}
