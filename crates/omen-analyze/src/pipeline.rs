//! One pass over the query's result: a reader routes every series to one worker thread, each
//! worker replays its series through their detectors and encodes its scores as Parquet row
//! groups, and a writer thread appends the row groups to `scores.parquet`.
//!
//! ```text
//! DataFusion stream ─> normalise ─> route runs by hash(series) ─┬─> worker 1 (SeriesReplay, encode) ─┐
//!                                                               └─> worker N (SeriesReplay, encode) ─┴─> writer (scores.parquet)
//! ```
//!
//! Channels are bounded, so memory is per-series state plus a few batches in flight, whatever
//! the size of the input. A series always goes to the same worker, so its samples are scored in
//! the order they were read, and no state is shared between threads.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread;

use arrow::array::UInt32Array;
use arrow::compute::take_record_batch;
use arrow::datatypes::SchemaRef;
use futures::StreamExt;
use indicatif::ProgressBar;
use omen_engine::{ReplayReport, SeriesReplay, Step};
use omen_ingest::{MetricsTable, ReadOrder};

use crate::alerts::{Episode, WorkerAlerts};
use crate::direct_file::DirectFile;
use crate::error::{Error, Result};
use crate::options::AnalyzeOptions;
use crate::output::{ScoreColumns, scores_schema};
use crate::routing::{Routed, Router};
use crate::scores_file::{self, EncodedRowGroup, RowGroupEncoder};
use omen_ingest::SeriesKeys;

/// Batches in flight per worker (of up to 32,768 rows, about 1.3 MB each): enough that a
/// worker does not wait on the reader while it decodes a new row group (4 left the cores idle
/// 8 % of the time).
const CHANNEL_DEPTH: usize = 16;

/// Encoded row groups waiting for the file, per worker (each about 20 MB).
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
    options: &AnalyzeOptions,
    scores: DirectFile,
    progress: &ProgressBar,
) -> Result<Pass> {
    let layout = table.layout();
    let series_schema = layout.series_schema().clone();
    let out_schema = scores_schema(&series_schema);
    let workers = thread::available_parallelism().map_or(2, |n| n.get());
    let abort = Arc::new(AtomicBool::new(false));

    let (file_writer, row_groups) = scores_file::create(scores, &out_schema)?;
    let (to_writer, writer_inbox) = sync_channel::<EncodedRowGroup>(ROW_GROUPS_IN_FLIGHT * workers);
    let writer = thread::Builder::new().name("omen-writer".into()).spawn({
        let buffers = row_groups.buffers();
        move || scores_file::append_row_groups(file_writer, writer_inbox, buffers)
    })?;
    let mut inboxes = Vec::with_capacity(workers);
    let mut handles = Vec::with_capacity(workers);
    for n in 0..workers {
        let (tx, rx) = sync_channel::<Routed>(CHANNEL_DEPTH);
        inboxes.push(tx);
        let worker = Worker {
            replay: SeriesReplay::new(options.detector.clone(), options.verdict.clone())?,
            keys: SeriesKeys::new(series_schema.clone())?,
            alerts: options
                .alerts
                .as_ref()
                .map(|rules| WorkerAlerts::new(rules.clone())),
            schema: out_schema.clone(),
            output: RowGroupEncoder::new(row_groups.clone(), to_writer.clone())?,
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
            .map_err(|_| Error::Failed("a worker thread panicked".into()))?
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
        .map_err(|_| Error::Failed("the writer thread panicked".into()))?;
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
    inboxes: &[SyncSender<Routed>],
    abort: &AtomicBool,
    progress: &ProgressBar,
) -> Result<(u64, u64)> {
    let layout = table.layout();
    let mut stream = table.stream(order).await?;
    let mut router = Router::new(inboxes.len());
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
            for (worker, routed) in router.route(part)? {
                if inboxes[worker].send(routed).is_err() {
                    // The worker stopped (out of order or failed); its join says why.
                    return Ok((rows, null_timestamps));
                }
            }
        }
        progress.inc(batch.num_rows() as u64);
    }
    Ok((rows, null_timestamps))
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
    fn run(mut self, inbox: Receiver<Routed>) -> Result<WorkerEnd> {
        for routed in inbox {
            let heads = routed.run_heads()?;
            let Routed { part, runs } = routed;
            let n = part.timestamp_ms.len();
            let keys = self.keys.encode(heads.columns())?;
            let mut out = ScoreColumns::with_capacity(n);
            // The rows scored, once a row was not (a duplicate timestamp); until then, all.
            let mut kept: Option<Vec<u32>> = None;
            let ts = part.timestamp_ms.values();
            let values = part.value.values();
            for (r, run) in runs.iter().enumerate() {
                let key = keys.as_ref().map_or(&[][..], |k| k.row(r).data());
                let series = self.replay.series(key);
                for i in run.clone() {
                    match self.replay.step_series(series, ts[i], values[i]) {
                        Step::Scored { score, anomaly } => {
                            if let Some(kept) = &mut kept {
                                kept.push(i as u32);
                            }
                            out.push(ts[i], values[i], &score, anomaly);
                            if let Some(alerts) = &mut self.alerts
                                && let Some(context) = self.replay.last_context()
                            {
                                alerts
                                    .observe(&self.keys, key, context, ts[i], values[i], &score)?;
                            }
                        }
                        Step::Duplicate => {
                            kept.get_or_insert_with(|| (0..i as u32).collect());
                        }
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
            }
            let series = match kept {
                None => part.series,
                Some(kept) => take_record_batch(&part.series, &UInt32Array::from(kept))?,
            };
            let batch = out.into_batch(&self.schema, series.columns().to_vec())?;
            self.output.write(&batch)?;
        }
        self.output.finish()?;
        let episodes = self.alerts.map(WorkerAlerts::finish).unwrap_or_default();
        Ok(WorkerEnd::Done(self.replay.finish(), episodes))
    }
}
