//! `omen analyze --input PATH_OR_GLOB... --output DIR`: score every series of historical
//! Parquet metrics with the same detectors as the live path, in event time.
//!
//! Steps: open the inputs as the DataFusion table `metrics` and find the layout of the query's
//! result; read it in stored order through the [pipeline]; if a series went back in time,
//! read it again sorted; then write the anomaly intervals (and the report) and print the
//! summary. With `[[alert.rules]]`, the workers also run the alert lifecycle on every scored
//! sample ([alerts]) and the episodes go to `alerts.parquet`. Every output file goes through a temporary name and is renamed into place only at
//! the end.

mod alerts;
mod direct_file;
mod flag_chunk;
mod label_chunk;
mod output;
mod own_chunks;
mod pipeline;
mod report;
mod routing;
mod scores_file;
mod summary;
mod time_chunk;

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use omen_ingest::{MetricsTable, ReadOrder, TableOptions};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use tempfile::NamedTempFile;

use self::direct_file::DirectFile;
use self::output::{anomalies_batch, anomalies_schema};
use self::pipeline::Pass;
use self::summary::Summary;
use omen_ingest::temporary_for;

use omen_config::Config;

use crate::cli::AnalyzeArgs;
use omen_ingest::SeriesKeys;

/// Run `omen analyze`.
pub(crate) fn run(args: &AnalyzeArgs) -> Result<()> {
    crate::allocator::keep_freed_memory();
    let config = Config::load(args.config.as_deref())?;
    let runtime = super::async_runtime()?;
    runtime.block_on(analyze(args, &config))
}

async fn analyze(args: &AnalyzeArgs, config: &Config) -> Result<()> {
    let started = Instant::now();
    let options = TableOptions {
        timestamp_column: args.timestamp_column.clone(),
        value_column: args.value_column.clone(),
        series_columns: args.series_columns.clone(),
    };
    let table = MetricsTable::open(&args.input, args.sql.as_deref(), &options).await?;
    eprintln!(
        "omen analyze: {} file(s), {} rows; {}",
        table.inputs().len(),
        table.input_rows(),
        table.layout().describe()
    );
    std::fs::create_dir_all(&args.output).with_context(|| {
        format!(
            "cannot create the output directory `{}`",
            args.output.display()
        )
    })?;

    // Found out now, not after the whole input has been scored.
    if let Some(parent) = args.report.as_deref().and_then(std::path::Path::parent)
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).with_context(|| {
            format!(
                "cannot create the report's directory `{}`",
                parent.display()
            )
        })?;
    }

    // `Config::load` validated the rules already, before any data was read.
    let rules = if config.alert.rules.is_empty() {
        None
    } else {
        let compiled = config
            .alert
            .validate()
            .map_err(|err| anyhow::anyhow!("invalid setting {err}"))?;
        // Links in explanations as `omen serve` would make them.
        let external = config
            .server
            .external_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", config.server.listen));
        Some(Arc::new(
            compiled.with_external_url(external.trim_end_matches('/')),
        ))
    };
    let alerts_path = args.output.join("alerts.parquet");
    let scores_path = args.output.join("scores.parquet");
    let anomalies_path = args.output.join("anomalies.parquet");
    let keys = SeriesKeys::new(table.layout().series_schema().clone())?;
    let mut order = ReadOrder::AsStored;
    let (scores_tmp, pass) = loop {
        let scores_tmp = temporary_for(&scores_path)?;
        let file =
            DirectFile::open(scores_tmp.path()).context("cannot open the temporary scores file")?;
        let progress = progress_bar(&table);
        let pass = pipeline::run(&table, order, config, rules.as_ref(), file, &progress).await?;
        progress.finish_and_clear();
        match pass {
            Pass::OutOfOrder(ooo) if order == ReadOrder::AsStored => {
                let series = keys.describe([&*ooo.key])?.remove(0);
                eprintln!(
                    "omen analyze: series {{{series}}} goes back in time (timestamp {} after {}); \
                     reading the input again sorted by series and time",
                    ooo.timestamp_ms, ooo.last_ms
                );
                order = ReadOrder::SortedBySeriesAndTime;
            }
            Pass::OutOfOrder(_) => {
                anyhow::bail!("the input is still out of time order after sorting it (a bug)")
            }
            Pass::Done { .. } => break (scores_tmp, pass),
        }
    };
    let Pass::Done {
        reports,
        mut episodes,
        rows_read,
        rows_written,
        null_timestamps,
    } = pass
    else {
        unreachable!("the loop only ends on a finished pass")
    };
    if rows_read == 0 {
        return Err(omen_ingest::Error::EmptyResult {
            with_sql: table.has_sql(),
        }
        .into());
    }

    let anomalies_tmp = temporary_for(&anomalies_path)?;
    let intervals: Vec<(&[u8], &omen_engine::AnomalyInterval)> = reports
        .iter()
        .flat_map(|r| {
            r.intervals
                .iter()
                .map(|(at, interval)| (&*r.series[*at].key, interval))
        })
        .collect();
    write_anomalies(
        &anomalies_tmp,
        &keys,
        table.layout().series_schema(),
        &intervals,
    )?;
    alerts::sort(&mut episodes);
    let alerts_tmp = match &rules {
        Some(_) => {
            let tmp = temporary_for(&alerts_path)?;
            write_alerts(&tmp, &keys, table.layout().series_schema(), &episodes)?;
            Some(tmp)
        }
        None => None,
    };
    let summary = Summary::new(&reports, &keys, args.top)?;
    let report_tmp = match &args.report {
        Some(path) => {
            let facts = report::RunFacts {
                inputs: &args.input,
                sql: args.sql.as_deref(),
                summary: &summary,
                alerts: rules.as_ref().map(|_| &episodes[..]),
            };
            Some(report::write_report(
                path,
                scores_tmp.path(),
                &keys,
                table.layout().series_schema().fields().len(),
                &intervals,
                &facts,
            )?)
        }
        None => None,
    };

    scores_tmp
        .persist(&scores_path)
        .map_err(|err| err.error)
        .with_context(|| format!("cannot write `{}`", scores_path.display()))?;
    anomalies_tmp
        .persist(&anomalies_path)
        .map_err(|err| err.error)
        .with_context(|| format!("cannot write `{}`", anomalies_path.display()))?;
    if let Some(tmp) = alerts_tmp {
        tmp.persist(&alerts_path)
            .map_err(|err| err.error)
            .with_context(|| format!("cannot write `{}`", alerts_path.display()))?;
    }
    if let (Some(tmp), Some(path)) = (report_tmp, &args.report) {
        tmp.persist(path)
            .map_err(|err| err.error)
            .with_context(|| format!("cannot write the report `{}`", path.display()))?;
    }

    print!(
        "{}",
        summary.render(rows_read, rows_written, null_timestamps, started.elapsed())
    );
    if let Some(rules) = &rules {
        print!("{}", alerts::render_summary(rules, &episodes));
        println!(
            "wrote {}, {} and {}",
            scores_path.display(),
            anomalies_path.display(),
            alerts_path.display()
        );
    } else {
        println!(
            "wrote {} and {}",
            scores_path.display(),
            anomalies_path.display()
        );
    }
    if let Some(path) = &args.report {
        println!("wrote the report {}", path.display());
    }
    Ok(())
}

