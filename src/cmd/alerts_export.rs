//! `omen alerts export`: the alert history and the feedback of `omen serve`, from its
//! `alerts.db`, to Parquet for analysis (one row per alert event, one per feedback).

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use omen_ingest::write_atomically;

use omen_alert_runtime::store::{EventRow, FeedbackRow, Store};

use crate::cli::AlertsExportArgs;

/// Run `omen alerts export`.
pub(crate) fn run(args: &AlertsExportArgs) -> Result<()> {
    let db = args.data_dir.join("alerts.db");
    if !db.is_file() {
        bail!(
            "no alert history at `{}`: omen serve writes it there once it runs with [[alert.rules]]",
            db.display()
        );
    }
    let store = Store::open(&db)?;
    let mut events = store.events(None, usize::MAX >> 1)?;
    events.reverse();
    write(&args.events, &events_batch(&events)?)?;
    println!("{} alert events -> {}", events.len(), args.events.display());
    if let Some(path) = &args.feedback {
        let mut feedback = store.feedback(usize::MAX >> 1)?;
        feedback.reverse();
        write(path, &feedback_batch(&feedback)?)?;
        println!("{} feedback rows -> {}", feedback.len(), path.display());
    }
    Ok(())
}

fn strings<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(values))
}

fn events_batch(rows: &[EventRow]) -> Result<RecordBatch> {
    let text = |name: &str| Field::new(name, DataType::Utf8, false);
    let schema = Schema::new(vec![
        Field::new("seq", DataType::Int64, false),
        Field::new("at_ms", DataType::Int64, false),
        text("kind"),
        text("alert_id"),
        text("fingerprint"),
        text("rule"),
        text("severity"),
        Field::new("starts_at_ms", DataType::Int64, false),
        Field::new("ends_at_ms", DataType::Int64, true),
        Field::new("value", DataType::Float64, true),
        Field::new("expected", DataType::Float64, true),
        Field::new("score", DataType::Float64, true),
        text("labels"),
        text("annotations"),
        text("explanation"),
    ]);
    let json = |f: &dyn Fn(&EventRow) -> serde_json::Result<String>| -> Result<ArrayRef> {
        let values: Vec<String> = rows.iter().map(f).collect::<serde_json::Result<_>>()?;
        Ok(strings(values.iter().map(String::as_str)))
    };
    let float = |f: fn(&EventRow) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from_iter(
            rows.iter().map(|r| Some(f(r)).filter(|v| v.is_finite())),
        ))
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.seq))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.at_ms))),
        strings(rows.iter().map(|r| r.kind.as_str())),
        strings(rows.iter().map(|r| r.alert.id.as_str())),
        strings(rows.iter().map(|r| r.alert.fingerprint.as_str())),
        strings(rows.iter().map(|r| r.alert.rule.as_str())),
        strings(rows.iter().map(|r| r.alert.severity())),
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|r| r.alert.starts_at_ms),
        )),
        Arc::new(Int64Array::from_iter(
            rows.iter().map(|r| r.alert.ends_at_ms),
        )),
        float(|r| r.alert.explanation.value),
        float(|r| r.alert.explanation.expected),
        float(|r| r.alert.explanation.score),
        json(&|r| serde_json::to_string(&r.alert.labels))?,
        json(&|r| serde_json::to_string(&r.alert.annotations))?,
        json(&|r| serde_json::to_string(&r.alert.explanation))?,
    ];
    Ok(RecordBatch::try_new(Arc::new(schema), columns)?)
}

fn feedback_batch(rows: &[FeedbackRow]) -> Result<RecordBatch> {
    let text = |name: &str| Field::new(name, DataType::Utf8, false);
    let schema = Schema::new(vec![
        Field::new("seq", DataType::Int64, false),
        Field::new("at_ms", DataType::Int64, false),
        text("alert_id"),
        text("verdict"),
        text("who"),
        text("why"),
        text("adjustments"),
    ]);
    let adjustments: Vec<String> = rows
        .iter()
        .map(|r| serde_json::to_string(&r.adjustments))
        .collect::<serde_json::Result<_>>()?;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.seq))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.at_ms))),
        strings(rows.iter().map(|r| r.alert_id.as_str())),
        strings(rows.iter().map(|r| r.verdict.as_str())),
        strings(rows.iter().map(|r| r.who.as_str())),
        strings(rows.iter().map(|r| r.why.as_str())),
        strings(adjustments.iter().map(String::as_str)),
    ];
    Ok(RecordBatch::try_new(Arc::new(schema), columns)?)
}

/// Write one batch to `path` atomically.
fn write(path: &Path, batch: &RecordBatch) -> Result<()> {
    write_atomically(path, |file| -> Result<_> {
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        let handle = file
            .try_clone()
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        let mut writer = ArrowWriter::try_new(handle, batch.schema(), Some(props))?;
        writer.write(batch)?;
        writer
            .close()
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        Ok(())
    })
}
