//! Which columns are the timestamp, the value and the series identity: the long and wide
//! layouts, found from the schema, and the batches they normalise to.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use arrow::compute::{cast, filter, is_not_null};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit, TimestampMillisecondType};

use crate::{Error, Result};

/// Names of the columns to use, when the defaults do not fit.
#[derive(Debug, Clone, Default)]
pub struct TableOptions {
    /// The timestamp column. Default: `timestamp`, `ts` or `time`, or the only column of a
    /// timestamp type.
    pub timestamp_column: Option<String>,
    /// The value column. Default: `value`; when there is none, the layout is wide.
    pub value_column: Option<String>,
    /// The columns that identify a series. Default: every string, dictionary, map or struct
    /// column other than the timestamp and the value.
    pub series_columns: Vec<String>,
}

/// Names tried, in order, for the timestamp column.
const TIMESTAMP_NAMES: [&str; 3] = ["timestamp", "ts", "time"];
/// The name tried for the value column.
const VALUE_NAME: &str = "value";
/// The column that names the series in the wide layout's output.
pub const WIDE_SERIES_COLUMN: &str = "series";

/// How a table holds its series.
#[derive(Debug, Clone, PartialEq)]
pub enum LayoutKind {
    /// One row per sample: a value column, and series columns that say whose sample it is.
    Long {
        /// Index of the value column.
        value: usize,
    },
    /// One row per timestamp, one numeric column per series.
    Wide {
        /// Indices of the value columns, one series each.
        values: Vec<usize>,
    },
}

/// The columns of a table and their roles.
#[derive(Debug, Clone)]
pub struct Layout {
    input: SchemaRef,
    /// Index of the timestamp column.
    pub timestamp: usize,
    /// Indices of the columns that identify a series (the labels, in the wide layout).
    pub series: Vec<usize>,
    /// Long or wide.
    pub kind: LayoutKind,
    series_schema: SchemaRef,
}

/// Samples of a batch, normalised: the series columns, epoch-millisecond timestamps without
/// nulls, and values as `f64` (a null value is NaN, which the detectors skip and count).
#[derive(Debug, Clone)]
pub struct SeriesBatch {
    /// The series columns, as in [`Layout::series_schema`].
    pub series: RecordBatch,
    /// Unix milliseconds.
    pub timestamp_ms: Int64Array,
    /// The values.
    pub value: Float64Array,
}

