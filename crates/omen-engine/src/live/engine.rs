//! The engine: starts the shards, routes requests to them without blocking, answers queries,
//! takes snapshots, and stops cleanly.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use omen_core::{Labels, Selector};
use omen_detect::{EnsembleConfig, EnsembleSettings};

use super::clock::{Clock, SystemClock};
use super::config::LiveConfig;
use super::hash::{route_hash_of, shard_of};
use super::observer::Observer;
use super::part::Part;
use super::series::Series;
use super::shard::{Msg, Shard, ShardShared, Shared};
use super::snapshot::{self, Header, ReadError, SnapshotInfo, SnapshotWriter};
use super::stats::{Counters, DropReason, EngineStats};
use super::view::SeriesView;
use crate::{Error, Result, VerdictConfig};

/// Everything [`Engine::start`] needs.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Shards, queues, limits, expiry, snapshots, selectors.
    pub config: LiveConfig,
    /// The detector of every series: the same settings as `omen analyze`'s `[detector]`.
    pub detector: EnsembleConfig,
    /// How scores become verdicts: the same as `omen analyze`'s `[verdict]`.
    pub verdict: VerdictConfig,
    /// Where the snapshot is kept; `None` keeps nothing across restarts.
    pub data_dir: Option<PathBuf>,
    /// The clock series expiry is measured by.
    pub clock: Arc<dyn Clock>,
    /// Told about every score and every closed interval (the alert stage).
    pub observer: Option<Arc<dyn Observer>>,
}

impl EngineOptions {
    /// Default detector and verdict, no data directory, the system clock, no observer.
    pub fn new(config: LiveConfig) -> Self {
        Self {
            config,
            detector: EnsembleConfig::default(),
            verdict: VerdictConfig::default(),
            data_dir: None,
            clock: Arc::new(SystemClock::new()),
            observer: None,
        }
    }
}

/// A request taken into the queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    /// Series queued.
    pub series: usize,
    /// Samples queued.
    pub samples: usize,
    /// Samples of series that match no selector: dropped and counted, not an error.
    pub not_matched: usize,
}

/// The engine cannot take the request now; nothing of it was queued. The receiver answers
/// 503 with `Retry-After`, and the sender retries the same request later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overloaded {
    /// A suggested wait before retrying: the fullest queue's depth over its shard's measured
    /// rate, from 1 to 30 seconds.
    pub retry_after: Duration,
    /// Why.
    pub reason: OverloadReason,
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverloadReason {
    /// A shard's queue is full: the engine is behind.
    QueueFull {
        /// The shard.
        shard: usize,
    },
    /// The engine is shutting down.
    Stopping,
    /// A shard thread is gone (it panicked; the log says why).
    ShardStopped {
        /// The shard.
        shard: usize,
    },
}

impl fmt::Display for Overloaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            OverloadReason::QueueFull { .. } => {
                f.write_str("the detection engine is behind and its queue is full; retry later")
            }
            OverloadReason::Stopping => f.write_str("the detection engine is shutting down"),
            OverloadReason::ShardStopped { .. } => {
                f.write_str("the detection engine is not running; see the server's log")
            }
        }
    }
}

impl std::error::Error for Overloaded {}

