//! One pass over the query's result: a reader routes every series to one worker thread, each
//! worker replays its series through their detectors and encodes its scores as Parquet row
//! groups, and a writer thread appends the row groups to `scores.parquet`.
//!
//! ```text
//! DataFusion stream ─> normalise ─> route by hash(series) ─┬─> worker 1 (SeriesReplay, encode) ─┐
//!                                                          └─> worker N (SeriesReplay, encode) ─┴─> writer (scores.parquet)
//! ```
//!
//! Channels are bounded, so memory is per-series state plus a few batches in flight, whatever
//! the size of the input. A series always goes to the same worker, so its samples are scored in
//! the order they were read, and no state is shared between threads.

use std::fs::File;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread;

use anyhow::{Context, Result, anyhow};
use arrow::array::{AsArray, UInt32Array};
use arrow::compute::{take, take_record_batch};
use arrow::datatypes::{Float64Type, Int64Type, SchemaRef};
use futures::StreamExt;
use indicatif::ProgressBar;
use omen_alert::CompiledAlerts;
use omen_engine::{ReplayReport, SeriesReplay, Step};
use omen_ingest::{MetricsTable, ReadOrder, SeriesBatch};

use super::alerts::{Episode, WorkerAlerts};
use super::output::{ScoreColumns, scores_schema};
use super::scores_file::{self, EncodedRowGroup, RowGroupEncoder};
use crate::cmd::series_keys::SeriesKeys;
use crate::config::Config;

/// Batches in flight per worker.
const CHANNEL_DEPTH: usize = 4;

/// Encoded row groups waiting for the file, per worker (each about 30 MB).
const ROW_GROUPS_IN_FLIGHT: usize = 1;

/// A sample that went back in time, which means the input must be read sorted.
#[derive(Debug, Clone)]
pub(crate) struct OutOfOrder {
    pub(crate) key: Box<[u8]>,
    pub(crate) timestamp_ms: i64,
    pub(crate) last_ms: i64,
}

/// What a pass did.
#[derive(Debug)]
pub(crate) enum Pass {
    /// Every row was read and scored; one report per worker.
    Done {
        reports: Vec<ReplayReport>,
        /// The alert episodes, when there are alert rules.
        episodes: Vec<Episode>,
        rows_read: u64,
        rows_written: u64,
        null_timestamps: u64,
    },
    /// A series went back in time; the pass stopped early and its output is to be discarded.
    OutOfOrder(OutOfOrder),
}

/// Run one pass of `table` in `order`, writing scores to `scores` and running `alerts` on
/// every scored sample.
pub(crate) async fn run(
    table: &MetricsTable,
    order: ReadOrder,
    config: &Config,
    alerts: Option<&Arc<CompiledAlerts>>,
    scores: File,
    progress: &ProgressBar,
) -> Result<Pass> {
    let layout = table.layout();
    let series_schema = layout.series_schema().clone();
    let out_schema = scores_schema(&series_schema);
    let workers = thread::available_parallelism().map_or(2, |n| n.get());
    let abort = Arc::new(AtomicBool::new(false));

    let (file_writer, row_groups) = scores_file::create(scores, &out_schema)?;
    let (to_writer, writer_inbox) = sync_channel::<EncodedRowGroup>(ROW_GROUPS_IN_FLIGHT * workers);
    let writer = thread::Builder::new()
        .name("omen-writer".into())
        .spawn(move || scores_file::append_row_groups(file_writer, writer_inbox))?;
    let mut inboxes = Vec::with_capacity(workers);
    let mut handles = Vec::with_capacity(workers);
    for n in 0..workers {
        let (tx, rx) = sync_channel::<SeriesBatch>(CHANNEL_DEPTH);
        inboxes.push(tx);
        let worker = Worker {
            replay: SeriesReplay::new(config.detector.clone(), config.verdict.clone())?,
            keys: SeriesKeys::new(series_schema.clone())?,
            alerts: alerts.map(|rules| WorkerAlerts::new(rules.clone())),
            schema: out_schema.clone(),
            output: RowGroupEncoder::new(
                row_groups.clone(),
                out_schema.clone(),
                to_writer.clone(),
            )?,
            abort: abort.clone(),
        };
        handles.push(
            thread::Builder::new()
                .name(format!("omen-worker-{n}"))
                .spawn(move || worker.run(rx))?,
        );
    }
    drop(to_writer);

    let read = read_and_route(table, order, &inboxes, &abort, progress).await;
    drop(inboxes);
    let mut reports = Vec::with_capacity(workers);
    let mut episodes = Vec::new();
    let mut out_of_order = None;
    let mut failure = None;
    for handle in handles {
        match handle
            .join()
            .map_err(|_| anyhow!("a worker thread panicked"))?
        {
            Ok(WorkerEnd::Done(report, mut found)) => {
                reports.push(report);
                episodes.append(&mut found);
            }
            Ok(WorkerEnd::OutOfOrder(ooo)) => out_of_order = Some(ooo),
            Err(err) => failure = failure.or(Some(err)),
        }
    }
    let written = writer
        .join()
        .map_err(|_| anyhow!("the writer thread panicked"))?;
    // A failed file fails the workers too (they cannot hand over their row groups): its own
    // error is the one that says why.
    let written = written?;
    if let Some(err) = failure {
        return Err(err);
    }
    if let Some(ooo) = out_of_order {
        return Ok(Pass::OutOfOrder(ooo));
    }
    let (rows_read, null_timestamps) = read?;
    Ok(Pass::Done {
        reports,
        episodes,
        rows_read,
        rows_written: written,
        null_timestamps,
    })
}

