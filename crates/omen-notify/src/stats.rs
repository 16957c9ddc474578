//! [`NotifyStats`]: counters and gauges of the outbox and the dispatcher, as atomics, for the
//! binary's `/metrics`. Nothing is labelled per key, target or series.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::{DeliveryError, SuppressReason};

/// The kinds of failed attempts, as [`DeliveryError::kind`] names them.
pub const FAILURE_KINDS: [&str; 8] = [
    "status",
    "timeout",
    "connect",
    "tls",
    "protocol",
    "transport",
    "request",
    "channel_gone",
];

/// Live counters, shared by the outbox and the dispatcher. Counters only grow; `in_flight`,
/// `pending` and the oldest pending entry are gauges refreshed by the dispatcher.
#[derive(Debug, Default)]
pub struct NotifyStats {
    queued: AtomicU64,
    duplicates: AtomicU64,
    coalesced: AtomicU64,
    suppressed: [AtomicU64; SuppressReason::COUNT],
    attempts: AtomicU64,
    delivered: AtomicU64,
    retried: AtomicU64,
    dead_lettered: AtomicU64,
    dry_run: AtomicU64,
    failures: [AtomicU64; FAILURE_KINDS.len()],
    in_flight: AtomicU64,
    pending: AtomicU64,
    /// Enqueue time (Unix ms) of the oldest pending entry; meaningful while `pending > 0`.
    oldest_pending_ms: AtomicI64,
    /// Counts per channel name (a handful of channels, updated a few times per notification).
    channels: Mutex<BTreeMap<String, ChannelCounts>>,
}

/// What happened on one channel (a channel's name is a fine metrics label; keys and targets
/// are not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChannelCounts {
    /// Notifications accepted (new, not replacing another).
    pub queued: u64,
    /// Notifications refused by a rail, for any reason.
    pub suppressed: u64,
    /// Notifications delivered.
    pub delivered: u64,
    /// Attempts that failed and were scheduled again.
    pub retried: u64,
    /// Notifications moved to the dead letters.
    pub dead_lettered: u64,
    /// Notifications only logged, in dry-run mode.
    pub dry_run: u64,
}