/// What happened to the snapshot at start.
#[derive(Debug, Clone, PartialEq)]
pub enum RestoreOutcome {
    /// No data directory was given.
    NoDataDir,
    /// The data directory has no snapshot yet.
    NoSnapshot,
    /// The series were restored.
    Restored {
        /// When the snapshot was written, Unix milliseconds.
        written_unix_ms: u64,
        /// The shard count of the engine that wrote it.
        shards: u32,
    },
    /// The snapshot was written with other detector settings: every series starts afresh
    /// (the next snapshot replaces the file).
    SettingsChanged,
    /// The snapshot was damaged or of another format: it was moved aside and every series
    /// starts afresh.
    MovedAside {
        /// Where the file is now.
        to: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
}

/// The snapshot read at start.
#[derive(Debug, Clone, PartialEq)]
pub struct RestoreReport {
    /// The snapshot file, when there is a data directory.
    pub path: Option<PathBuf>,
    /// What happened.
    pub outcome: RestoreOutcome,
    /// Series restored.
    pub series: u64,
    /// Series in the snapshot beyond `max_active_series`, not restored.
    pub over_limit: u64,
}

struct ShardHandle {
    queue: Sender<Msg>,
    mine: Arc<ShardShared>,
}

struct Inner {
    shared: Arc<Shared>,
    shards: Vec<ShardHandle>,
    selectors: Vec<Selector>,
    capacity: usize,
    /// Open for requests; closed (under the write lock) by shutdown, so that no request is
    /// queued after the final snapshot was asked for.
    intake: RwLock<bool>,
    data_dir: Option<PathBuf>,
    /// One snapshot at a time.
    snapshot_lock: Mutex<()>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// The streaming engine of `omen serve`: per-series detectors in shards, one thread each.
///
/// `submit` never blocks, and `query`, `for_each_series` and `stats` only take a shard's view
/// table for reading; `flush`, `sweep_now`, `snapshot_now` and `shutdown` wait for the shards
/// and belong on a blocking thread (`tokio::task::spawn_blocking`).
pub struct Engine {
    inner: Arc<Inner>,
    timer: Mutex<Option<(Sender<()>, JoinHandle<()>)>>,
    restore: RestoreReport,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("shards", &self.inner.shards.len())
            .field("data_dir", &self.inner.data_dir)
            .field("restore", &self.restore)
            .finish()
    }
}

impl Engine {
    /// Check the settings, restore the snapshot if there is one, and start the shard threads
    /// (`omen-shard-N`) and the snapshot timer (`omen-snapshot`).
    ///
    /// A snapshot that cannot be read at all (permissions) is an error naming the file; one
    /// that is damaged or of another format is moved aside with a warning and the engine
    /// starts afresh (see [`RestoreOutcome`]).
    pub fn start(options: EngineOptions) -> Result<Self> {
        let EngineOptions {
            config,
            detector,
            verdict,
            data_dir,
            clock,
            observer,
        } = options;
        let selectors = config.selectors()?;
        detector.validate()?;
        verdict.validate()?;
        let shards = config.shards;
        let shared = Arc::new(Shared {
            counters: Counters::default(),
            active: Default::default(),
            max_active: config.max_active_series,
            limit_logged: Default::default(),
            clock,
            detector: EnsembleSettings::new(detector),
            verdict,
            ttl_secs: config.series_ttl.as_secs().max(1),
            observer,
        });
        let mut restored: Vec<Vec<Series>> = (0..shards).map(|_| Vec::new()).collect();
        let restore = match &data_dir {
            None => RestoreReport {
                path: None,
                outcome: RestoreOutcome::NoDataDir,
                series: 0,
                over_limit: 0,
            },
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|err| {
                    Error::io(
                        format!("cannot create the data directory `{}`", dir.display()),
                        err,
                    )
                })?;
                restore(dir, &shared, &mut restored)?
            }
        };
        shared
            .active
            .store(restore.series as usize, Ordering::Release);
        Counters::add(&shared.counters.series_restored, restore.series);

