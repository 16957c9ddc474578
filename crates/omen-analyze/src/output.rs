//! The Parquet outputs of `omen analyze`: their schemas, and the Arrow batches that fill them.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray, TimestampMillisecondArray,
    UInt64Array,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use omen_core::Score;
use omen_engine::AnomalyInterval;

use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use tempfile::NamedTempFile;

use crate::error::{Context, Result};
use omen_ingest::SeriesKeys;

/// The type of every timestamp Omen writes: Unix milliseconds, UTC.
pub(crate) fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

/// `scores.parquet`: the series columns, then one column per field of a scored sample.
pub(crate) fn scores_schema(series: &Schema) -> SchemaRef {
    let mut fields: Vec<Field> = series.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.extend([
        Field::new("timestamp", timestamp_type(), false),
        Field::new("value", DataType::Float64, false),
        Field::new("score", DataType::Float64, false),
        Field::new("expected", DataType::Float64, false),
        Field::new("lower", DataType::Float64, false),
        Field::new("upper", DataType::Float64, false),
        Field::new("anomaly", DataType::Boolean, false),
    ]);
    Arc::new(Schema::new(fields))
}

/// `anomalies.parquet`: the series columns, then the interval and its peak.
pub(crate) fn anomalies_schema(series: &Schema) -> SchemaRef {
    let mut fields: Vec<Field> = series.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.extend([
        Field::new("start", timestamp_type(), false),
        Field::new("end", timestamp_type(), false),
        Field::new("anomalous_points", DataType::UInt64, false),
        Field::new("peak_time", timestamp_type(), false),
        Field::new("peak_score", DataType::Float64, false),
        Field::new("peak_value", DataType::Float64, false),
        Field::new("expected", DataType::Float64, false),
        Field::new("lower", DataType::Float64, false),
        Field::new("upper", DataType::Float64, false),
        Field::new("explanation", DataType::Utf8, false),
    ]);
    Arc::new(Schema::new(fields))
}

/// One `anomalies.parquet` batch from intervals and the keys of their series.
pub(crate) fn anomalies_batch(
    schema: &SchemaRef,
    keys: &SeriesKeys,
    intervals: &[(&[u8], &AnomalyInterval)],
) -> Result<RecordBatch> {
    let mut columns = keys.decode(intervals.iter().map(|(k, _)| *k))?;
    let times = |f: fn(&AnomalyInterval) -> i64| -> ArrayRef {
        Arc::new(
            TimestampMillisecondArray::from_iter_values(intervals.iter().map(|(_, i)| f(i)))
                .with_timezone("UTC"),
        )
    };
    let floats = |f: fn(&AnomalyInterval) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from_iter_values(
            intervals.iter().map(|(_, i)| f(i)),
        ))
    };
    columns.extend([
        times(|i| i.start_ms),
        times(|i| i.end_ms),
        Arc::new(UInt64Array::from_iter_values(
            intervals.iter().map(|(_, i)| i.anomalous_points),
        )) as ArrayRef,
        times(|i| i.peak_ms),
        floats(|i| i.peak.score),
        floats(|i| i.peak_value),
        floats(|i| i.peak.expected),
        floats(|i| i.peak.lower),
        floats(|i| i.peak.upper),
        Arc::new(StringArray::from_iter_values(
            intervals.iter().map(|(_, i)| i.explanation()),
        )),
    ]);
    RecordBatch::try_new(schema.clone(), columns).context("cannot build the anomalies table")
}

/// Write `rows` into `file` as the small Parquet table `name` (`anomalies.parquet`,
/// `alerts.parquet`) of `schema`, snappy-compressed, in batches made by `batch`, and sync it.
pub(crate) fn write_table<T>(
    file: &NamedTempFile,
    name: &str,
    schema: &SchemaRef,
    rows: &[T],
    batch: impl Fn(&SchemaRef, &[T]) -> Result<RecordBatch>,
) -> Result<()> {
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut writer = ArrowWriter::try_new(file.reopen()?, schema.clone(), Some(props))
        .with_context(|| format!("cannot start writing {name}"))?;
    for chunk in rows.chunks(8192) {
        writer
            .write(&batch(schema, chunk)?)
            .with_context(|| format!("cannot write {name}"))?;
    }
    writer
        .close()
        .with_context(|| format!("cannot finish {name}"))?;
    file.as_file()
        .sync_all()
        .with_context(|| format!("cannot write {name}"))?;
    Ok(())
}

/// The score columns of one output batch, filled row by row by a worker.
#[derive(Debug, Default)]
pub(crate) struct ScoreColumns {
    pub(crate) timestamp_ms: Vec<i64>,
    pub(crate) value: Vec<f64>,
    pub(crate) score: Vec<f64>,
    pub(crate) expected: Vec<f64>,
    pub(crate) lower: Vec<f64>,
    pub(crate) upper: Vec<f64>,
    pub(crate) anomaly: Vec<bool>,
}

impl ScoreColumns {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            timestamp_ms: Vec::with_capacity(n),
            value: Vec::with_capacity(n),
            score: Vec::with_capacity(n),
            expected: Vec::with_capacity(n),
            lower: Vec::with_capacity(n),
            upper: Vec::with_capacity(n),
            anomaly: Vec::with_capacity(n),
        }
    }

    /// Add one scored row.
    #[inline]
    pub(crate) fn push(&mut self, timestamp_ms: i64, value: f64, score: &Score, anomaly: bool) {
        self.timestamp_ms.push(timestamp_ms);
        self.value.push(value);
        self.score.push(score.score);
        self.expected.push(score.expected);
        self.lower.push(score.lower);
        self.upper.push(score.upper);
        self.anomaly.push(anomaly);
    }

    /// The output batch: `series` (already filtered to the kept rows) and these columns.
    pub(crate) fn into_batch(
        self,
        schema: &SchemaRef,
        series: Vec<ArrayRef>,
    ) -> Result<RecordBatch> {
        let mut columns = series;
        columns.extend([
            Arc::new(TimestampMillisecondArray::from(self.timestamp_ms).with_timezone("UTC"))
                as ArrayRef,
            Arc::new(Float64Array::from(self.value)),
            Arc::new(Float64Array::from(self.score)),
            Arc::new(Float64Array::from(self.expected)),
            Arc::new(Float64Array::from(self.lower)),
            Arc::new(Float64Array::from(self.upper)),
            Arc::new(BooleanArray::from(self.anomaly)),
        ]);
        RecordBatch::try_new(schema.clone(), columns).context("cannot build a scores batch")
    }
}