fn write_anomalies(
    file: &NamedTempFile,
    keys: &SeriesKeys,
    series_schema: &arrow::datatypes::SchemaRef,
    intervals: &[(&[u8], &omen_engine::AnomalyInterval)],
) -> Result<()> {
    let schema = anomalies_schema(series_schema);
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut writer = ArrowWriter::try_new(file.reopen()?, schema.clone(), Some(props))
        .context("cannot start writing anomalies.parquet")?;
    for chunk in intervals.chunks(8192) {
        let batch = anomalies_batch(&schema, keys, chunk)?;
        writer
            .write(&batch)
            .context("cannot write anomalies.parquet")?;
    }
    writer.close().context("cannot finish anomalies.parquet")?;
    file.as_file()
        .sync_all()
        .context("cannot write anomalies.parquet")?;
    Ok(())
}

fn write_alerts(
    file: &NamedTempFile,
    keys: &SeriesKeys,
    series_schema: &arrow::datatypes::SchemaRef,
    episodes: &[alerts::Episode],
) -> Result<()> {
    let schema = alerts::alerts_schema(series_schema);
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut writer = ArrowWriter::try_new(file.reopen()?, schema.clone(), Some(props))
        .context("cannot start writing alerts.parquet")?;
    for chunk in episodes.chunks(8192) {
        let batch = alerts::alerts_batch(&schema, keys, chunk)?;
        writer
            .write(&batch)
            .context("cannot write alerts.parquet")?;
    }
    writer.close().context("cannot finish alerts.parquet")?;
    file.as_file()
        .sync_all()
        .context("cannot write alerts.parquet")?;
    Ok(())
}

/// A progress bar over the input's rows on a terminal; hidden otherwise.
fn progress_bar(table: &MetricsTable) -> ProgressBar {
    if !std::io::stdout().is_terminal() || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    // With SQL the result may have any number of rows: count without a total.
    if table.has_sql() {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {human_pos} rows scored ({per_sec})")
                .expect("a valid template"),
        );
        return bar;
    }
    let bar = ProgressBar::new(table.input_rows());
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {human_pos}/{human_len} rows ({per_sec}, {eta} left)",
        )
        .expect("a valid template"),
    );
    bar
}
