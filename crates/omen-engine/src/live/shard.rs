//! One shard: a thread that owns the state of the series routed to it, fed by its queue.
//!
//! The queue is an unbounded channel whose size is bounded by the receiver: before sending,
//! [`Engine::submit`](super::Engine::submit) reserves the request's samples against each
//! shard's `queued` count, and the shard releases them once processed. Control messages
//! (flush, sweep, snapshot, stop) are not counted and go behind the data already queued, so a
//! snapshot holds every sample accepted before it was asked for.

use std::io;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, PoisonError, RwLock, TryLockError};
use std::time::{Duration, Instant};

use hashbrown::HashTable;
use omen_core::{Labels, Score, is_stale_marker};
use omen_detect::EnsembleSettings;

use super::clock::Clock;
use super::hash::route_hash_of;
use super::observer::{Observer, ScoredSample};
use super::part::{Entry, Part};
use super::series::{Outcome, Series};
use super::snapshot::SnapshotWriter;
use super::stats::{Counters, DropReason};
use super::view::{Change, Pending, SeriesView, ViewTable};
use crate::model::Judged;
use crate::{AnomalyInterval, VerdictConfig};

/// A message to a shard.
pub(crate) enum Msg {
    /// Series from one request (its samples are reserved in `queued`).
    Data(Part),
    /// Publish every pending view, then answer.
    Flush(SyncSender<()>),
    /// Drop the series past their time to live, then answer.
    Sweep(SyncSender<()>),
    /// Restart one series' model, and answer whether it was modelled.
    Rebaseline(Labels, SyncSender<bool>),
    /// Append every series to the snapshot, and give the writer back.
    Write(
        Box<SnapshotWriter>,
        SyncSender<(Box<SnapshotWriter>, io::Result<()>)>,
    ),
    /// Wait until the sender is dropped (tests: a shard that does not drain).
    #[cfg(test)]
    Pause(Receiver<()>),
    /// Stop after the messages before this one.
    Stop,
}

/// What the engine shares with all shards.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) counters: Counters,
    /// Series modelled now, over all shards.
    pub(crate) active: AtomicUsize,
    pub(crate) max_active: usize,
    /// When the series limit was last logged, in clock seconds plus one (0: never).
    pub(crate) limit_logged: AtomicU64,
    pub(crate) clock: Arc<dyn Clock>,
    /// The detectors' settings, one copy for every series.
    pub(crate) detector: Arc<EnsembleSettings>,
    pub(crate) verdict: VerdictConfig,
    pub(crate) ttl_secs: u64,
    pub(crate) observer: Option<Arc<dyn Observer>>,
}

impl Shared {
    /// Count one more active series, unless the limit is reached.
    pub(crate) fn reserve_series(&self) -> bool {
        self.active
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max_active).then_some(n + 1)
            })
            .is_ok()
    }

    fn release_series(&self, series: &Series) {
        self.active.fetch_sub(1, Ordering::AcqRel);
        self.counters
            .label_bytes
            .fetch_sub(series.labels.as_bytes().len() as u64, Ordering::Relaxed);
        Counters::add_signed(
            &self.counters.model_heap_bytes,
            -(series.model.heap_bytes() as i64),
        );
    }

    /// Log that the limit was reached, at most once a minute over all shards.
    fn log_limit(&self, labels: &Labels) {
        let now = self.clock.now_secs();
        let last = self.limit_logged.load(Ordering::Relaxed);
        if last != 0 && now < last - 1 + 60 {
            return;
        }
        if self
            .limit_logged
            .compare_exchange(last, now + 1, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            tracing::warn!(
                limit = self.max_active,
                series = %labels,
                "active series limit reached: new series are not modelled and their samples \
                 are dropped (counted with reason series_limit); raise live.max_active_series \
                 or narrow live.matchers"
            );
        }
    }

    fn interval_closed(&self, labels: &Labels, interval: &AnomalyInterval) {
        Counters::add(&self.counters.intervals_closed, 1);
        tracing::debug!(series = %labels, start_ms = interval.start_ms, end_ms = interval.end_ms,
            explanation = %interval.explanation(), "anomaly interval closed");
        if let Some(observer) = &self.observer {
            observer.interval_closed(labels, interval);
        }
    }
}

/// What one shard shares with the engine.
#[derive(Debug, Default)]
pub(crate) struct ShardShared {
    pub(crate) views: RwLock<ViewTable>,
    /// Samples reserved in the queue and not processed yet.
    pub(crate) queued: AtomicUsize,
    /// Samples the shard processes per second while busy (f64 bits; 0 until measured).
    pub(crate) rate: AtomicU64,
    /// What the shard's tables hold on the heap, at capacity (see [`Shard::table_bytes`]).
    pub(crate) table_bytes: AtomicU64,
}