        let mut handles = Vec::with_capacity(shards);
        let mut threads = Vec::with_capacity(shards);
        for (i, series) in restored.into_iter().enumerate() {
            let (queue, inbox) = mpsc::channel();
            let mine = Arc::new(ShardShared::default());
            let (shared, shard_mine) = (shared.clone(), mine.clone());
            let thread = thread::Builder::new()
                .name(format!("omen-shard-{i}"))
                .spawn(move || Shard::new(shared, shard_mine, series).run(inbox))
                .map_err(|err| Error::io(format!("cannot start shard thread {i}"), err))?;
            handles.push(ShardHandle { queue, mine });
            threads.push(thread);
        }
        let inner = Arc::new(Inner {
            shared,
            shards: handles,
            selectors,
            capacity: config.queue_samples,
            intake: RwLock::new(true),
            data_dir,
            snapshot_lock: Mutex::new(()),
            threads: Mutex::new(threads),
        });
        let (stop, stopped) = mpsc::channel::<()>();
        let timer_inner = inner.clone();
        let interval = config.snapshot_interval;
        let timer = thread::Builder::new()
            .name("omen-snapshot".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                    if let Err(err) = timer_inner.snapshot() {
                        tracing::error!(error = %err, "periodic snapshot failed; the previous one is kept");
                    }
                }
            })
            .map_err(|err| Error::io("cannot start the snapshot thread", err))?;
        Ok(Self {
            inner,
            timer: Mutex::new(Some((stop, timer))),
            restore,
        })
    }

    /// The selectors of the series modelled (empty: all).
    pub(crate) fn selectors(&self) -> &[Selector] {
        &self.inner.selectors
    }

    /// [`Engine::submit`] of a request already routed: one part per shard.
    pub(crate) fn submit_parts(
        &self,
        parts: Vec<Part>,
        accepted: Accepted,
    ) -> std::result::Result<Accepted, Overloaded> {
        let inner = &*self.inner;
        let intake = inner.intake.read().unwrap_or_else(PoisonError::into_inner);
        if !*intake {
            Counters::add(&inner.shared.counters.requests_rejected, 1);
            return Err(Overloaded {
                retry_after: Duration::from_secs(1),
                reason: OverloadReason::Stopping,
            });
        }
        // Reserve room in every shard first; on a full one, give the rest back.
        for (i, part) in parts.iter().enumerate() {
            let samples = part.samples();
            if samples == 0 {
                continue;
            }
            let queued = &inner.shards[i].mine.queued;
            let before = queued.fetch_add(samples, Ordering::AcqRel);
            if before > 0 && before + samples > inner.capacity {
                queued.fetch_sub(samples, Ordering::AcqRel);
                for (j, reserved) in parts[..i].iter().enumerate() {
                    inner.shards[j]
                        .mine
                        .queued
                        .fetch_sub(reserved.samples(), Ordering::AcqRel);
                }
                let counters = &inner.shared.counters;
                Counters::add(&counters.requests_rejected, 1);
                Counters::add(&counters.samples_rejected, accepted.samples as u64);
                return Err(Overloaded {
                    retry_after: inner.retry_after(i),
                    reason: OverloadReason::QueueFull { shard: i },
                });
            }
        }
        for (i, part) in parts.into_iter().enumerate() {
            let samples = part.samples();
            if samples == 0 {
                continue;
            }
            if inner.shards[i].queue.send(Msg::Data(part)).is_err() {
                // Only when a shard thread died; the parts already sent are kept, and a retry
                // of them is dropped as duplicates.
                inner.shards[i]
                    .mine
                    .queued
                    .fetch_sub(samples, Ordering::AcqRel);
                Counters::add(&inner.shared.counters.requests_rejected, 1);
                return Err(Overloaded {
                    retry_after: Duration::from_secs(30),
                    reason: OverloadReason::ShardStopped { shard: i },
                });
            }
        }
        drop(intake);
        let counters = &inner.shared.counters;
        Counters::add(&counters.samples_accepted, accepted.samples as u64);
        counters.drop(DropReason::NotMatched, accepted.not_matched as u64);
        Ok(accepted)
    }

    /// The latest view of every series matching any of `selectors` (all series when empty),
    /// in no particular order.
    pub fn query(&self, selectors: &[Selector]) -> Vec<SeriesView> {
        let mut out = Vec::new();
        self.for_each_series(|view| {
            if selectors.is_empty() || selectors.iter().any(|s| s.matches(&view.labels)) {
                out.push(view.clone());
            }
        });
        out
    }

    /// Call `f` with the latest view of every series, one shard at a time (holding that
    /// shard's table for reading; its scoring goes on and publishes later). `f` must not call
    /// the engine's blocking methods (`flush`, `sweep_now`, `snapshot_now`, `shutdown`).
    pub fn for_each_series(&self, mut f: impl FnMut(&SeriesView)) {
        for shard in &self.inner.shards {
            let table = shard
                .mine
                .views
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            table.iter().for_each(&mut f);
        }
    }

    /// Call `f` with the views of shard `shard` in slot order, from slot `from` on, holding
    /// that shard's table for reading until `f` returns false or the table ends. Returns the
    /// slot to go on from, or `None` when the table is done (or there is no such shard). For
    /// readers that must not hold a table long: a large page sent to a slow client renders a
    /// part, lets go, sends it, and goes on, while the shard publishes in between. A series
    /// that comes or goes between two calls may be seen or not; none is seen twice.
    pub fn visit_views(
        &self,
        shard: usize,
        from: usize,
        mut f: impl FnMut(&SeriesView) -> bool,
    ) -> Option<usize> {
        let table = self
            .inner
            .shards
            .get(shard)?
            .mine
            .views
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        for (slot, view) in table.iter_from(from) {
            if !f(view) {
                return Some(slot + 1);
            }
        }
        None
    }

    /// The engine's numbers.
    pub fn stats(&self) -> EngineStats {
        let inner = &*self.inner;
        let shared = &inner.shared;
        let table_bytes = inner
            .shards
            .iter()
            .map(|s| s.mine.table_bytes.load(Ordering::Relaxed))
            .sum();
        let mut stats = shared.counters.read(
            shared.active.load(Ordering::Acquire) as u64,
            shared.max_active as u64,
            table_bytes,
        );
        stats.queue_samples = inner
            .shards
            .iter()
            .map(|s| s.mine.queued.load(Ordering::Acquire) as u64)
            .collect();
        stats.queue_capacity = inner.capacity as u64;
        stats
    }

    /// The number of shards.
    pub fn shard_count(&self) -> usize {
        self.inner.shards.len()
    }

    /// What happened to the snapshot at start.
    pub fn restore_report(&self) -> &RestoreReport {
        &self.restore
    }

    /// Wait until every sample accepted so far is scored and its view published. Blocks.
    pub fn flush(&self) {
        self.inner.ask_all(Msg::Flush);
    }

    /// Drop the series past their time to live now, rather than at the next periodic sweep.
    /// Blocks until done.
    pub fn sweep_now(&self) {
        self.inner.ask_all(Msg::Sweep);
    }

    /// Forget what the series with exactly these labels learned, so that its baseline is
    /// learned afresh from the next samples (after an expected change, such as a release that
    /// doubled traffic on purpose). Applies after the samples accepted so far. Returns whether
    /// the series was modelled. Blocks until done.
    pub fn rebaseline(&self, labels: &Labels) -> bool {
        let shard = &self.inner.shards[shard_of(route_hash_of(labels), self.inner.shards.len())];
        let (reply, answer) = mpsc::sync_channel(1);
        if shard
            .queue
            .send(Msg::Rebaseline(labels.clone(), reply))
            .is_err()
        {
            return false;
        }
        answer.recv().unwrap_or(false)
    }

    /// Write a snapshot now (after the samples accepted so far); `None` without a data
    /// directory. Blocks until written.
    pub fn snapshot_now(&self) -> Result<Option<SnapshotInfo>> {
        self.inner.snapshot()
    }

    /// Stop taking requests, score what is queued, write the final snapshot, and stop the
    /// threads. Blocks. A second call does nothing. The threads are stopped even when the
    /// snapshot fails; the error is returned.
    pub fn shutdown(&self) -> Result<Option<SnapshotInfo>> {
        {
            let mut open = self
                .inner
                .intake
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            if !*open {
                return Ok(None);
            }
            *open = false;
        }
        self.stop_timer();
        let snapshot = self.inner.snapshot();
        self.inner.stop_shards();
        snapshot
    }

    fn stop_timer(&self) {
        let timer = self
            .timer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some((stop, thread)) = timer {
            drop(stop);
            let _ = thread.join();
        }
    }

    /// When the series limit was last logged (clock seconds plus one; 0: never).
    #[cfg(test)]
    pub(crate) fn limit_logged(&self) -> u64 {
        self.inner.shared.limit_logged.load(Ordering::Relaxed)
    }

    /// Hold every shard until the returned senders are dropped (tests: a full queue).
    #[cfg(test)]
    pub(crate) fn pause(&self) -> Vec<Sender<()>> {
        self.inner
            .shards
            .iter()
            .map(|shard| {
                let (hold, gate) = mpsc::channel();
                let _ = shard.queue.send(Msg::Pause(gate));
                hold
            })
            .collect()
    }
}

