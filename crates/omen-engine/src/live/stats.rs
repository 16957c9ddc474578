//! The engine's own numbers, for `/metrics`: counters kept in atomics by the shards and the
//! receiver, read without stopping anything.

use std::sync::atomic::{AtomicU64, Ordering};

/// Why a sample was dropped (not modelled). Every sample given to
/// [`Engine::submit`](super::Engine::submit) and accepted ends as exactly one of: scored,
/// primed (a counter's first), a staleness marker, or dropped for one of these reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// Older than the series' last sample.
    OutOfOrder,
    /// The same timestamp as the series' last sample (also a retried request's samples).
    Duplicate,
    /// NaN (other than the staleness marker) or infinite.
    NotFinite,
    /// The series matches none of the configured selectors.
    NotMatched,
    /// The series is new and the active series limit is reached.
    SeriesLimit,
}

impl DropReason {
    /// Every reason, in the order of [`EngineStats::dropped`].
    pub const ALL: [DropReason; 5] = [
        DropReason::OutOfOrder,
        DropReason::Duplicate,
        DropReason::NotFinite,
        DropReason::NotMatched,
        DropReason::SeriesLimit,
    ];

    /// The label value used in metrics (`reason="out_of_order"`).
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::OutOfOrder => "out_of_order",
            DropReason::Duplicate => "duplicate",
            DropReason::NotFinite => "not_finite",
            DropReason::NotMatched => "not_matched",
            DropReason::SeriesLimit => "series_limit",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Counters shared by the receiver side and the shards.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) samples_accepted: AtomicU64,
    pub(crate) samples_rejected: AtomicU64,
    pub(crate) requests_rejected: AtomicU64,
    pub(crate) samples_scored: AtomicU64,
    pub(crate) samples_primed: AtomicU64,
    pub(crate) stale_markers: AtomicU64,
    pub(crate) counter_resets: AtomicU64,
    pub(crate) kind_changes: AtomicU64,
    pub(crate) anomalous_samples: AtomicU64,
    pub(crate) intervals_closed: AtomicU64,
    dropped: [AtomicU64; 5],
    pub(crate) series_created: AtomicU64,
    pub(crate) series_expired: AtomicU64,
    pub(crate) series_restored: AtomicU64,
    pub(crate) label_bytes: AtomicU64,
    /// What the series' models hold on the heap (season search buffers, seasonal profiles,
    /// open intervals), kept up to date by the shards. Changed by signed amounts: see
    /// [`Counters::add_signed`].
    pub(crate) model_heap_bytes: AtomicU64,
    pub(crate) snapshots_written: AtomicU64,
    pub(crate) snapshots_failed: AtomicU64,
    pub(crate) snapshot_unix_ms: AtomicU64,
    pub(crate) snapshot_duration_us: AtomicU64,
    pub(crate) snapshot_bytes: AtomicU64,
    pub(crate) snapshot_series: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        if n > 0 {
            counter.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Add a signed amount (two's complement: the sum is right as long as the true total is
    /// not negative).
    pub(crate) fn add_signed(counter: &AtomicU64, n: i64) {
        if n != 0 {
            counter.fetch_add(n as u64, Ordering::Relaxed);
        }
    }

    pub(crate) fn drop(&self, reason: DropReason, n: u64) {
        Self::add(&self.dropped[reason.index()], n);
    }

    fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// A reading of the engine's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineStats {
    /// Samples taken by [`Engine::submit`](super::Engine::submit) into the queues.
    pub samples_accepted: u64,
    /// Samples refused because a queue was full (answered 503; the sender retries them).
    pub samples_rejected: u64,
    /// Requests refused because a queue was full or the engine was stopping.
    pub requests_rejected: u64,
    /// Samples scored by a detector (warm-up included).
    pub samples_scored: u64,
    /// Counter samples that only primed the rate (a counter's first, or first after staleness).
    pub samples_primed: u64,
    /// Staleness markers that ended a series' episode.
    pub stale_markers: u64,
    /// Counter resets seen (a decrease; the rate is taken from 0).
    pub counter_resets: u64,
    /// Series whose kind changed between gauge and counter, restarting their model.
    pub kind_changes: u64,
    /// Samples judged anomalous.
    pub anomalous_samples: u64,
    /// Anomaly intervals closed (by normal samples, staleness or expiry).
    pub intervals_closed: u64,
    /// Samples dropped, by reason, in the order of [`DropReason::ALL`].
    pub dropped: [(DropReason, u64); 5],
    /// Series modelled now.
    pub active_series: u64,
    /// The limit on `active_series`.
    pub max_active_series: u64,
    /// Series created since start (restored ones not included).
    pub series_created: u64,
    /// Series dropped after `series_ttl` without data.
    pub series_expired: u64,
    /// Series restored from the snapshot at start.
    pub series_restored: u64,
    /// Samples waiting in each shard's queue.
    pub queue_samples: Vec<u64>,
    /// The capacity of each queue, in samples.
    pub queue_capacity: u64,
    /// Snapshots written since start.
    pub snapshots_written: u64,
    /// Snapshots that failed (the previous one is kept).
    pub snapshots_failed: u64,
    /// When the last snapshot was written, Unix milliseconds (0: none yet).
    pub snapshot_unix_ms: u64,
    /// How long the last snapshot took, in seconds.
    pub snapshot_duration_seconds: f64,
    /// The last snapshot's size in bytes.
    pub snapshot_bytes: u64,
    /// Series in the last snapshot.
    pub snapshot_series: u64,
    /// The memory the series' state takes, in bytes asked of the allocator, kept up to date
    /// as samples arrive: each series' state and published view (their structs, boxed), its
    /// labels, what its models hold on the heap at their capacity (the season search's
    /// buffer while it searches, else the seasonal profile, and an open anomaly interval),
    /// and the shards' tables (index, slots, views, pending changes) at their capacity.
    /// Not in it: the allocator's rounding to its size classes (up to about an eighth more),
    /// requests in the queues, and the alert stage's state for series a rule covers.
    pub state_bytes_estimate: u64,
}

impl EngineStats {
    /// The count of samples dropped for `reason`.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped[reason.index()].1
    }
}