/// The state a shard thread owns.
pub(crate) struct Shard {
    shared: Arc<Shared>,
    mine: Arc<ShardShared>,
    /// Each series' routing hash and slot, found by the hash (see [`index_hash`]).
    index: HashTable<(u64, u32)>,
    /// Boxed, so that growing the table moves pointers, not states.
    slots: Vec<Option<Box<Series>>>,
    free: Vec<u32>,
    pending: Pending,
    /// The heap bytes of the published views' table (the views themselves), as of the last
    /// publish.
    views_bytes: usize,
    last_sweep: u64,
    last_publish: Instant,
}

/// Counts of one message, added to the shared counters once.
#[derive(Debug, Default)]
struct Tally {
    scored: u64,
    primed: u64,
    stale: u64,
    resets: u64,
    anomalous: u64,
    kind_changes: u64,
    out_of_order: u64,
    duplicate: u64,
    not_finite: u64,
    series_limit: u64,
    created: u64,
    /// The change of the models' heap.
    model_heap: i64,
}

impl Shard {
    /// A shard holding the series restored for it.
    pub(crate) fn new(shared: Arc<Shared>, mine: Arc<ShardShared>, restored: Vec<Series>) -> Self {
        let mut shard = Self {
            last_sweep: shared.clock.now_secs(),
            shared,
            mine,
            index: HashTable::new(),
            slots: Vec::with_capacity(restored.len()),
            free: Vec::new(),
            pending: Pending::default(),
            views_bytes: 0,
            last_publish: Instant::now(),
        };
        for series in restored {
            if shard
                .find(route_hash_of(&series.labels), series.labels.as_bytes())
                .is_some()
            {
                // Not in a file this engine wrote: a series lives in one shard only.
                shard.shared.active.fetch_sub(1, Ordering::AcqRel);
                continue;
            }
            shard.insert(series);
        }
        shard.measure_tables();
        shard
    }

