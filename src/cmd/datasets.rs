//! `omen datasets generate`: write the shop history of [`omen_eval::shop`] as Parquet, one
//! file per 1,000 series, files written in parallel, each all or nothing.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};
use arrow::array::{
    ArrayRef, BooleanArray, DictionaryArray, Float64Array, RecordBatch, StringArray,
    TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Field, Int32Type, Schema, SchemaRef, TimeUnit};
use omen_eval::shop::{HistoryOptions, SeriesHistory, generate_series};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use omen_ingest::write_atomically;

use crate::cli::GenerateArgs;

/// Series per output file.
const SERIES_PER_FILE: usize = 1_000;

/// Run `omen datasets generate`.
pub(crate) fn generate(args: &GenerateArgs) -> Result<()> {
    if args.series == 0 || args.days == 0 || args.step_seconds == 0 {
        bail!("--series, --days and --step-seconds must each be at least 1");
    }
    let options = HistoryOptions {
        series: args.series,
        days: args.days,
        step_ms: i64::from(args.step_seconds) * 1000,
        seed: args.seed,
        ..HistoryOptions::default()
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create `{}`", args.out.display()))?;
    let files = args.series.div_ceil(SERIES_PER_FILE);
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(files);
    let incidents: Vec<Vec<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| -> Result<Vec<(usize, Vec<String>)>> {
                    let mut done = Vec::new();
                    loop {
                        let file = next.fetch_add(1, Ordering::Relaxed);
                        if file >= files {
                            return Ok(done);
                        }
                        let path = args.out.join(format!("metrics-{file:05}.parquet"));
                        let first = file * SERIES_PER_FILE;
                        let last = (first + SERIES_PER_FILE).min(args.series);
                        done.push((file, write_file(&path, &options, first..last)?));
                    }
                })
            })
            .collect();
        let mut all = Vec::new();
        for handle in handles {
            all.extend(handle.join().expect("a generator thread panicked")?);
        }
        all.sort_by_key(|(file, _)| *file);
        Ok::<_, anyhow::Error>(all.into_iter().map(|(_, lines)| lines).collect())
    })?;
    let incidents_path = args.out.join("incidents.csv");
    let mut count = 0;
    write_atomically(&incidents_path, |file| -> Result<_> {
        let mut out = std::io::BufWriter::new(file);
        writeln!(out, "__name__,instance,kind,start,end")?;
        for line in incidents.iter().flatten() {
            writeln!(out, "{line}")?;
            count += 1;
        }
        out.flush()?;
        Ok(())
    })?;
    println!(
        "wrote {} series × {} points ({} points) in {} file(s) to {}, and {} incidents to {}",
        args.series,
        options.points_per_series(),
        args.series * options.points_per_series(),
        files,
        args.out.display(),
        count,
        incidents_path.display()
    );
    Ok(())
}

fn schema() -> SchemaRef {
    let dict = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    Arc::new(Schema::new(vec![
        Field::new("__name__", dict.clone(), false),
        Field::new("instance", dict, false),
        Field::new(
            "timestamp",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            false,
        ),
        Field::new("value", DataType::Float64, false),
        Field::new("label", DataType::Boolean, false),
    ]))
}

/// Write the series `range` to `path`; returns their incidents as CSV lines.
fn write_file(
    path: &Path,
    options: &HistoryOptions,
    range: std::ops::Range<usize>,
) -> Result<Vec<String>> {
    let schema = schema();
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
        .build();
    write_atomically(path, |file| -> Result<_> {
        let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(props))?;
        let mut lines = Vec::new();
        for index in range {
            let series = generate_series(options, index);
            for incident in &series.incidents {
                lines.push(format!(
                    "{},{},{},{},{}",
                    series.kind.metric_name(),
                    series.instance,
                    incident.kind.as_str(),
                    rfc3339(incident.start_ms),
                    rfc3339(incident.end_ms)
                ));
            }
            writer.write(&series_batch(&schema, options, &series)?)?;
        }
        writer
            .close()
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        Ok(lines)
    })
}

fn series_batch(
    schema: &SchemaRef,
    options: &HistoryOptions,
    series: &SeriesHistory,
) -> Result<RecordBatch> {
    let n = series.values.len();
    let constant = |text: &str| -> ArrayRef {
        let keys = arrow::array::Int32Array::from(vec![0; n]);
        Arc::new(
            DictionaryArray::<Int32Type>::try_new(keys, Arc::new(StringArray::from(vec![text])))
                .expect("keys in range"),
        )
    };
    let timestamps = TimestampMillisecondArray::from_iter_values(
        (0..n as i64).map(|i| options.start_ms + i * options.step_ms),
    )
    .with_timezone("UTC");
    Ok(RecordBatch::try_new(
        schema.clone(),
        vec![
            constant(series.kind.metric_name()),
            constant(&series.instance),
            Arc::new(timestamps),
            Arc::new(Float64Array::from(series.values.clone())),
            Arc::new(BooleanArray::from(series.labels.clone())),
        ],
    )?)
}

/// Unix milliseconds as `2026-03-02T00:00:00Z`.
fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| ms.to_string())
}
