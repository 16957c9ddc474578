//! Reading a labelled file in the long layout into one list of `(time, value, label)` rows per
//! series, sorted by time with repeated timestamps dropped (the first row kept, as the engine
//! does).
//!
//! Parquet goes through the same table and layout detection as `omen analyze`. CSV has no
//! types, so its columns are found by name: the timestamp (`timestamp`, `ts` or `time`, in any
//! format `omen detect` reads, epoch seconds included), the value (`value`), the label, and,
//! unless named, every other column identifies the series.

use std::collections::HashMap;
use std::path::Path;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::{cast, filter, is_not_null};
use arrow::datatypes::DataType;
use futures::StreamExt;
use omen_ingest::{LayoutKind, MetricsTable, ReadOrder, TableOptions, parse_timestamp_ms};

use omen_ingest::SeriesKeys;

use crate::LabelledOptions;
use crate::error::{Context, Result, bail};

/// One series' rows, in time order.
#[derive(Debug, Default)]
pub(super) struct SeriesRows {
    /// The series' identity: its key while reading, then `column=value, ...`.
    pub(super) name: String,
    key: Box<[u8]>,
    pub(super) timestamp_ms: Vec<i64>,
    pub(super) value: Vec<f64>,
    pub(super) label: Vec<bool>,
}

/// What reading kept and dropped.
#[derive(Debug, Default)]
pub(super) struct ReadStats {
    pub(super) rows: u64,
    pub(super) duplicates: u64,
    pub(super) null_timestamps: u64,
}

/// Rows as read, grouped by series in the order series were first seen.
#[derive(Default)]
struct Grouped {
    index: HashMap<Box<[u8]>, usize>,
    series: Vec<SeriesRows>,
    stats: ReadStats,
}

impl Grouped {
    fn push(&mut self, key: &[u8], timestamp_ms: i64, value: f64, label: bool) {
        let at = match self.index.get(key) {
            Some(&at) => at,
            None => {
                self.index.insert(key.into(), self.series.len());
                self.series.push(SeriesRows {
                    key: key.into(),
                    ..SeriesRows::default()
                });
                self.series.len() - 1
            }
        };
        let series = &mut self.series[at];
        series.timestamp_ms.push(timestamp_ms);
        series.value.push(value);
        series.label.push(label);
        self.stats.rows += 1;
    }

    /// Sort every series by time (stably: the first of equal timestamps stays first) and drop
    /// repeated timestamps.
    fn finish(mut self) -> (Vec<SeriesRows>, ReadStats) {
        for series in &mut self.series {
            let mut order: Vec<usize> = (0..series.timestamp_ms.len()).collect();
            order.sort_by_key(|&i| series.timestamp_ms[i]);
            let mut sorted = SeriesRows {
                name: std::mem::take(&mut series.name),
                key: std::mem::take(&mut series.key),
                ..SeriesRows::default()
            };
            for i in order {
                let ts = series.timestamp_ms[i];
                if sorted.timestamp_ms.last() == Some(&ts) {
                    self.stats.duplicates += 1;
                    continue;
                }
                sorted.timestamp_ms.push(ts);
                sorted.value.push(series.value[i]);
                sorted.label.push(series.label[i]);
            }
            *series = sorted;
        }
        (self.series, self.stats)
    }
}

/// Read `args.input`, Parquet or CSV by its extension.
pub(super) async fn read(args: &LabelledOptions) -> Result<(Vec<SeriesRows>, ReadStats)> {
    let path = Path::new(&args.input);
    let is_csv = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let grouped = if is_csv {
        read_csv(args)?
    } else {
        read_parquet(args).await?
    };
    Ok(grouped.finish())
}

async fn read_parquet(args: &LabelledOptions) -> Result<Grouped> {
    let options = TableOptions {
        timestamp_column: args.timestamp_column.clone(),
        value_column: args.value_column.clone(),
        series_columns: args.series_columns.clone(),
    };
    let table = MetricsTable::open(std::slice::from_ref(&args.input), None, &options).await?;
    let layout = table.layout();
    let LayoutKind::Long { value } = layout.kind else {
        bail!(
            "`{}` is in the wide layout (no `value` column); labelled evaluation needs the long \
             layout: a timestamp, a value, a label and the series columns per row \
             (--value-column names the value)",
            args.input
        );
    };
    let schema = layout.input_schema().clone();
    let label = schema
        .fields()
        .iter()
        .position(|f| f.name() == &args.label_column)
        .with_context(|| {
            format!(
                "`{}` has no label column `{}`; its columns: {}",
                args.input,
                args.label_column,
                column_names(schema.fields().iter().map(|f| f.name().as_str()))
            )
        })?;
    let label_type = schema.field(label).data_type();
    if !(label_type == &DataType::Boolean || label_type.is_integer()) {
        bail!(
            "the label column `{}` is {label_type}; it must be boolean or integer (non-zero: \
             anomalous)",
            args.label_column
        );
    }
    if label == layout.timestamp || label == value || layout.series.contains(&label) {
        bail!(
            "the label column `{}` is also the timestamp, value or a series column",
            args.label_column
        );
    }

    let mut grouped = Grouped::default();
    let keys = SeriesKeys::new(layout.series_schema().clone())?;
    let mut stream = table.stream(ReadOrder::AsStored).await?;
    while let Some(batch) = stream.next().await {
        let batch = batch.with_context(|| format!("cannot read `{}`", args.input))?;
        let labels = labels_of(&batch, layout.timestamp, label)?;
        let (parts, null_timestamps) = layout.normalise(&batch)?;
        grouped.stats.null_timestamps += null_timestamps;
        let part = &parts[0];
        let rows = keys.encode(part.series.columns())?;
        for (row, &label) in labels.iter().enumerate() {
            let key = rows.as_ref().map_or(&[][..], |r| r.row(row).data());
            grouped.push(
                key,
                part.timestamp_ms.value(row),
                part.value.value(row),
                label,
            );
        }
    }
    let names = keys.describe(grouped.series.iter().map(|s| &*s.key))?;
    for (series, name) in grouped.series.iter_mut().zip(names) {
        series.name = name;
    }
    Ok(grouped)
}

