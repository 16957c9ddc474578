//! `omen eval labelled --input FILE --label-column COL`: how well the engine's own verdicts
//! find the labelled anomalies of any point-labelled file in the long layout.
//!
//! Each series is replayed through a fresh detector in time order, exactly as `omen analyze`
//! replays it, and the verdicts and scores are scored against the labels by
//! `omen_eval::labelled`: point-wise precision/recall/F1, the delay-k event F1 of the AIOps
//! Challenge 2018, and the best F1 over a threshold sweep on the score, which tunes on the
//! labels and is reported as an upper bound only. The whole file is held in memory (17 bytes
//! per point), which suits evaluation sets; `omen analyze` is the streaming path.

mod read;

use std::fmt::Write as _;
use std::thread;
use std::time::Instant;

use omen_engine::{SeriesReplay, Step};
use omen_eval::labelled::{LabelledReport, LabelledSeries, Metrics, evaluate};
use serde::Serialize;

use self::read::SeriesRows;
use crate::LabelledOptions;
use crate::error::{Context, Result, bail};
use omen_ingest::write_atomically;

/// What `--json` writes.
#[derive(Debug, Serialize)]
struct JsonReport<'a> {
    input: &'a str,
    label_column: &'a str,
    rows_read: u64,
    duplicates_dropped: u64,
    null_timestamps_dropped: u64,
    verdict_threshold: f64,
    #[serde(flatten)]
    report: &'a LabelledReport,
}

/// Run `omen eval labelled`.
pub fn run(args: &LabelledOptions) -> Result<()> {
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let (series, stats) = runtime.block_on(read::read(args))?;
    if series.is_empty() {
        bail!("`{}` has no rows to evaluate", args.input);
    }
    let labelled = replay_all(&series, args)?;
    let report = evaluate(&labelled, args.delay);
    print!("{}", render(&report, stats.rows, started.elapsed()));
    if stats.duplicates > 0 || stats.null_timestamps > 0 {
        println!(
            "dropped: {} repeated timestamps, {} rows without a timestamp",
            stats.duplicates, stats.null_timestamps
        );
    }
    if let Some(path) = &args.json {
        let json = JsonReport {
            input: &args.input,
            label_column: &args.label_column,
            rows_read: stats.rows,
            duplicates_dropped: stats.duplicates,
            null_timestamps_dropped: stats.null_timestamps,
            verdict_threshold: args.verdict.threshold,
            report: &report,
        };
        write_atomically(path, |file| -> Result<_> {
            serde_json::to_writer_pretty(&mut *file, &json)?;
            Ok(())
        })?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// Every series through its own detector, series spread over the cores.
fn replay_all(series: &[SeriesRows], config: &LabelledOptions) -> Result<Vec<LabelledSeries>> {
    let workers = thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = series.len().div_ceil(workers).max(1);
    thread::scope(|scope| {
        let handles: Vec<_> = series
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|s| replay(s, config))
                        .collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        let mut all = Vec::with_capacity(series.len());
        for handle in handles {
            all.extend(handle.join().expect("a replay thread panicked")?);
        }
        Ok(all)
    })
}

/// One series through a fresh detector: its scores and verdicts beside its labels.
fn replay(series: &SeriesRows, config: &LabelledOptions) -> Result<LabelledSeries> {
    let mut replay = SeriesReplay::new(config.detector.clone(), config.verdict.clone())?;
    let n = series.timestamp_ms.len();
    let (mut scores, mut verdicts) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for (&ts, &value) in series.timestamp_ms.iter().zip(&series.value) {
        match replay.step(b"", ts, value) {
            Step::Scored { score, anomaly } => {
                scores.push(score.score);
                verdicts.push(anomaly);
            }
            // The reader sorted the series and dropped repeated timestamps.
            step => bail!("series {}: unexpected {step:?} (a bug)", series.name),
        }
    }
    Ok(LabelledSeries::new(series.label.clone(), scores, verdicts)?)
}

fn render(report: &LabelledReport, rows: u64, elapsed: std::time::Duration) -> String {
    let mut out = String::new();
    let event = &report.event;
    let _ = writeln!(
        out,
        "omen eval labelled: {} series, {} points ({rows} rows read) in {:.1} s; {} labelled \
         anomalous points in {} segments",
        report.series,
        report.points,
        elapsed.as_secs_f64(),
        report.labelled_points,
        event.segments,
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<34} {:>9} {:>7} {:>7} {:>9} {:>9} {:>9}",
        "the engine's own verdicts", "precision", "recall", "F1", "TP", "FP", "FN"
    );
    row(&mut out, "point-wise", &report.point);
    row(
        &mut out,
        &format!("event, delay {}", report.delay),
        &event.metrics,
    );
    let delay = event
        .mean_detection_delay
        .map_or("-".to_owned(), |d| format!("{d:.1}"));
    let _ = writeln!(
        out,
        "  {} of {} segments caught within {} points; mean delay {delay} points",
        event.caught_segments,
        event.segments,
        report.delay + 1,
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "upper bound: the best F1 of a threshold on the score, tuned on these labels"
    );
    for (name, sweep) in [
        ("point-wise".to_owned(), &report.best_point_f1),
        (
            format!("event, delay {}", report.delay),
            &report.best_event_f1,
        ),
    ] {
        let at = sweep
            .threshold
            .map_or("(no threshold helps)".to_owned(), |t| {
                format!("score >= {t:.4}")
            });
        row(&mut out, &format!("{name} at {at}"), &sweep.metrics);
    }
    out
}

fn row(out: &mut String, name: &str, m: &Metrics) {
    let _ = writeln!(
        out,
        "{name:<34} {:>9.3} {:>7.3} {:>7.3} {:>9} {:>9} {:>9}",
        m.precision,
        m.recall,
        m.f1,
        m.counts.true_positives,
        m.counts.false_positives,
        m.counts.false_negatives
    );
}