/// What every series costs besides its labels' bytes, its models' heap and the shards'
/// tables (its published view included, kept in the views' table): its boxed state and the
/// two reference counts of its shared labels.
pub(crate) const BYTES_PER_SERIES: u64 =
    (size_of::<super::series::Series>() + 2 * size_of::<usize>()) as u64;

impl Counters {
    /// The numbers, given the series modelled now and the shards' tables' bytes.
    pub(crate) fn read(&self, active: u64, max_active: u64, table_bytes: u64) -> EngineStats {
        EngineStats {
            samples_accepted: Self::get(&self.samples_accepted),
            samples_rejected: Self::get(&self.samples_rejected),
            requests_rejected: Self::get(&self.requests_rejected),
            samples_scored: Self::get(&self.samples_scored),
            samples_primed: Self::get(&self.samples_primed),
            stale_markers: Self::get(&self.stale_markers),
            counter_resets: Self::get(&self.counter_resets),
            kind_changes: Self::get(&self.kind_changes),
            anomalous_samples: Self::get(&self.anomalous_samples),
            intervals_closed: Self::get(&self.intervals_closed),
            dropped: DropReason::ALL.map(|r| (r, Self::get(&self.dropped[r.index()]))),
            active_series: active,
            max_active_series: max_active,
            series_created: Self::get(&self.series_created),
            series_expired: Self::get(&self.series_expired),
            series_restored: Self::get(&self.series_restored),
            queue_samples: Vec::new(),
            queue_capacity: 0,
            snapshots_written: Self::get(&self.snapshots_written),
            snapshots_failed: Self::get(&self.snapshots_failed),
            snapshot_unix_ms: Self::get(&self.snapshot_unix_ms),
            snapshot_duration_seconds: Self::get(&self.snapshot_duration_us) as f64 / 1e6,
            snapshot_bytes: Self::get(&self.snapshot_bytes),
            snapshot_series: Self::get(&self.snapshot_series),
            state_bytes_estimate: active * BYTES_PER_SERIES
                + Self::get(&self.label_bytes)
                + Self::get(&self.model_heap_bytes)
                + table_bytes,
        }
    }
}