    fn insert(&mut self, series: Series) -> u32 {
        let series = Box::new(series);
        let counters = &self.shared.counters;
        Counters::add(&counters.label_bytes, series.labels.as_bytes().len() as u64);
        Counters::add_signed(&counters.model_heap_bytes, series.model.heap_bytes() as i64);
        let hash = route_hash_of(&series.labels);
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(series);
                slot
            }
            None => {
                self.slots.push(Some(series));
                (self.slots.len() - 1) as u32
            }
        };
        self.index
            .insert_unique(index_hash(hash), (hash, slot), |&(hash, _)| {
                index_hash(hash)
            });
        slot
    }

    /// The slot of the series with routing hash `hash` and encoded labels `key`.
    fn find(&self, hash: u64, key: &[u8]) -> Option<u32> {
        let slots = &self.slots;
        self.index
            .find(index_hash(hash), |&(h, slot)| {
                h == hash
                    && slots[slot as usize]
                        .as_ref()
                        .is_some_and(|s| s.labels.as_bytes() == key)
            })
            .map(|&(_, slot)| slot)
    }

    /// Serve the queue until told to stop.
    pub(crate) fn run(mut self, queue: Receiver<Msg>) {
        loop {
            match queue.recv_timeout(Duration::from_millis(250)) {
                Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => break,
                Ok(msg) => self.handle(msg),
                Err(RecvTimeoutError::Timeout) => {}
            }
            let now = self.shared.clock.now_secs();
            if now.saturating_sub(self.last_sweep) >= (self.shared.ttl_secs / 8).max(1) {
                self.sweep(now);
            }
            if !self.pending.is_empty() {
                let waited = self.last_publish.elapsed();
                let idle = self.mine.queued.load(Ordering::Acquire) == 0;
                if idle || waited >= Duration::from_millis(100) {
                    self.publish(waited >= Duration::from_secs(1));
                }
            }
        }
        self.publish(true);
    }

    fn handle(&mut self, msg: Msg) {
        self.handle_one(msg);
        self.measure_tables();
    }

    /// What the shard's tables hold on the heap at capacity: the index (a bucket of key and
    /// slot and a control byte each, for the buckets its capacity implies), the slots, the free
    /// list, the pending changes, the views (in their table) and the lookup key.
    fn table_bytes(&self) -> usize {
        let buckets = match self.index.capacity() {
            0 => 0,
            // hashbrown keeps at most 7 of 8 buckets full, in a power of two of buckets.
            capacity => (capacity * 8 / 7).next_power_of_two(),
        };
        buckets * (size_of::<(u64, u32)>() + 1)
            + self.slots.capacity() * size_of::<Option<Box<Series>>>()
            + self.free.capacity() * size_of::<u32>()
            + self.pending.heap_bytes()
            + self.views_bytes
    }

    fn measure_tables(&self) {
        let bytes = self.table_bytes() as u64;
        self.mine.table_bytes.store(bytes, Ordering::Relaxed);
    }

    fn handle_one(&mut self, msg: Msg) {
        match msg {
            Msg::Data(part) => {
                let started = Instant::now();
                let mut tally = Tally::default();
                let now = u32::try_from(self.shared.clock.now_secs()).unwrap_or(u32::MAX);
                for (entry, key, samples) in part.iter() {
                    self.take(entry, key, samples, now, &mut tally);
                }
                let samples = part.samples();
                drop(part);
                self.count(&tally);
                self.mine.queued.fetch_sub(samples, Ordering::AcqRel);
                self.measure_rate(samples, started.elapsed());
            }
            Msg::Flush(reply) => {
                self.publish(true);
                let _ = reply.send(());
            }
            Msg::Sweep(reply) => {
                self.sweep(self.shared.clock.now_secs());
                self.publish(true);
                let _ = reply.send(());
            }
            Msg::Rebaseline(labels, reply) => {
                let slot = self.find(route_hash_of(&labels), labels.as_bytes());
                let series = slot.and_then(|slot| self.slots[slot as usize].as_mut());
                if let Some(series) = &series {
                    tracing::info!(series = %series.labels, "baseline restarted");
                }
                let detector = &self.shared.detector;
                let found = series.map(|series| {
                    let before = series.model.heap_bytes() as i64;
                    series.rebaseline(detector);
                    series.model.heap_bytes() as i64 - before
                });
                if let Some(change) = found {
                    Counters::add_signed(&self.shared.counters.model_heap_bytes, change);
                }
                let _ = reply.send(found.is_some());
            }
            Msg::Write(mut writer, reply) => {
                let result = self
                    .slots
                    .iter()
                    .flatten()
                    .try_for_each(|series| writer.record(&series.record()));
                let _ = reply.send((writer, result));
            }
            #[cfg(test)]
            Msg::Pause(gate) => {
                let _ = gate.recv();
            }
            Msg::Stop => unreachable!("handled by run"),
        }
    }

    /// Take one series' samples, received at `now` (clock seconds): `key` is its encoded
    /// labels.
    fn take(
        &mut self,
        entry: &Entry,
        key: &[u8],
        samples: &[(i64, f64)],
        now: u32,
        tally: &mut Tally,
    ) {
        let kind = entry.kind;
        let slot = match self.find(entry.hash, key) {
            Some(slot) => slot,
            None => {
                if samples.iter().all(|&(_, v)| is_stale_marker(v)) {
                    // The end of a series not modelled (it ended before a restart, or was
                    // expired): nothing to end.
                    tally.stale += samples.len() as u64;
                    return;
                }
                let labels = Labels::from_trusted(key);
                if !self.shared.reserve_series() {
                    tally.series_limit += samples.len() as u64;
                    self.shared.log_limit(&labels);
                    return;
                }
                tally.created += 1;
                let series = Series::new(labels, kind, &self.shared.detector, now);
                self.insert(series)
            }
        };
        let shared = &self.shared;
        let series = self.slots[slot as usize]
            .as_mut()
            .expect("indexed slots hold a series");
        series.last_seen = now;
        let heap_before = series.model.heap_bytes() as i64;
        if series.set_kind(kind, &shared.detector) {
            tally.kind_changes += 1;
        }
        let mut change = None;
        for &(timestamp_ms, raw) in samples {
            let outcome = series.step(timestamp_ms, raw, &shared.verdict);
            let view = |value: f64, score: Score, anomaly: bool, series: &Series| SeriesView {
                labels: series.labels.clone(),
                kind: series.kind,
                timestamp_ms,
                raw_value: raw,
                value,
                score,
                anomaly,
                stale: false,
                samples_learned: series.model.detector.samples(),
                interval_start_ms: series.model.tracker.open().map(|i| i.start_ms),
            };
            let next = match outcome {
                Outcome::Scored {
                    value,
                    judged:
                        Judged {
                            score,
                            anomaly,
                            closed,
                        },
                    counter_reset,
                } => {
                    tally.scored += 1;
                    tally.anomalous += u64::from(anomaly);
                    tally.resets += u64::from(counter_reset);
                    if let Some(observer) = &shared.observer {
                        let sample = ScoredSample {
                            labels: &series.labels,
                            kind: series.kind,
                            timestamp_ms,
                            value,
                            score: &score,
                            anomaly,
                            season_period_ms: series.model.detector.season_period_ms(),
                            last_change_ms: series.model.detector.last_change_ms(),
                        };
                        observer.scored(&mut series.observer_slot, &sample);
                    }
                    if let Some(interval) = closed {
                        shared.interval_closed(&series.labels, &interval);
                    }
                    Change::Set(view(value, score, anomaly, series))
                }
                Outcome::Primed => {
                    tally.primed += 1;
                    let score = Score::unscored(omen_core::Status::WarmingUp);
                    Change::Set(view(f64::NAN, score, false, series))
                }
                Outcome::Stale { closed } => {
                    tally.stale += 1;
                    if let Some(interval) = closed {
                        shared.interval_closed(&series.labels, &interval);
                    }
                    if let Some(observer) = &shared.observer {
                        observer.ended(&mut series.observer_slot, &series.labels, timestamp_ms);
                    }
                    Change::Stale
                }
                Outcome::Duplicate => {
                    tally.duplicate += 1;
                    continue;
                }
                Outcome::OutOfOrder => {
                    tally.out_of_order += 1;
                    continue;
                }
                Outcome::NotFinite => {
                    tally.not_finite += 1;
                    continue;
                }
            };
            change = Some(match change {
                Some(earlier) => Change::then(earlier, next),
                None => next,
            });
        }
        tally.model_heap += series.model.heap_bytes() as i64 - heap_before;
        if let Some(change) = change {
            self.pending.push(slot, change);
        }
    }

    fn count(&self, t: &Tally) {
        let c = &self.shared.counters;
        Counters::add(&c.samples_scored, t.scored);
        Counters::add(&c.samples_primed, t.primed);
        Counters::add(&c.stale_markers, t.stale);
        Counters::add(&c.counter_resets, t.resets);
        Counters::add(&c.anomalous_samples, t.anomalous);
        Counters::add(&c.kind_changes, t.kind_changes);
        Counters::add(&c.series_created, t.created);
        Counters::add_signed(&c.model_heap_bytes, t.model_heap);
        c.drop(DropReason::OutOfOrder, t.out_of_order);
        c.drop(DropReason::Duplicate, t.duplicate);
        c.drop(DropReason::NotFinite, t.not_finite);
        c.drop(DropReason::SeriesLimit, t.series_limit);
    }

    /// Keep a moving average of the samples processed per second of work.
    fn measure_rate(&self, samples: usize, took: Duration) {
        if samples < 100 || took.is_zero() {
            return;
        }
        let now = samples as f64 / took.as_secs_f64();
        let before = f64::from_bits(self.mine.rate.load(Ordering::Relaxed));
        let rate = if before > 0.0 {
            0.8 * before + 0.2 * now
        } else {
            now
        };
        self.mine.rate.store(rate.to_bits(), Ordering::Relaxed);
    }

    /// Drop the series that received nothing for the time to live.
    fn sweep(&mut self, now: u64) {
        self.last_sweep = now;
        let ttl = self.shared.ttl_secs;
        let mut expired = 0;
        for slot in 0..self.slots.len() {
            let old = self.slots[slot]
                .as_ref()
                .is_some_and(|s| now.saturating_sub(u64::from(s.last_seen)) >= ttl);
            if !old {
                continue;
            }
            let mut series = self.slots[slot].take().expect("checked above");
            let hash = route_hash_of(&series.labels);
            if let Ok(found) = self
                .index
                .find_entry(index_hash(hash), |&(_, s)| s as usize == slot)
            {
                found.remove();
            }
            self.free.push(slot as u32);
            self.pending.push(slot as u32, Change::Remove);
            if let Some(interval) = series.model.tracker.finish() {
                self.shared.interval_closed(&series.labels, &interval);
            }
            if let (Some(observer), Some(last_ms)) = (&self.shared.observer, series.last_ms()) {
                observer.ended(&mut series.observer_slot, &series.labels, last_ms);
            }
            self.shared.release_series(&series);
            expired += 1;
        }
        Counters::add(&self.shared.counters.series_expired, expired);
    }

    /// Apply the pending view changes; unless `force`, only if no reader holds the table.
    fn publish(&mut self, force: bool) {
        if self.pending.is_empty() {
            return;
        }
        let mut table = match self.mine.views.try_write() {
            Ok(table) => table,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) if force => self
                .mine
                .views
                .write()
                .unwrap_or_else(PoisonError::into_inner),
            Err(TryLockError::WouldBlock) => return,
        };
        self.pending.apply(&mut table);
        self.views_bytes = table.heap_bytes();
        drop(table);
        self.last_publish = Instant::now();
        // The views' bytes changed, and a caller waiting on this publish (a flush, a sweep)
        // reads them next.
        self.measure_tables();
    }
}

/// Where the index keeps a routing hash: its halves swapped, because the shard is chosen by
/// the hash's high bits (alike in every series of a shard), and the table takes its control
/// bytes from the high bits too.
fn index_hash(route_hash: u64) -> u64 {
    route_hash.rotate_left(32)
}