impl Layout {
    /// Find the layout of `schema`, as `options` say or by the defaults.
    pub fn detect(schema: SchemaRef, options: &TableOptions) -> Result<Self> {
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let described = || {
            schema
                .fields()
                .iter()
                .map(|f| format!("{}: {}", f.name(), f.data_type()))
                .collect::<Vec<_>>()
        };
        let timestamp = match &options.timestamp_column {
            Some(name) => find(&names, name).ok_or_else(|| Error::UnknownColumn {
                role: "timestamp",
                column: name.clone(),
                found: names.clone(),
            })?,
            None => TIMESTAMP_NAMES
                .iter()
                .find_map(|name| find(&names, name))
                .or_else(|| only_timestamp_column(&schema))
                .ok_or_else(|| Error::NoTimestampColumn { found: described() })?,
        };
        let ts_field = schema.field(timestamp);
        if !is_timestamp_like(ts_field.data_type()) {
            return Err(Error::WrongType {
                role: "timestamp",
                column: ts_field.name().clone(),
                found: ts_field.data_type().to_string(),
                expected: "an Arrow timestamp (any unit) or integer epoch milliseconds",
            });
        }

        let value = match &options.value_column {
            Some(name) => Some(find(&names, name).ok_or_else(|| Error::UnknownColumn {
                role: "value",
                column: name.clone(),
                found: names.clone(),
            })?),
            None => find(&names, VALUE_NAME),
        };
        let named_series = options
            .series_columns
            .iter()
            .map(|name| {
                find(&names, name).ok_or_else(|| Error::UnknownColumn {
                    role: "series",
                    column: name.clone(),
                    found: names.clone(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        for &at in &named_series {
            let field = schema.field(at);
            if at == timestamp || Some(at) == value {
                return Err(Error::WrongType {
                    role: "series",
                    column: field.name().clone(),
                    found: "the column already used as the timestamp or value".into(),
                    expected: "a column of its own",
                });
            }
            if !row_encodable(field.data_type()) {
                return Err(Error::WrongType {
                    role: "series",
                    column: field.name().clone(),
                    found: field.data_type().to_string(),
                    expected: "a string, number, dictionary, list, map or struct",
                });
            }
        }
        let default_series = |skip: &dyn Fn(usize) -> bool| -> Vec<usize> {
            (0..names.len())
                .filter(|&at| !skip(at) && is_identity_type(schema.field(at).data_type()))
                .collect()
        };

        let (kind, series) = match value {
            Some(value) => {
                let field = schema.field(value);
                if !field.data_type().is_numeric() {
                    return Err(Error::WrongType {
                        role: "value",
                        column: field.name().clone(),
                        found: field.data_type().to_string(),
                        expected: "a number (float, integer or decimal)",
                    });
                }
                let series = if named_series.is_empty() {
                    default_series(&|at| at == timestamp || at == value)
                } else {
                    named_series
                };
                (LayoutKind::Long { value }, series)
            }
            None => {
                let labels = if named_series.is_empty() {
                    default_series(&|at| at == timestamp)
                } else {
                    named_series
                };
                let values: Vec<usize> = (0..names.len())
                    .filter(|&at| {
                        at != timestamp
                            && !labels.contains(&at)
                            && schema.field(at).data_type().is_numeric()
                    })
                    .collect();
                if values.is_empty() {
                    return Err(Error::NoValueColumn { found: described() });
                }
                if let Some(&clash) = labels
                    .iter()
                    .find(|&&at| schema.field(at).name() == WIDE_SERIES_COLUMN)
                {
                    return Err(Error::WrongType {
                        role: "series",
                        column: schema.field(clash).name().clone(),
                        found: "a label column of the wide layout".into(),
                        expected: "another name: the wide layout's output names each series in a column `series`",
                    });
                }
                (LayoutKind::Wide { values }, labels)
            }
        };

        let mut fields: Vec<Field> = series.iter().map(|&at| schema.field(at).clone()).collect();
        if matches!(kind, LayoutKind::Wide { .. }) {
            fields.push(Field::new(WIDE_SERIES_COLUMN, DataType::Utf8, false));
        }
        Ok(Self {
            series_schema: Arc::new(Schema::new(fields)),
            input: schema,
            timestamp,
            series,
            kind,
        })
    }

    /// The schema of [`SeriesBatch::series`]: the series columns as in the input, plus, in the
    /// wide layout, `series` with the name of each value column.
    pub fn series_schema(&self) -> &SchemaRef {
        &self.series_schema
    }

    /// The input schema this layout was found in.
    pub fn input_schema(&self) -> &SchemaRef {
        &self.input
    }

    /// The name of the timestamp column.
    pub fn timestamp_name(&self) -> &str {
        self.input.field(self.timestamp).name()
    }

    /// A short description for people: `long: value column `v`, series columns `a`, `b``.
    pub fn describe(&self) -> String {
        let names = |at: &[usize]| {
            at.iter()
                .map(|&i| format!("`{}`", self.input.field(i).name()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let series = if self.series.is_empty() {
            "none".to_owned()
        } else {
            names(&self.series)
        };
        match &self.kind {
            LayoutKind::Long { value } => format!(
                "long layout: timestamp `{}`, value `{}`, series columns {series}",
                self.timestamp_name(),
                self.input.field(*value).name()
            ),
            LayoutKind::Wide { values } => format!(
                "wide layout: timestamp `{}`, {} value columns (one series each), label columns {series}",
                self.timestamp_name(),
                values.len()
            ),
        }
    }

    /// Normalise one input batch: one [`SeriesBatch`] in the long layout, one per value column
    /// in the wide layout. Rows with a null timestamp are dropped; their count is returned.
    pub fn normalise(&self, batch: &RecordBatch) -> Result<(Vec<SeriesBatch>, u64)> {
        let ts_column = batch.column(self.timestamp);
        let mut null_timestamps = 0;
        let batch = if ts_column.null_count() > 0 {
            null_timestamps = ts_column.null_count() as u64;
            let keep = is_not_null(ts_column).map_err(arrow_error)?;
            filter_batch(batch, &keep)?
        } else {
            batch.clone()
        };
        let timestamp_ms = timestamp_millis(batch.column(self.timestamp))?;
        let labels: Vec<ArrayRef> = self
            .series
            .iter()
            .map(|&at| batch.column(at).clone())
            .collect();
        let out = match &self.kind {
            LayoutKind::Long { value } => vec![SeriesBatch {
                series: RecordBatch::try_new(self.series_schema.clone(), labels)
                    .map_err(arrow_error)?,
                timestamp_ms,
                value: values_f64(batch.column(*value))?,
            }],
            LayoutKind::Wide { values } => values
                .iter()
                .map(|&at| {
                    let name = self.input.field(at).name().as_str();
                    let mut columns = labels.clone();
                    columns.push(Arc::new(StringArray::from(vec![name; batch.num_rows()])));
                    Ok(SeriesBatch {
                        series: RecordBatch::try_new(self.series_schema.clone(), columns)
                            .map_err(arrow_error)?,
                        timestamp_ms: timestamp_ms.clone(),
                        value: values_f64(batch.column(at))?,
                    })
                })
                .collect::<Result<_>>()?,
        };
        Ok((out, null_timestamps))
    }
}

/// The column named `name`: exactly, else the only one equal ignoring ASCII case.
fn find(names: &[String], name: &str) -> Option<usize> {
    if let Some(at) = names.iter().position(|n| n == name) {
        return Some(at);
    }
    let mut matches = names
        .iter()
        .enumerate()
        .filter(|(_, n)| n.eq_ignore_ascii_case(name));
    match (matches.next(), matches.next()) {
        (Some((at, _)), None) => Some(at),
        _ => None,
    }
}

fn only_timestamp_column(schema: &Schema) -> Option<usize> {
    let mut found = schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| matches!(f.data_type(), DataType::Timestamp(_, _)));
    match (found.next(), found.next()) {
        (Some((at, _)), None) => Some(at),
        _ => None,
    }
}

fn is_timestamp_like(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Timestamp(_, _)
            | DataType::Int64
            | DataType::Int32
            | DataType::UInt32
            | DataType::UInt64
    )
}

/// Types that identify a series by default: text and label containers, not measurements.
fn is_identity_type(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Map(_, _) | DataType::Struct(_) => row_encodable(data_type),
        DataType::Dictionary(_, value) => is_identity_type(value),
        _ => false,
    }
}

/// Whether Arrow's row format can encode the type, as series keys need.
fn row_encodable(data_type: &DataType) -> bool {
    arrow::row::RowConverter::supports_fields(&[arrow::row::SortField::new(data_type.clone())])
}

fn timestamp_millis(column: &ArrayRef) -> Result<Int64Array> {
    let as_ms = match column.data_type() {
        DataType::Timestamp(_, _) => {
            let ms = cast(column, &DataType::Timestamp(TimeUnit::Millisecond, None))
                .map_err(arrow_error)?;
            let ms = ms.as_primitive::<TimestampMillisecondType>();
            Int64Array::new(ms.values().clone(), None)
        }
        _ => {
            let ms = cast(column, &DataType::Int64).map_err(arrow_error)?;
            ms.as_primitive::<arrow::datatypes::Int64Type>().clone()
        }
    };
    Ok(as_ms)
}

fn values_f64(column: &ArrayRef) -> Result<Float64Array> {
    let values = cast(column, &DataType::Float64).map_err(arrow_error)?;
    let values = values.as_primitive::<arrow::datatypes::Float64Type>();
    if values.null_count() == 0 {
        return Ok(values.clone());
    }
    Ok(values.iter().map(|v| Some(v.unwrap_or(f64::NAN))).collect())
}

fn filter_batch(batch: &RecordBatch, keep: &BooleanArray) -> Result<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .map(|c| filter(c, keep))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(arrow_error)?;
    RecordBatch::try_new(batch.schema(), columns).map_err(arrow_error)
}

fn arrow_error(err: arrow::error::ArrowError) -> Error {
    Error::Query {
        message: err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{Int32Array, TimestampSecondArray};

    use super::*;

    fn schema(fields: &[(&str, DataType)]) -> SchemaRef {
        Arc::new(Schema::new(
            fields
                .iter()
                .map(|(n, t)| Field::new(*n, t.clone(), true))
                .collect::<Vec<_>>(),
        ))
    }

    fn ts_ms() -> DataType {
        DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
    }

    fn names(layout: &Layout, at: &[usize]) -> Vec<String> {
        at.iter()
            .map(|&i| layout.input_schema().field(i).name().clone())
            .collect()
    }

    #[test]
    fn layouts_found_from_the_schema() {
        let dict = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        // Long: labels are the string-like columns; a boolean label column is not identity.
        let long = Layout::detect(
            schema(&[
                ("__name__", dict.clone()),
                ("instance", DataType::Utf8),
                ("timestamp", ts_ms()),
                ("value", DataType::Float64),
                ("label", DataType::Boolean),
                ("shard", DataType::Int64),
            ]),
            &TableOptions::default(),
        )
        .unwrap();
        assert_eq!(long.kind, LayoutKind::Long { value: 3 });
        assert_eq!(names(&long, &long.series), ["__name__", "instance"]);
        assert_eq!(long.series_schema().fields().len(), 2);

        // Wide: no `value`, numeric columns are series; a string column is a label.
        let wide = Layout::detect(
            schema(&[
                ("TS", DataType::Int64),
                ("host", DataType::Utf8),
                ("cpu", DataType::Float32),
                ("mem", DataType::Int64),
            ]),
            &TableOptions::default(),
        )
        .unwrap();
        assert_eq!(wide.kind, LayoutKind::Wide { values: vec![2, 3] });
        assert_eq!(wide.timestamp_name(), "TS");
        assert_eq!(names(&wide, &wide.series), ["host"]);
        let out: Vec<_> = wide
            .series_schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(out, ["host", "series"]);

        // The only timestamp-typed column, whatever its name; columns named by options.
        let named = Layout::detect(
            schema(&[
                ("at", DataType::Timestamp(TimeUnit::Nanosecond, None)),
                ("job", DataType::Utf8),
                ("reading", DataType::Int32),
                ("sensor", DataType::Int32),
            ]),
            &TableOptions {
                value_column: Some("reading".into()),
                series_columns: vec!["sensor".into()],
                ..TableOptions::default()
            },
        )
        .unwrap();
        assert_eq!(named.kind, LayoutKind::Long { value: 2 });
        assert_eq!(names(&named, &named.series), ["sensor"]);
    }

    #[test]
    fn bad_schemas_are_explained() {
        struct Case {
            name: &'static str,
            fields: Vec<(&'static str, DataType)>,
            options: TableOptions,
            want: &'static str,
        }
        let cases = [
            Case {
                name: "no timestamp",
                fields: vec![("when", DataType::Utf8), ("value", DataType::Float64)],
                options: TableOptions::default(),
                want: "no timestamp column",
            },
            Case {
                name: "timestamp of the wrong type",
                fields: vec![("timestamp", DataType::Utf8), ("value", DataType::Float64)],
                options: TableOptions::default(),
                want: "the timestamp column `timestamp` has type Utf8",
            },
            Case {
                name: "value of the wrong type",
                fields: vec![("ts", ts_ms()), ("value", DataType::Utf8)],
                options: TableOptions::default(),
                want: "the value column `value` has type Utf8",
            },
            Case {
                name: "no value and nothing numeric",
                fields: vec![("ts", ts_ms()), ("host", DataType::Utf8)],
                options: TableOptions::default(),
                want: "no value column",
            },
            Case {
                name: "a named column that is not there",
                fields: vec![("ts", ts_ms()), ("value", DataType::Float64)],
                options: TableOptions {
                    series_columns: vec!["hots".into()],
                    ..TableOptions::default()
                },
                want: "the series column `hots` is not in the input; columns found: `ts`, `value`",
            },
        ];
        for case in cases {
            let err = Layout::detect(schema(&case.fields), &case.options).unwrap_err();
            assert!(err.to_string().contains(case.want), "{}: {err}", case.name);
        }
    }

    #[test]
    fn normalise_converts_units_and_types_and_drops_null_timestamps() {
        let schema = schema(&[
            ("timestamp", DataType::Timestamp(TimeUnit::Second, None)),
            ("name", DataType::Utf8),
            ("value", DataType::Int32),
        ]);
        let layout = Layout::detect(schema.clone(), &TableOptions::default()).unwrap();
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(TimestampSecondArray::from(vec![Some(10), None, Some(12)])),
                Arc::new(StringArray::from(vec!["a", "b", "c"])),
                Arc::new(Int32Array::from(vec![Some(1), Some(2), None])),
            ],
        )
        .unwrap();
        let (parts, nulls) = layout.normalise(&batch).unwrap();
        assert_eq!(nulls, 1);
        assert_eq!(parts.len(), 1);
        let part = &parts[0];
        assert_eq!(part.timestamp_ms.values(), &[10_000, 12_000]);
        assert_eq!(part.value.value(0), 1.0);
        assert!(part.value.value(1).is_nan());
        assert_eq!(part.series.num_rows(), 2);
    }

    #[test]
    fn wide_batches_become_one_series_batch_per_column() {
        let schema = schema(&[
            ("ts", DataType::Int64),
            ("cpu", DataType::Float64),
            ("mem", DataType::Float64),
        ]);
        let layout = Layout::detect(schema.clone(), &TableOptions::default()).unwrap();
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![1_000, 2_000])),
                Arc::new(Float64Array::from(vec![0.5, 0.6])),
                Arc::new(Float64Array::from(vec![7.0, 8.0])),
            ],
        )
        .unwrap();
        let (parts, _) = layout.normalise(&batch).unwrap();
        assert_eq!(parts.len(), 2);
        let names = parts[1].series.column(0).as_string::<i32>();
        assert_eq!(names.value(0), "mem");
        assert_eq!(parts[1].value.values(), &[7.0, 8.0]);
        assert_eq!(parts[1].timestamp_ms.values(), &[1_000, 2_000]);
    }
}