/// Read the query's result, normalise it and send each row to its series' worker. Returns
/// the rows read and the rows dropped for a null timestamp.
async fn read_and_route(
    table: &MetricsTable,
    order: ReadOrder,
    inboxes: &[SyncSender<SeriesBatch>],
    abort: &AtomicBool,
    progress: &ProgressBar,
) -> Result<(u64, u64)> {
    let layout = table.layout();
    let mut stream = table.stream(order).await?;
    let hasher = foldhash::fast::FixedState::with_seed(0x0e11);
    let mut hashes = Vec::new();
    let (mut rows, mut null_timestamps) = (0u64, 0u64);
    while let Some(batch) = stream.next().await {
        if abort.load(Ordering::Relaxed) {
            break;
        }
        let batch = match batch {
            Ok(batch) => batch,
            // Name the file when DataFusion's message does not.
            Err(err) => {
                return Err(omen_ingest::find_unreadable(table.inputs())
                    .unwrap_or(omen_ingest::Error::Query {
                        message: err.to_string(),
                    })
                    .into());
            }
        };
        rows += batch.num_rows() as u64;
        let (parts, nulls) = layout.normalise(&batch)?;
        null_timestamps += nulls;
        for part in parts {
            if inboxes.len() == 1 || part.series.num_columns() == 0 {
                // One worker, or one series: no routing to do.
                if inboxes[0].send(part).is_err() {
                    return Ok((rows, null_timestamps));
                }
                continue;
            }
            hashes.clear();
            hashes.resize(part.timestamp_ms.len(), 0);
            datafusion::common::hash_utils::create_hashes_with_hasher(
                part.series.columns(),
                &hasher,
                &mut hashes,
            )
            .context("cannot hash the series columns")?;
            let mut picks: Vec<Vec<u32>> = vec![Vec::new(); inboxes.len()];
            for (row, h) in hashes.iter().enumerate() {
                picks[(*h % inboxes.len() as u64) as usize].push(row as u32);
            }
            for (inbox, pick) in inboxes.iter().zip(picks) {
                if pick.is_empty() {
                    continue;
                }
                let sub = select_rows(&part, &UInt32Array::from(pick))?;
                if inbox.send(sub).is_err() {
                    // The worker stopped (out of order or failed); its join says why.
                    return Ok((rows, null_timestamps));
                }
            }
        }
        progress.inc(batch.num_rows() as u64);
    }
    Ok((rows, null_timestamps))
}

fn select_rows(part: &SeriesBatch, rows: &UInt32Array) -> Result<SeriesBatch> {
    Ok(SeriesBatch {
        series: take_record_batch(&part.series, rows)?,
        timestamp_ms: take(&part.timestamp_ms, rows, None)?
            .as_primitive::<Int64Type>()
            .clone(),
        value: take(&part.value, rows, None)?
            .as_primitive::<Float64Type>()
            .clone(),
    })
}

enum WorkerEnd {
    Done(ReplayReport, Vec<Episode>),
    OutOfOrder(OutOfOrder),
}

struct Worker {
    replay: SeriesReplay,
    keys: SeriesKeys,
    alerts: Option<WorkerAlerts>,
    schema: SchemaRef,
    output: RowGroupEncoder,
    abort: Arc<AtomicBool>,
}

impl Worker {
    fn run(mut self, inbox: Receiver<SeriesBatch>) -> Result<WorkerEnd> {
        for part in inbox {
            let n = part.timestamp_ms.len();
            let rows = self.keys.encode(part.series.columns())?;
            let mut out = ScoreColumns::with_capacity(n);
            let mut kept: Vec<u32> = Vec::new();
            let ts = part.timestamp_ms.values();
            let values = part.value.values();
            for i in 0..n {
                let key = rows.as_ref().map_or(&[][..], |r| r.row(i).data());
                match self.replay.step(key, ts[i], values[i]) {
                    Step::Scored { score, anomaly } => {
                        kept.push(i as u32);
                        out.timestamp_ms.push(ts[i]);
                        out.value.push(values[i]);
                        out.score.push(score.score);
                        out.expected.push(score.expected);
                        out.lower.push(score.lower);
                        out.upper.push(score.upper);
                        out.anomaly.push(anomaly);
                        if let Some(alerts) = &mut self.alerts
                            && let Some(context) = self.replay.last_context()
                        {
                            alerts.observe(&self.keys, key, context, ts[i], values[i], &score)?;
                        }
                    }
                    Step::Duplicate => {}
                    Step::OutOfOrder { last_ms } => {
                        self.abort.store(true, Ordering::Relaxed);
                        return Ok(WorkerEnd::OutOfOrder(OutOfOrder {
                            key: key.into(),
                            timestamp_ms: ts[i],
                            last_ms,
                        }));
                    }
                }
            }
            let series = if kept.len() == n {
                part.series
            } else {
                take_record_batch(&part.series, &UInt32Array::from(kept))?
            };
            let batch = out.into_batch(&self.schema, series.columns().to_vec())?;
            self.output.write(&batch)?;
        }
        self.output.finish()?;
        let episodes = self.alerts.map(WorkerAlerts::finish).unwrap_or_default();
        Ok(WorkerEnd::Done(self.replay.finish(), episodes))
    }
}
