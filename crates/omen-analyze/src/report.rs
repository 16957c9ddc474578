//! `--report FILE.html`: the top series' charts, drawn by `omen-report` from the scores just
//! written.
//!
//! The scores file is read back once and only the rows of the top series are kept, so memory
//! is the top series' samples, not the input's.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write as _;
use std::path::Path;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Float64Type, TimestampMillisecondType};
use omen_engine::AnomalyInterval;
use omen_report::{IntervalMark, Report, SeriesChart, Table};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use tempfile::NamedTempFile;

use crate::alerts::Episode;
use crate::error::{Context, Result};
use crate::summary::Summary;
use omen_ingest::SeriesKeys;
use omen_ingest::temporary_for;

/// What the page says about the run, beside the charts.
pub(crate) struct RunFacts<'a> {
    pub(crate) inputs: &'a [String],
    pub(crate) sql: Option<&'a str>,
    pub(crate) summary: &'a Summary,
    /// The alert episodes, in fire-time order, when there are alert rules.
    pub(crate) alerts: Option<&'a [Episode]>,
}

/// Rows of the alerts table at most.
const ALERT_ROWS: usize = 50;

/// Write the report into a temporary file beside `path`, for the caller to rename into place
/// with the other outputs: one chart per top series of `facts.summary`, from the scores in
/// `scores` (a scores.parquet with `series_columns` leading columns).
pub(crate) fn write_report(
    path: &Path,
    scores: &Path,
    keys: &SeriesKeys,
    series_columns: usize,
    intervals: &[(&[u8], &AnomalyInterval)],
    facts: &RunFacts<'_>,
) -> Result<NamedTempFile> {
    let top = facts.summary.top();
    let titles = prometheus_names(keys, top.iter().map(|t| &*t.key))?;
    let mut charts: Vec<SeriesChart> = top
        .iter()
        .zip(titles)
        .map(|(t, title)| SeriesChart {
            title,
            peak_score: t.peak_score,
            ..SeriesChart::default()
        })
        .collect();
    let index: HashMap<&[u8], usize> = top
        .iter()
        .enumerate()
        .map(|(at, t)| (&*t.key, at))
        .collect();

    if !index.is_empty() {
        read_top_series(scores, keys, series_columns, &index, &mut charts)?;
    }
    for (key, interval) in intervals {
        if let Some(&at) = index.get(key) {
            charts[at].intervals.push(IntervalMark {
                start_ms: interval.start_ms,
                end_ms: interval.end_ms,
                peak_ms: interval.peak_ms,
                peak_score: interval.peak.score,
                explanation: interval.explanation(),
            });
        }
    }
    for chart in &mut charts {
        chart.intervals.sort_by_key(|i| i.start_ms);
    }

    let summary = facts.summary;
    let mut rows = vec![
        ("input".to_owned(), facts.inputs.join(" ")),
        ("series analysed".to_owned(), summary.series().to_string()),
        ("points".to_owned(), summary.points().to_string()),
        (
            "series with anomalies".to_owned(),
            summary.anomalous_series().to_string(),
        ),
        (
            "anomalous points".to_owned(),
            summary.anomalous_points().to_string(),
        ),
        ("intervals".to_owned(), summary.intervals().to_string()),
    ];
    if let Some(sql) = facts.sql {
        rows.insert(1, ("query".to_owned(), sql.to_owned()));
    }
    let mut tables = Vec::new();
    if let Some(episodes) = facts.alerts {
        rows.push((
            "alerts that would have fired".to_owned(),
            episodes.len().to_string(),
        ));
        tables.push(alerts_table(keys, episodes)?);
    }
    let report = Report {
        title: "Omen analysis".to_owned(),
        summary: rows,
        charts,
        tables,
    };
    let context = || format!("cannot write the report `{}`", path.display());
    let file = temporary_for(path)?;
    let mut out = std::io::BufWriter::new(file.as_file());
    omen_report::write_html(&report, &mut out).with_context(context)?;
    out.flush().with_context(context)?;
    drop(out);
    file.as_file().sync_all().with_context(context)?;
    Ok(file)
}

/// "Alerts that would have fired": the first [`ALERT_ROWS`] episodes.
fn alerts_table(keys: &SeriesKeys, episodes: &[Episode]) -> Result<Table> {
    let shown = &episodes[..episodes.len().min(ALERT_ROWS)];
    let names = prometheus_names(keys, shown.iter().map(|e| &*e.key))?;
    let time = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms).map_or_else(
            || ms.to_string(),
            |t| t.format("%Y-%m-%d %H:%M:%S").to_string(),
        )
    };
    let rows = shown
        .iter()
        .zip(names)
        .map(|(e, series)| {
            vec![
                e.alertname.clone(),
                series,
                time(e.fired_at_ms),
                e.resolved_at_ms
                    .map_or_else(|| "still firing".to_owned(), time),
                format!("{:.3}", e.peak_score),
            ]
        })
        .collect();
    let note = match episodes.len() - shown.len() {
        0 if episodes.is_empty() => Some("No alert would have fired.".to_owned()),
        0 => None,
        more => Some(format!("{more} more in alerts.parquet.")),
    };
    Ok(Table {
        title: "Alerts that would have fired".to_owned(),
        columns: [
            "rule",
            "series",
            "fired (UTC)",
            "resolved (UTC)",
            "peak score",
        ]
        .map(str::to_owned)
        .to_vec(),
        rows,
        note,
    })
}

/// Series names as Prometheus writes them: `name{label="value", ...}`, the name from a
/// `__name__` column when there is one.
fn prometheus_names<'a>(
    keys: &SeriesKeys,
    series: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<String>> {
    Ok(keys
        .labels(series, "")?
        .into_iter()
        .map(|labels| {
            let mut name = String::new();
            let mut rest = Vec::new();
            for (label, value) in labels {
                if label == "__name__" {
                    name = value;
                } else {
                    rest.push(format!("{label}={value:?}"));
                }
            }
            format!("{name}{{{}}}", rest.join(", "))
        })
        .collect())
}

/// Fill `charts` with the samples of the series in `index`, read from `scores`.
fn read_top_series(
    scores: &Path,
    keys: &SeriesKeys,
    series_columns: usize,
    index: &HashMap<&[u8], usize>,
    charts: &mut [SeriesChart],
) -> Result<()> {
    let file = File::open(scores).context("cannot read the scores back for the report")?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .context("cannot read the scores back for the report")?;
    for batch in reader {
        let batch = batch.context("cannot read the scores back for the report")?;
        let columns = batch.columns();
        let rows = keys.encode(&columns[..series_columns])?;
        let number = |at: usize| columns[series_columns + at].as_primitive::<Float64Type>();
        let timestamp = columns[series_columns].as_primitive::<TimestampMillisecondType>();
        let (value, expected, lower, upper) = (number(1), number(3), number(4), number(5));
        let anomaly = columns[series_columns + 6].as_boolean();
        for row in 0..batch.num_rows() {
            let key: &[u8] = match &rows {
                Some(rows) => rows.row(row).data(),
                None => &[],
            };
            let Some(&at) = index.get(key) else {
                continue;
            };
            let chart = &mut charts[at];
            chart.timestamps_ms.push(timestamp.value(row));
            chart.values.push(value.value(row));
            chart.expected.push(expected.value(row));
            chart.lower.push(lower.value(row));
            chart.upper.push(upper.value(row));
            chart
                .anomaly
                .push(anomaly.is_valid(row) && anomaly.value(row));
        }
    }
    Ok(())
}
