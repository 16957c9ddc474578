//! The Parquet outputs of `omen analyze`: their schemas, and the Arrow batches that fill them.

use std::sync::Arc;

use anyhow::{Context, Result};
use arrow::array::{
    ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray, TimestampMillisecondArray,
    UInt64Array,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::row::{RowConverter, SortField};
use omen_engine::AnomalyInterval;

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

/// Series keys (row-format bytes) back into columns of the series schema.
#[derive(Debug)]
pub(crate) struct SeriesKeys {
    schema: SchemaRef,
    converter: Option<RowConverter>,
}

impl SeriesKeys {
    /// Keys for the series columns of `schema`; none at all when it has no columns.
    pub(crate) fn new(schema: SchemaRef) -> Result<Self> {
        let converter = if schema.fields().is_empty() {
            None
        } else {
            let fields = schema
                .fields()
                .iter()
                .map(|f| SortField::new(f.data_type().clone()))
                .collect();
            Some(RowConverter::new(fields).context("cannot key the series columns")?)
        };
        Ok(Self { schema, converter })
    }

    /// The series columns' schema.
    pub(crate) fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The key of each row of `columns` (the series columns of one batch), as one `Rows`.
    pub(crate) fn encode(&self, columns: &[ArrayRef]) -> Result<Option<arrow::row::Rows>> {
        match &self.converter {
            None => Ok(None),
            Some(converter) => Ok(Some(
                converter
                    .convert_columns(columns)
                    .context("cannot key the series columns")?,
            )),
        }
    }

    /// Columns of the series schema holding the series of each key, in order.
    pub(crate) fn decode<'a>(
        &self,
        keys: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Vec<ArrayRef>> {
        let Some(converter) = &self.converter else {
            return Ok(Vec::new());
        };
        let parser = converter.parser();
        let rows: Vec<_> = keys.into_iter().map(|k| parser.parse(k)).collect();
        let columns = converter
            .convert_rows(rows)
            .context("cannot decode series keys")?;
        // The row format stores a dictionary's values, not its keys: restore the input's types.
        columns
            .into_iter()
            .zip(self.schema.fields())
            .map(|(column, field)| {
                if column.data_type() == field.data_type() {
                    Ok(column)
                } else {
                    cast(&column, field.data_type())
                        .context("cannot restore a series column's type")
                }
            })
            .collect()
    }

    /// `name=value, name=value` for each key, for people.
    pub(crate) fn describe<'a>(
        &self,
        keys: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Vec<String>> {
        let keys: Vec<&[u8]> = keys.into_iter().collect();
        if self.converter.is_none() {
            return Ok(vec!["(the only series)".to_owned(); keys.len()]);
        }
        let columns = self.decode(keys.iter().copied())?;
        let options = arrow::util::display::FormatOptions::default().with_null("null");
        let formatters = columns
            .iter()
            .map(|c| arrow::util::display::ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<std::result::Result<Vec<_>, _>>()
            .context("cannot format series columns")?;
        Ok((0..keys.len())
            .map(|row| {
                self.schema
                    .fields()
                    .iter()
                    .zip(&formatters)
                    .map(|(field, fmt)| format!("{}={}", field.name(), fmt.value(row)))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .collect())
    }
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