impl Drop for Engine {
    /// Stops the threads without a snapshot; call [`Engine::shutdown`] to keep the state.
    fn drop(&mut self) {
        *self
            .inner
            .intake
            .write()
            .unwrap_or_else(PoisonError::into_inner) = false;
        self.stop_timer();
        self.inner.stop_shards();
    }
}

impl Inner {
    fn retry_after(&self, shard: usize) -> Duration {
        let mine = &self.shards[shard].mine;
        let queued = mine.queued.load(Ordering::Acquire) as f64;
        let rate = f64::from_bits(mine.rate.load(Ordering::Relaxed));
        let seconds = if rate > 0.0 { queued / rate } else { 1.0 };
        Duration::from_secs(seconds.ceil().clamp(1.0, 30.0) as u64)
    }

    /// Send every shard a message with a reply channel, and wait for all the replies.
    fn ask_all(&self, msg: fn(mpsc::SyncSender<()>) -> Msg) {
        let replies: Vec<_> = self
            .shards
            .iter()
            .filter_map(|shard| {
                let (reply, answer) = mpsc::sync_channel(1);
                shard.queue.send(msg(reply)).ok().map(|()| answer)
            })
            .collect();
        for answer in replies {
            let _ = answer.recv();
        }
    }

    /// Write the snapshot; nothing without a data directory. (The state's size used to be
    /// measured here by serialising it, pausing every shard; it is now counted as it changes,
    /// see `EngineStats::state_bytes_estimate`.)
    fn snapshot(&self) -> Result<Option<SnapshotInfo>> {
        let Some(dir) = &self.data_dir else {
            return Ok(None);
        };
        let _one = self
            .snapshot_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let counters = &self.shared.counters;
        let header = Header::new(self.shards.len(), self.shared.detector.config());
        let fill = |mut writer: Box<SnapshotWriter>| {
            for (i, shard) in self.shards.iter().enumerate() {
                let (reply, answer) = mpsc::sync_channel(1);
                let stopped = || std::io::Error::other(format!("shard {i} is not running"));
                shard
                    .queue
                    .send(Msg::Write(writer, reply))
                    .map_err(|_| stopped())?;
                let (back, result) = answer.recv().map_err(|_| stopped())?;
                result?;
                writer = back;
            }
            Ok(writer)
        };
        match snapshot::write(dir, &header, fill) {
            Ok(info) => {
                let store = |counter: &std::sync::atomic::AtomicU64, value: u64| {
                    counter.store(value, Ordering::Relaxed)
                };
                Counters::add(&counters.snapshots_written, 1);
                store(&counters.snapshot_unix_ms, snapshot::unix_ms());
                store(
                    &counters.snapshot_duration_us,
                    info.duration.as_micros() as u64,
                );
                store(&counters.snapshot_bytes, info.bytes);
                store(&counters.snapshot_series, info.series);
                tracing::info!(
                    path = %info.path.display(),
                    series = info.series,
                    bytes = info.bytes,
                    seconds = info.duration.as_secs_f64(),
                    "snapshot written"
                );
                Ok(Some(info))
            }
            Err(err) => {
                Counters::add(&counters.snapshots_failed, 1);
                Err(Error::io(
                    format!(
                        "cannot write the snapshot `{}`",
                        dir.join(snapshot::FILE_NAME).display()
                    ),
                    err,
                ))
            }
        }
    }

