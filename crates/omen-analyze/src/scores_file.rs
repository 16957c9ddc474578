//! `scores.parquet`, encoded in parallel.
//!
//! Encoding is most of the cost of writing scores. One writer thread doing all of it for every
//! worker was the bottleneck of `omen analyze` (38 % of the CPU time, on one core). So each
//! worker encodes its own row groups with a [`RowGroupEncoder`], and the file's thread only
//! appends finished row groups ([`append_row_groups`]). The columns omen writes are encoded
//! by omen itself: floats ([`own_pages`](crate::own_pages)), timestamps
//! ([`time_chunk`](crate::own_pages::time_chunk)), the verdict ([`flag_chunk`](crate::own_pages::flag_chunk)) and
//! text series columns ([`label_chunk`](crate::own_pages::label_chunk)). Series columns of other types
//! go through Arrow's writer.
//!
//! A row group therefore holds the series of one worker only, which changes nothing for a
//! reader: rows were never in a defined order across series.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender};

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{Float64Type, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{
    ArrowColumnChunk, ArrowColumnWriter, ArrowRowGroupWriterFactory, compute_leaves,
};
use parquet::basic::{Compression, Encoding};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{ColumnPath, SchemaDescPtr};

use crate::direct_file::DirectFile;
use crate::error::{Context, Result};
use crate::own_pages::flag_chunk::FlagChunk;
use crate::own_pages::label_chunk::LabelChunk;
use crate::own_pages::time_chunk::TimeChunk;
use crate::own_pages::{BufferPool, FloatChunk, OwnChunk};

/// Rows per row group: half of Parquet's usual million. A worker holds one row group in the
/// making, about 20 MB of floats, and its encoded copy until the file's thread takes it, and
/// those buffers are most of the peak memory. With a million rows a run took 480 MB at its peak
/// instead of 370, and the kernel's zeroing of that much fresh memory (page faults, at first
/// touch) took 0.6 to 1.6 s of system time on 50 M points instead of 0.3 s.
const ROW_GROUP_ROWS: usize = 1 << 19;

/// One row group, encoded by a worker, to be appended to the file.
pub(crate) struct EncodedRowGroup {
    /// In the order of the file's leaf columns.
    chunks: Vec<EncodedChunk>,
    rows: u64,
}

/// A column chunk encoded by Arrow's writer or by omen.
enum EncodedChunk {
    Arrow(ArrowColumnChunk),
    Own(OwnChunk),
}

/// How Arrow's writer encodes the columns it is given (see [`FieldEncoder`]).
fn writer_properties(schema: &SchemaRef, standard: bool) -> WriterProperties {
    if !standard {
        // Series columns of other types than text: dictionaries, compressed.
        return WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
    }
    let mut builder = WriterProperties::builder().set_compression(Compression::SNAPPY);
    let n = schema.fields().len();
    for field in &schema.fields()[n - 7..] {
        let path = ColumnPath::from(field.name().as_str());
        let (encoding, compression) = match field.name().as_str() {
            "timestamp" => (Encoding::DELTA_BINARY_PACKED, Compression::UNCOMPRESSED),
            "anomaly" => (Encoding::RLE, Compression::UNCOMPRESSED),
            _ => (Encoding::PLAIN, Compression::UNCOMPRESSED),
        };
        builder = builder
            .set_column_dictionary_enabled(path.clone(), false)
            .set_column_encoding(path.clone(), encoding)
            .set_column_compression(path, compression);
    }
    builder.build()
}

/// `OMEN_SCORES_WRITER=arrow` writes every column through the parquet crate's public column
/// writers instead of omen's own page encoders, so that one binary can run both side by side
/// (docs/performance.md); both write the same rows (a test compares them).
fn standard_writer() -> bool {
    std::env::var_os("OMEN_SCORES_WRITER").is_some_and(|v| v == "arrow")
}

/// Start `scores.parquet` in `file`: the file writer, for [`append_row_groups`], and the
/// factory every worker's [`RowGroupEncoder`] makes its column writers with.
pub(crate) fn create(
    file: DirectFile,
    schema: &SchemaRef,
) -> Result<(SerializedFileWriter<DirectFile>, Arc<ColumnPlan>)> {
    create_with(file, schema, standard_writer())
}

fn create_with(
    file: DirectFile,
    schema: &SchemaRef,
    standard: bool,
) -> Result<(SerializedFileWriter<DirectFile>, Arc<ColumnPlan>)> {
    // Through `ArrowWriter`, so that the Arrow schema (dictionary types, time zones) goes into
    // the file's metadata as it would with the high-level writer.
    let (writer, factory) = ArrowWriter::try_new(
        file,
        schema.clone(),
        Some(writer_properties(schema, standard)),
    )
    .and_then(ArrowWriter::into_serialized_writer)
    .context("cannot start writing scores.parquet")?;
    let plan = ColumnPlan {
        factory,
        schema: schema.clone(),
        parquet: Arc::new(writer.schema_descr().clone()),
        buffers: Arc::default(),
        standard,
    };
    Ok((writer, Arc::new(plan)))
}

/// What every worker's [`RowGroupEncoder`] needs to know of the file: its Arrow and Parquet
/// schemas, the factory of Arrow's column writers, and the buffers the file's thread hands back.
pub(crate) struct ColumnPlan {
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    parquet: SchemaDescPtr,
    buffers: Arc<BufferPool>,
    standard: bool,
}

impl ColumnPlan {
    /// Where [`append_row_groups`] puts the buffers it has written.
    pub(crate) fn buffers(&self) -> Arc<BufferPool> {
        self.buffers.clone()
    }
}

/// Append every row group received to `writer`, then finish the file and flush it to disk.
/// Returns the rows written.
pub(crate) fn append_row_groups(
    mut writer: SerializedFileWriter<DirectFile>,
    inbox: Receiver<EncodedRowGroup>,
    buffers: Arc<BufferPool>,
) -> Result<u64> {
    let mut rows = 0;
    for group in inbox {
        let mut row_group = writer
            .next_row_group()
            .context("cannot write scores.parquet")?;
        for chunk in group.chunks {
            match chunk {
                EncodedChunk::Arrow(chunk) => chunk.append_to_row_group(&mut row_group),
                EncodedChunk::Own(chunk) => {
                    let appended = row_group.append_column(&chunk.data, chunk.close);
                    buffers.give(Vec::from(chunk.data));
                    appended
                }
            }
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

/// How one field of the scores schema is encoded.
enum FieldEncoder {
    /// By Arrow's writer: one column writer per Parquet leaf of the field.
    Arrow(Vec<ArrowColumnWriter>),
    Label(LabelChunk),
    Float(FloatChunk),
    Time(TimeChunk),
    Flag(FlagChunk),
}

/// A worker's row group in the making.
pub(crate) struct RowGroupEncoder {
    plan: Arc<ColumnPlan>,
    fields: Vec<FieldEncoder>,
    rows: usize,
    /// Rows after which a row group is handed over: [`ROW_GROUP_ROWS`] but in tests.
    group_rows: usize,
    output: SyncSender<EncodedRowGroup>,
}

impl RowGroupEncoder {
    pub(crate) fn new(plan: Arc<ColumnPlan>, output: SyncSender<EncodedRowGroup>) -> Result<Self> {
        Self::with_group_rows(plan, output, ROW_GROUP_ROWS)
    }

    /// An encoder that hands a row group over once it holds `group_rows` rows.
    fn with_group_rows(
        plan: Arc<ColumnPlan>,
        output: SyncSender<EncodedRowGroup>,
        group_rows: usize,
    ) -> Result<Self> {
        let mut arrow_writers = new_writers(&plan.factory)?.into_iter();
        let parquet = &plan.parquet;
        let mut fields = Vec::with_capacity(plan.schema.fields().len());
        let mut leaf = 0;
        let standard = plan.standard;
        for (at, field) in plan.schema.fields().iter().enumerate() {
            let leaves: Vec<_> = (leaf..parquet.num_columns())
                .take_while(|&i| parquet.get_column_root_idx(i) == at)
                .collect();
            leaf += leaves.len();
            let writers: Vec<_> = arrow_writers.by_ref().take(leaves.len()).collect();
            let single = match leaves[..] {
                [only] => Some(parquet.column(only)),
                _ => None,
            };
            fields.push(match single {
                _ if standard => FieldEncoder::Arrow(writers),
                Some(descr) if LabelChunk::fits(field.data_type(), &descr) => {
                    FieldEncoder::Label(LabelChunk::new(descr))
                }
                Some(descr) if FloatChunk::fits(&descr) => {
                    FieldEncoder::Float(FloatChunk::new(descr, group_rows))
                }
                Some(descr) if TimeChunk::fits(field.data_type(), &descr) => {
                    FieldEncoder::Time(TimeChunk::new(descr))
                }
                Some(descr) if FlagChunk::fits(field.data_type(), &descr) => {
                    FieldEncoder::Flag(FlagChunk::new(descr))
                }
                _ => FieldEncoder::Arrow(writers),
            });
        }
        Ok(Self {
            plan,
            fields,
            rows: 0,
            group_rows,
            output,
        })
    }

    /// Encode `batch` (of the scores schema); hand the row group over once it is full.
    pub(crate) fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let schema = &self.plan.schema;
        for ((field, column), encoder) in schema
            .fields()
            .iter()
            .zip(batch.columns())
            .zip(&mut self.fields)
        {
            match encoder {
                FieldEncoder::Arrow(writers) => {
                    let mut writers = writers.iter_mut();
                    for leaf in compute_leaves(field, column).context("cannot encode scores")? {
                        writers
                            .next()
                            .context("scores.parquet has fewer columns than a batch")?
                            .write(&leaf)
                            .context("cannot encode scores")?;
                    }
                }
                FieldEncoder::Label(chunk) => chunk.push(column)?,
                FieldEncoder::Time(chunk) => chunk.push(column)?,
                FieldEncoder::Flag(chunk) => chunk.push(column)?,
                FieldEncoder::Float(chunk) => {
                    chunk.push(column.as_primitive_opt::<Float64Type>().with_context(|| {
                        format!("the column `{}` is not Float64", field.name())
                    })?)?
                }
            }
        }
        self.rows += batch.num_rows();
        if self.rows >= self.group_rows {
            return self.hand_over(true);
        }
        Ok(())
    }

    /// Hand over the last, partial row group.
    pub(crate) fn finish(mut self) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        self.hand_over(false)
    }

    /// Close the row group of the last `self.rows` rows and send it to the file; with `more`,
    /// start the next one.
    fn hand_over(&mut self, more: bool) -> Result<()> {
        let mut fresh = if more {
            new_writers(&self.plan.factory)?
        } else {
            Vec::new()
        }
        .into_iter();
        let mut chunks = Vec::new();
        for encoder in &mut self.fields {
            let own = match encoder {
                FieldEncoder::Arrow(writers) => {
                    let next = fresh.by_ref().take(writers.len()).collect();
                    for writer in std::mem::replace(writers, next) {
                        chunks.push(EncodedChunk::Arrow(
                            writer.close().context("cannot encode scores")?,
                        ));
                    }
                    continue;
                }
                FieldEncoder::Label(chunk) => chunk.take(),
                FieldEncoder::Time(chunk) => chunk.take(),
                FieldEncoder::Flag(chunk) => chunk.take(),
                FieldEncoder::Float(chunk) => chunk.take(&self.plan.buffers),
            };
            // One leaf each; the factory's writer for it is not used.
            fresh.next();
            chunks.push(EncodedChunk::Own(own?));
        }
        let group = EncodedRowGroup {
            chunks,
            rows: std::mem::take(&mut self.rows) as u64,
        };
        // A closed channel means the file's thread failed; its own error is the one reported.
        self.output
            .send(group)
            .map_err(|_| crate::error::Error::Failed("scores.parquet could not be written".into()))
    }
}

fn new_writers(factory: &ArrowRowGroupWriterFactory) -> Result<Vec<ArrowColumnWriter>> {
    // The index only matters for encrypted files, which these are not.
    factory
        .create_column_writers(0)
        .context("cannot start a row group of scores.parquet")
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::sync_channel;

    use arrow::array::{
        ArrayRef, BooleanArray, DictionaryArray, Float64Array, Int64Array, LargeStringArray,
        StringArray, StringViewArray, TimestampMillisecondArray,
    };
    use arrow::compute::{cast, concat_batches};
    use arrow::datatypes::{DataType, Field, Int32Type, Schema};
    use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
    use parquet::file::metadata::{PageIndexPolicy, ParquetColumnIndex};
    use parquet::file::page_index::column_index::ColumnIndexMetaData;
    use parquet::file::statistics::Statistics;

    use super::*;
    use crate::output::scores_schema;

    /// Write `batches` through `RowGroupEncoder`s (row groups of `group_rows`), as the workers
    /// do, and read the file back: the batches read, the statistics of each row group's
    /// columns, and its page index (the pages' min and max).
    fn round_trip(
        series: Schema,
        batches: &[RecordBatch],
        group_rows: usize,
    ) -> (
        RecordBatch,
        Vec<Vec<Option<Statistics>>>,
        ParquetColumnIndex,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scores.parquet");
        std::fs::File::create(&path).unwrap();
        let schema = scores_schema(&series);
        let (writer, plan) = create(DirectFile::open(&path).unwrap(), &schema).unwrap();
        let (to_file, inbox) = sync_channel(8);
        let buffers = plan.buffers();
        let mut encoder = RowGroupEncoder::with_group_rows(plan, to_file, group_rows).unwrap();
        let file = std::thread::spawn(move || append_row_groups(writer, inbox, buffers));
        for batch in batches {
            encoder.write(batch).unwrap();
        }
        encoder.finish().unwrap();
        let rows = file.join().unwrap().unwrap();
        assert_eq!(
            rows,
            batches.iter().map(|b| b.num_rows() as u64).sum::<u64>()
        );

        let builder = ParquetRecordBatchReaderBuilder::try_new_with_options(
            std::fs::File::open(&path).unwrap(),
            ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Required),
        )
        .unwrap();
        let pages = builder
            .metadata()
            .column_index()
            .cloned()
            .expect("a page index");
        let stats = builder
            .metadata()
            .row_groups()
            .iter()
            .map(|g| {
                g.columns()
                    .iter()
                    .map(|c| c.statistics().cloned())
                    .collect()
            })
            .collect();
        let read: Vec<_> = builder.build().unwrap().map(Result::unwrap).collect();
        assert_eq!(read[0].schema(), schema, "the Arrow schema is kept");
        (concat_batches(&schema, &read).unwrap(), stats, pages)
    }

    /// A scores batch of `series` columns: the score columns derived from the row number.
    fn scores_batch(series: &Schema, columns: Vec<ArrayRef>, first: i64) -> RecordBatch {
        let n = columns[0].len() as i64;
        let rows = first..first + n;
        let float = |f: fn(i64) -> f64| -> ArrayRef {
            Arc::new(Float64Array::from_iter_values(rows.clone().map(f)))
        };
        let mut all = columns;
        all.extend([
            Arc::new(
                TimestampMillisecondArray::from_iter_values(rows.clone().map(|r| r * 60_000))
                    .with_timezone("UTC"),
            ) as ArrayRef,
            float(|r| r as f64 * 0.5 - 3.0),
            float(|r| (r % 10) as f64 / 10.0),
            // The first sample of a series has no band: NaN, which statistics must skip.
            float(|r| if r % 7 == 0 { f64::NAN } else { r as f64 }),
            float(|r| if r % 7 == 0 { f64::NAN } else { -(r as f64) }),
            float(|r| if r % 7 == 0 { f64::NAN } else { 0.0 }),
            Arc::new(BooleanArray::from_iter(rows.map(|r| Some(r % 5 == 0)))),
        ]);
        RecordBatch::try_new(scores_schema(series), all).unwrap()
    }

    fn min_max(stats: &Option<Statistics>) -> (Option<Vec<u8>>, Option<Vec<u8>>, Option<u64>) {
        let s = stats.as_ref().expect("statistics");
        (
            s.min_bytes_opt().map(<[u8]>::to_vec),
            s.max_bytes_opt().map(<[u8]>::to_vec),
            s.null_count_opt(),
        )
    }

    #[test]
    fn every_column_reads_back_as_written_across_row_groups() {
        let series = Schema::new(vec![
            Field::new("job", DataType::Utf8, true),
            Field::new(
                "instance",
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                false,
            ),
            Field::new("shard", DataType::Int64, true),
        ]);
        // Runs that cross batches and row groups, nulls in runs, and two dictionary keys of
        // the same value (one run in the file).
        let job = |v: &[Option<&str>]| Arc::new(StringArray::from(v.to_vec())) as ArrayRef;
        let instance = |keys: &[i32], values: &[&str]| {
            Arc::new(DictionaryArray::<Int32Type>::new(
                keys.to_vec().into(),
                Arc::new(StringArray::from(values.to_vec())),
            )) as ArrayRef
        };
        let shard = |v: &[Option<i64>]| Arc::new(Int64Array::from(v.to_vec())) as ArrayRef;
        let batches = [
            scores_batch(
                &series,
                vec![
                    job(&[
                        Some("api"),
                        Some("api"),
                        None,
                        None,
                        Some("db"),
                        Some("api"),
                    ]),
                    instance(&[0, 0, 1, 2, 2, 0], &["b:1", "a:1", "b:1"]),
                    shard(&[Some(1), Some(1), None, Some(2), Some(2), Some(2)]),
                ],
                0,
            ),
            scores_batch(
                &series,
                vec![
                    job(&[Some("api"), None, Some("z"), Some("z")]),
                    instance(&[1, 1, 0, 1], &["c:9", "a:1"]),
                    shard(&[Some(3), None, None, Some(3)]),
                ],
                6,
            ),
        ];
        let (read, stats, pages) = round_trip(series.clone(), &batches, 4);
        let want = concat_batches(&batches[0].schema(), &batches).unwrap();
        for (at, field) in want.schema().fields().iter().enumerate() {
            // Compared as text so that a dictionary's layout does not matter.
            let text = |c: &ArrayRef| cast(c, &DataType::Utf8).unwrap().to_data();
            assert_eq!(
                text(read.column(at)),
                text(want.column(at)),
                "column {}",
                field.name()
            );
        }
        // Row groups of 6 and 4 rows (a batch at a time, handed over once 4 are reached).
        assert_eq!(stats.len(), 2);
        let (job, instance, value, upper) = (0, 1, 4, 8);
        let b = |s: &str| Some(s.as_bytes().to_vec());
        assert_eq!(min_max(&stats[0][job]), (b("api"), b("db"), Some(2)));
        assert_eq!(min_max(&stats[1][job]), (b("api"), b("z"), Some(1)));
        assert_eq!(min_max(&stats[0][instance]), (b("a:1"), b("b:1"), Some(0)));
        assert_eq!(min_max(&stats[1][instance]), (b("a:1"), b("c:9"), Some(0)));
        let doubles = |s: &Option<Statistics>| match s {
            Some(Statistics::Double(d)) => (d.min_opt().copied(), d.max_opt().copied()),
            other => panic!("{other:?}"),
        };
        assert_eq!(doubles(&stats[0][value]), (Some(-3.0), Some(-0.5)));
        assert_eq!(doubles(&stats[1][value]), (Some(0.0), Some(1.5)));
        // The band of 0.0 (and NaN) rows: NaN skipped, the zero bound signed as the format asks.
        let (lo, hi) = doubles(&stats[0][upper]);
        assert!(
            lo.unwrap() == 0.0 && lo.unwrap().is_sign_negative(),
            "{lo:?}"
        );
        assert!(
            hi.unwrap() == 0.0 && hi.unwrap().is_sign_positive(),
            "{hi:?}"
        );
        // The page index: one page per chunk here, so the pages' bounds are the chunks'.
        for (group, (min, max)) in [(-3.0, -0.5), (0.0, 1.5)].into_iter().enumerate() {
            match &pages[group][value] {
                ColumnIndexMetaData::DOUBLE(index) => {
                    assert_eq!(
                        (index.min_values(), index.max_values()),
                        (&[min][..], &[max][..])
                    )
                }
                other => panic!("{other:?}"),
            }
        }
        match &pages[1][instance] {
            ColumnIndexMetaData::BYTE_ARRAY(index) => {
                assert_eq!(index.min_value(0), Some(&b"a:1"[..]));
                assert_eq!(index.max_value(0), Some(&b"c:9"[..]));
            }
            other => panic!("{other:?}"),
        }
    }

    /// `batch` with its column `name` replaced by `column`.
    fn replace(batch: &RecordBatch, name: &str, column: ArrayRef) -> RecordBatch {
        let at = batch.schema().index_of(name).unwrap();
        let mut columns = batch.columns().to_vec();
        columns[at] = column;
        RecordBatch::try_new(batch.schema(), columns).unwrap()
    }

    #[test]
    fn timestamps_and_verdicts_of_any_pattern_read_back_with_their_pages_bounds() {
        let series = Schema::new(vec![Field::new("job", DataType::Utf8, false)]);
        // Series after one another (a jump back at each boundary), the extremes of the type,
        // and irregular steps, over several pages.
        let timestamps: Vec<i64> = (0..600i64)
            .flat_map(|s| (0..301).map(move |i| 1_700_000_000_000 + 60_000 * i + s))
            .chain([i64::MIN, i64::MAX, 0, -1, i64::MAX, 7])
            .chain((0..119_394i64).map(|i| i * 1_000 + (i * 2_654_435_761) % 997))
            .collect();
        let rows = timestamps.len();
        assert_eq!(rows, 300_000);
        // No verdict in the first page, then some; one only in the last row group.
        let flag =
            |r: usize| (150_000..229_376).contains(&r) && r.is_multiple_of(3) || r == 299_999;
        let batches: Vec<RecordBatch> = (0..rows)
            .step_by(32_768)
            .map(|start| {
                let end = (start + 32_768).min(rows);
                let job = Arc::new(StringArray::from(vec!["api"; end - start])) as ArrayRef;
                let batch = scores_batch(&series, vec![job], start as i64);
                let batch = replace(
                    &batch,
                    "timestamp",
                    Arc::new(
                        TimestampMillisecondArray::from(timestamps[start..end].to_vec())
                            .with_timezone("UTC"),
                    ),
                );
                let flags = BooleanArray::from_iter((start..end).map(|r| Some(flag(r))));
                replace(&batch, "anomaly", Arc::new(flags))
            })
            .collect();
        // Row groups of 7 batches (229,376 rows: two pages) and the rest.
        let (read, stats, pages) = round_trip(series, &batches, 200_000);
        let want = concat_batches(&batches[0].schema(), &batches).unwrap();
        let (timestamp, value, anomaly) = (1, 2, 7);
        // Every column; the floats' batches are large enough to be pages as they are.
        for at in 0..want.num_columns() {
            assert_eq!(read.column(at).to_data(), want.column(at).to_data(), "{at}");
        }
        match &pages[0][value] {
            ColumnIndexMetaData::DOUBLE(index) => {
                // `scores_batch`'s value is `row · 0.5 − 3`: a page per batch of 32,768 rows.
                let bounds = |b: usize| (b as f64 * 16_384.0 - 3.0, b as f64 * 16_384.0 + 16_380.5);
                let want: Vec<(f64, f64)> = (0..7).map(bounds).collect();
                let got: Vec<(f64, f64)> = index
                    .min_values()
                    .iter()
                    .copied()
                    .zip(index.max_values().iter().copied())
                    .collect();
                assert_eq!(got, want);
            }
            other => panic!("{other:?}"),
        }
        let first_group = &timestamps[..229_376];
        let int64 = |s: &Option<Statistics>| match s {
            Some(Statistics::Int64(s)) => (s.min_opt().copied(), s.max_opt().copied()),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            int64(&stats[0][timestamp]),
            (
                first_group.iter().min().copied(),
                first_group.iter().max().copied()
            )
        );
        match &pages[0][timestamp] {
            ColumnIndexMetaData::INT64(index) => {
                let (a, b) = first_group.split_at(1 << 17);
                let bounds = |p: &[i64]| (*p.iter().min().unwrap(), *p.iter().max().unwrap());
                assert_eq!(index.min_values(), &[bounds(a).0, bounds(b).0][..]);
                assert_eq!(index.max_values(), &[bounds(a).1, bounds(b).1][..]);
            }
            other => panic!("{other:?}"),
        }
        let booleans = |s: &Option<Statistics>| match s {
            Some(Statistics::Boolean(s)) => (s.min_opt().copied(), s.max_opt().copied()),
            other => panic!("{other:?}"),
        };
        assert_eq!(booleans(&stats[0][anomaly]), (Some(false), Some(true)));
        assert_eq!(booleans(&stats[1][anomaly]), (Some(false), Some(true)));
        match &pages[0][anomaly] {
            ColumnIndexMetaData::BOOLEAN(index) => {
                assert_eq!(index.min_values(), &[false, false][..]);
                assert_eq!(index.max_values(), &[false, true][..]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_row_group_of_null_labels_and_other_text_types_read_back() {
        let series = Schema::new(vec![
            Field::new("job", DataType::Utf8View, true),
            Field::new("region", DataType::LargeUtf8, false),
        ]);
        let batch = scores_batch(
            &series,
            vec![
                Arc::new(StringViewArray::from(vec![None::<&str>, None, None])),
                Arc::new(LargeStringArray::from(vec!["eu", "eu", "us"])),
            ],
            0,
        );
        let (read, stats, pages) = round_trip(series, std::slice::from_ref(&batch), 100);
        assert_eq!(read.column(0).null_count(), 3);
        assert_eq!(read.column(1).to_data(), batch.column(1).to_data());
        assert_eq!(min_max(&stats[0][0]), (None, None, Some(3)));
        match &pages[0][0] {
            ColumnIndexMetaData::BYTE_ARRAY(index) => assert_eq!(index.min_value(0), None),
            other => panic!("{other:?}"),
        }
    }
}