/// The labels of the rows with a timestamp (the rows `Layout::normalise` keeps): true when
/// the label is true or non-zero; a null label is not anomalous.
fn labels_of(batch: &RecordBatch, timestamp: usize, label: usize) -> Result<Vec<bool>> {
    let mut column: ArrayRef = batch.column(label).clone();
    let ts = batch.column(timestamp);
    if ts.null_count() > 0 {
        column = filter(&column, &is_not_null(ts)?)?;
    }
    let column = cast(&column, &DataType::Boolean)?;
    let column = column.as_boolean();
    Ok((0..column.len())
        .map(|i| column.is_valid(i) && column.value(i))
        .collect())
}

fn read_csv(args: &LabelledOptions) -> Result<Grouped> {
    let path = Path::new(&args.input);
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let header: Vec<String> = reader
        .headers()
        .with_context(|| format!("cannot read the header of `{}`", path.display()))?
        .iter()
        .map(str::to_owned)
        .collect();
    let find = |role: &str, wanted: &[&str]| -> Result<usize> {
        wanted
            .iter()
            .find_map(|w| header.iter().position(|h| h.eq_ignore_ascii_case(w)))
            .with_context(|| {
                format!(
                    "`{}` has no {role} column ({}); its columns: {}",
                    path.display(),
                    wanted.join(" or "),
                    column_names(header.iter().map(String::as_str))
                )
            })
    };
    let timestamp = match &args.timestamp_column {
        Some(name) => find("timestamp", &[name])?,
        None => find("timestamp", &["timestamp", "ts", "time"])?,
    };
    let value = find("value", &[args.value_column.as_deref().unwrap_or("value")])?;
    let label = find("label", &[&args.label_column])?;
    let series: Vec<usize> = if args.series_columns.is_empty() {
        (0..header.len())
            .filter(|i| ![timestamp, value, label].contains(i))
            .collect()
    } else {
        args.series_columns
            .iter()
            .map(|name| find("series", &[name]))
            .collect::<Result<_>>()?
    };

    let mut grouped = Grouped::default();
    let mut name = String::new();
    for (line, record) in reader.records().enumerate() {
        // Line 1 is the header.
        let line = line + 2;
        let record = record.with_context(|| format!("`{}` line {line}", path.display()))?;
        let field = |at: usize| record.get(at).unwrap_or("").trim();
        let Some(ts) = parse_timestamp_ms(field(timestamp)) else {
            bail!(
                "`{}` line {line}: cannot read the timestamp `{}` (RFC 3339, \
                 `YYYY-MM-DD HH:MM:SS` or epoch seconds or milliseconds)",
                path.display(),
                field(timestamp)
            );
        };
        let value_text = field(value);
        let value: f64 = if value_text.is_empty() {
            f64::NAN
        } else {
            value_text.parse().with_context(|| {
                format!(
                    "`{}` line {line}: the value `{value_text}` is not a number",
                    path.display()
                )
            })?
        };
        let label = match field(label).to_ascii_lowercase().as_str() {
            "" | "0" | "false" | "0.0" => false,
            "1" | "true" | "1.0" => true,
            other => bail!(
                "`{}` line {line}: the label `{other}` is not 0/1 or true/false",
                path.display()
            ),
        };
        name.clear();
        for (i, &at) in series.iter().enumerate() {
            if i > 0 {
                name.push_str(", ");
            }
            name.push_str(&header[at]);
            name.push('=');
            name.push_str(field(at));
        }
        grouped.push(name.as_bytes(), ts, value, label);
    }
    for series in &mut grouped.series {
        series.name = String::from_utf8_lossy(&series.key).into_owned();
    }
    Ok(grouped)
}

fn column_names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