/// A copy of [`NotifyStats`] at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyStatsSnapshot {
    /// Notifications accepted into the outbox (new, not replacing another).
    pub queued: u64,
    /// Enqueues of a key seen before (no-ops).
    pub duplicates: u64,
    /// Notifications that replaced an undelivered one with the same coalesce key.
    pub coalesced: u64,
    /// Notifications refused by a rail, by reason, in [`SuppressReason::ALL`] order.
    pub suppressed: [(SuppressReason, u64); SuppressReason::COUNT],
    /// Attempts made on the wire (dry runs are not attempts).
    pub attempts: u64,
    /// Notifications delivered (a 2xx answer).
    pub delivered: u64,
    /// Attempts that failed and were scheduled again.
    pub retried: u64,
    /// Notifications moved to the dead letters.
    pub dead_lettered: u64,
    /// Notifications only logged, in dry-run mode.
    pub dry_run: u64,
    /// Failed attempts by kind, in [`FAILURE_KINDS`] order.
    pub failures: [(&'static str, u64); FAILURE_KINDS.len()],
    /// Attempts in flight now.
    pub in_flight: u64,
    /// Entries waiting for delivery now (in flight or scheduled).
    pub pending: u64,
    /// How long the oldest pending entry has waited, when there is one.
    pub oldest_pending_age: Option<Duration>,
    /// Counts per channel, by name, for the channels that saw anything.
    pub channels: Vec<(String, ChannelCounts)>,
}

impl NotifyStats {
    /// All zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Read every counter, and the age of the oldest pending entry at `now_ms`.
    pub fn snapshot_at(&self, now_ms: i64) -> NotifyStatsSnapshot {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let oldest = self.oldest_pending_ms.load(Ordering::Relaxed);
        let pending = get(&self.pending);
        NotifyStatsSnapshot {
            queued: get(&self.queued),
            duplicates: get(&self.duplicates),
            coalesced: get(&self.coalesced),
            suppressed: SuppressReason::ALL.map(|r| (r, get(&self.suppressed[r.index()]))),
            attempts: get(&self.attempts),
            delivered: get(&self.delivered),
            retried: get(&self.retried),
            dead_lettered: get(&self.dead_lettered),
            dry_run: get(&self.dry_run),
            failures: std::array::from_fn(|i| (FAILURE_KINDS[i], get(&self.failures[i]))),
            in_flight: get(&self.in_flight),
            pending,
            oldest_pending_age: (pending > 0).then(|| {
                Duration::from_millis(u64::try_from(now_ms.saturating_sub(oldest)).unwrap_or(0))
            }),
            channels: self
                .channels
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .map(|(name, counts)| (name.clone(), *counts))
                .collect(),
        }
    }

    /// [`NotifyStats::snapshot_at`] the wall clock.
    pub fn snapshot(&self) -> NotifyStatsSnapshot {
        self.snapshot_at(crate::now_ms())
    }

    fn channel(&self, name: &str, count: impl FnOnce(&mut ChannelCounts)) {
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        match channels.get_mut(name) {
            Some(counts) => count(counts),
            None => count(channels.entry(name.to_owned()).or_default()),
        }
    }

    pub(crate) fn queued(&self, channel: &str) {
        self.queued.fetch_add(1, Ordering::Relaxed);
        self.channel(channel, |c| c.queued += 1);
    }

    pub(crate) fn duplicate(&self) {
        self.duplicates.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn coalesced(&self) {
        self.coalesced.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn suppressed(&self, channel: &str, reason: SuppressReason) {
        self.suppressed[reason.index()].fetch_add(1, Ordering::Relaxed);
        self.channel(channel, |c| c.suppressed += 1);
    }

    pub(crate) fn attempt_started(&self) {
        self.attempts.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn attempt_finished(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    pub(crate) fn delivered(&self, channel: &str) {
        self.delivered.fetch_add(1, Ordering::Relaxed);
        self.channel(channel, |c| c.delivered += 1);
    }

    pub(crate) fn failed(&self, error: &DeliveryError) {
        if let Some(i) = FAILURE_KINDS.iter().position(|k| *k == error.kind()) {
            self.failures[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn retried(&self, channel: &str) {
        self.retried.fetch_add(1, Ordering::Relaxed);
        self.channel(channel, |c| c.retried += 1);
    }

    pub(crate) fn dead_lettered(&self, channel: &str) {
        self.dead_lettered.fetch_add(1, Ordering::Relaxed);
        self.channel(channel, |c| c.dead_lettered += 1);
    }

    pub(crate) fn dry_run(&self, channel: &str) {
        self.dry_run.fetch_add(1, Ordering::Relaxed);
        self.channel(channel, |c| c.dry_run += 1);
    }

    /// Refresh the pending gauges from the outbox.
    pub(crate) fn set_pending(&self, pending: u64, oldest_enqueued_ms: Option<i64>) {
        self.pending.store(pending, Ordering::Relaxed);
        self.oldest_pending_ms
            .store(oldest_enqueued_ms.unwrap_or(0), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_kinds_cover_every_delivery_error() {
        let errors = [
            DeliveryError::Status {
                status: 500,
                retry_after: None,
                body: String::new(),
            },
            DeliveryError::Timeout(Duration::from_secs(1)),
            DeliveryError::Connect(String::new()),
            DeliveryError::Tls(String::new()),
            DeliveryError::Protocol(String::new()),
            DeliveryError::Transport(String::new()),
            DeliveryError::Request(String::new()),
            DeliveryError::ChannelGone(String::new()),
        ];
        let stats = NotifyStats::new();
        for error in &errors {
            stats.failed(error);
        }
        let snapshot = stats.snapshot_at(0);
        assert!(
            snapshot.failures.iter().all(|&(_, n)| n == 1),
            "{snapshot:?}"
        );
        assert_eq!(snapshot.oldest_pending_age, None);
        stats.set_pending(2, Some(1_000));
        assert_eq!(
            stats.snapshot_at(3_500).oldest_pending_age,
            Some(Duration::from_millis(2_500))
        );
    }
}