    fn stop_shards(&self) {
        let threads =
            std::mem::take(&mut *self.threads.lock().unwrap_or_else(PoisonError::into_inner));
        if threads.is_empty() {
            return;
        }
        for shard in &self.shards {
            let _ = shard.queue.send(Msg::Stop);
        }
        for (i, thread) in threads.into_iter().enumerate() {
            if thread.join().is_err() {
                tracing::error!(shard = i, "shard thread panicked");
            }
        }
    }
}

/// Read the snapshot in `dir` into per-shard series, routed for this engine's shard count.
fn restore(
    dir: &std::path::Path,
    shared: &Shared,
    restored: &mut [Vec<Series>],
) -> Result<RestoreReport> {
    let path = dir.join(snapshot::FILE_NAME);
    let now = u32::try_from(shared.clock.now_secs()).unwrap_or(u32::MAX);
    let shards = restored.len();
    let (mut series, mut over_limit) = (0u64, 0u64);
    let result = snapshot::read(&path, shared.detector.config(), |record| {
        let s = Series::from_record(record, &shared.detector, now)
            .ok_or_else(|| "its labels are not a valid encoding".to_string())?;
        if series >= shared.max_active as u64 {
            over_limit += 1;
            return Ok(());
        }
        restored[shard_of(route_hash_of(&s.labels), shards)].push(s);
        series += 1;
        Ok(())
    });
    let discard = |restored: &mut [Vec<Series>]| restored.iter_mut().for_each(Vec::clear);
    let outcome = match result {
        Ok(None) => RestoreOutcome::NoSnapshot,
        Ok(Some(header)) => {
            tracing::info!(path = %path.display(), series, shards_then = header.shards,
                shards_now = shards, "state restored from the snapshot");
            if over_limit > 0 {
                tracing::warn!(path = %path.display(), restored = series, over_limit,
                    "the snapshot holds more series than live.max_active_series; the rest start afresh when they report");
            }
            RestoreOutcome::Restored {
                written_unix_ms: header.written_unix_ms,
                shards: header.shards,
            }
        }
        Err(ReadError::Io(err)) => {
            return Err(Error::io(
                format!("cannot read the snapshot `{}`", path.display()),
                err,
            ));
        }
        Err(ReadError::SettingsChanged) => {
            discard(restored);
            (series, over_limit) = (0, 0);
            tracing::warn!(path = %path.display(),
                "the detector settings changed since the snapshot was written; every series starts afresh");
            RestoreOutcome::SettingsChanged
        }
        Err(ReadError::Unusable(reason)) => {
            discard(restored);
            (series, over_limit) = (0, 0);
            let to = snapshot::move_aside(&path).map_err(|err| {
                Error::io(
                    format!(
                        "the snapshot `{}` is unusable ({reason}) and cannot be moved aside",
                        path.display()
                    ),
                    err,
                )
            })?;
            tracing::warn!(path = %path.display(), moved_to = %to.display(), %reason,
                "the snapshot is unusable; it was moved aside and every series starts afresh");
            RestoreOutcome::MovedAside { to, reason }
        }
    };
    Ok(RestoreReport {
        path: Some(path),
        outcome,
        series,
        over_limit,
    })
}
