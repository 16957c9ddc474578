//! One run of `omen analyze`: score every series of historical Parquet metrics with the same
//! detectors as the live path, in event time.
//!
//! Steps: open the inputs as the DataFusion table `metrics` and find the layout of the query's
//! result; read it in stored order through the [pipeline](crate::pipeline); if a series went
//! back in time, read it again sorted; then write the anomaly intervals (and the report) and
//! make the summary. With alert rules, the workers also run the alert lifecycle on every scored
//! sample ([alerts](crate::alerts)) and the episodes go to `alerts.parquet`. Every output file
//! goes through a temporary name and is renamed into place only at the end.

use std::fmt;
use std::path::Path;
use std::time::Instant;

use omen_engine::AnomalyInterval;
use omen_ingest::{MetricsTable, ReadOrder};
use tempfile::NamedTempFile;

use crate::alerts;
use crate::direct_file::DirectFile;
use crate::error::{Context, Error, Result};
use crate::options::AnalyzeOptions;
use crate::output::{anomalies_batch, anomalies_schema, write_table};
use crate::pipeline::{self, Pass};
use crate::progress::progress_bar;
use crate::report;
use crate::summary::Summary;
use omen_ingest::SeriesKeys;
use omen_ingest::temporary_for;

/// A finished run: what `omen analyze` prints on standard output (the summary, the alerts'
/// summary and the files written).
#[derive(Debug, Clone)]
pub struct Finished {
    text: String,
}

impl fmt::Display for Finished {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Run `omen analyze` with `options`: write `scores.parquet`, `anomalies.parquet` (and
/// `alerts.parquet`, and the report) into the output directory. Notes on the input and on a
/// second, sorted read go to standard error as the run goes.
pub async fn analyze(options: &AnalyzeOptions) -> Result<Finished> {
    let started = Instant::now();
    let table = MetricsTable::open(&options.inputs, options.sql.as_deref(), &options.table).await?;
    eprintln!(
        "omen analyze: {} file(s), {} rows; {}",
        table.inputs().len(),
        table.input_rows(),
        table.layout().describe()
    );
    std::fs::create_dir_all(&options.output).with_context(|| {
        format!(
            "cannot create the output directory `{}`",
            options.output.display()
        )
    })?;

    // Found out now, not after the whole input has been scored.
    if let Some(parent) = options.report.as_deref().and_then(Path::parent)
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).with_context(|| {
            format!(
                "cannot create the report's directory `{}`",
                parent.display()
            )
        })?;
    }

    let rules = options.alerts.as_ref();
    let alerts_path = options.output.join("alerts.parquet");
    let scores_path = options.output.join("scores.parquet");
    let anomalies_path = options.output.join("anomalies.parquet");
    let keys = SeriesKeys::new(table.layout().series_schema().clone())?;
    let (scores_tmp, pass) = score(&table, options, &keys).await?;
    let Pass::Done {
        reports,
        mut episodes,
        rows_read,
        rows_written,
        null_timestamps,
    } = pass
    else {
        unreachable!("`score` only returns a finished pass")
    };
    if rows_read == 0 {
        return Err(omen_ingest::Error::EmptyResult {
            with_sql: table.has_sql(),
        }
        .into());
    }

    let series_schema = table.layout().series_schema();
    let anomalies_tmp = temporary_for(&anomalies_path)?;
    let intervals: Vec<(&[u8], &AnomalyInterval)> = reports
        .iter()
        .flat_map(|r| {
            r.intervals
                .iter()
                .map(|(at, interval)| (&*r.series[*at].key, interval))
        })
        .collect();
    write_table(
        &anomalies_tmp,
        "anomalies.parquet",
        &anomalies_schema(series_schema),
        &intervals,
        |schema, chunk| anomalies_batch(schema, &keys, chunk),
    )?;
    alerts::sort(&mut episodes);
    let alerts_tmp = match rules {
        Some(_) => {
            let tmp = temporary_for(&alerts_path)?;
            write_table(
                &tmp,
                "alerts.parquet",
                &alerts::alerts_schema(series_schema),
                &episodes,
                |schema, chunk| alerts::alerts_batch(schema, &keys, chunk),
            )?;
            Some(tmp)
        }
        None => None,
    };
    let summary = Summary::new(&reports, &keys, options.top)?;
    let report_tmp = match &options.report {
        Some(path) => {
            let facts = report::RunFacts {
                inputs: &options.inputs,
                sql: options.sql.as_deref(),
                summary: &summary,
                alerts: rules.map(|_| &episodes[..]),
            };
            Some(report::write_report(
                path,
                scores_tmp.path(),
                &keys,
                series_schema.fields().len(),
                &intervals,
                &facts,
            )?)
        }
        None => None,
    };

    persist(scores_tmp, &scores_path, "cannot write")?;
    persist(anomalies_tmp, &anomalies_path, "cannot write")?;
    if let Some(tmp) = alerts_tmp {
        persist(tmp, &alerts_path, "cannot write")?;
    }
    if let (Some(tmp), Some(path)) = (report_tmp, &options.report) {
        persist(tmp, path, "cannot write the report")?;
    }

    let mut text = summary.render(rows_read, rows_written, null_timestamps, started.elapsed());
    if let Some(rules) = rules {
        text += &alerts::render_summary(rules, &episodes);
        text += &format!(
            "wrote {}, {} and {}\n",
            scores_path.display(),
            anomalies_path.display(),
            alerts_path.display()
        );
    } else {
        text += &format!(
            "wrote {} and {}\n",
            scores_path.display(),
            anomalies_path.display()
        );
    }
    if let Some(path) = &options.report {
        text += &format!("wrote the report {}\n", path.display());
    }
    Ok(Finished { text })
}

/// Score the whole input into a temporary `scores.parquet`: in stored order, and once more
/// sorted by series and time if a series went back in time.
async fn score(
    table: &MetricsTable,
    options: &AnalyzeOptions,
    keys: &SeriesKeys,
) -> Result<(NamedTempFile, Pass)> {
    let scores_path = options.output.join("scores.parquet");
    let mut order = ReadOrder::AsStored;
    loop {
        let scores_tmp = temporary_for(&scores_path)?;
        let file =
            DirectFile::open(scores_tmp.path()).context("cannot open the temporary scores file")?;
        let progress = progress_bar(table);
        let pass = pipeline::run(table, order, options, file, &progress).await?;
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
                return Err(Error::Failed(
                    "the input is still out of time order after sorting it (a bug)".into(),
                ));
            }
            Pass::Done { .. } => return Ok((scores_tmp, pass)),
        }
    }
}

/// Rename the temporary `tmp` over `path`; `what` names the failure (`cannot write`).
fn persist(tmp: NamedTempFile, path: &Path, what: &str) -> Result<()> {
    tmp.persist(path)
        .map_err(|err| err.error)
        .with_context(|| format!("{what} `{}`", path.display()))?;
    Ok(())
}
