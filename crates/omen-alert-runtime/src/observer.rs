//! The engine's [`Observer`]: runs each series' alert rules on the shard thread, in the series'
//! own slot (omen-alert's [`AlertSlot`], the same the batch path uses: no lock, no lookup per
//! sample), and hands the rare transitions to the hub.

use std::sync::Arc;
use std::sync::mpsc::Sender;

use omen_alert::{AlertEvent, AlertSlot, CompiledAlerts, Observation};
use omen_core::Labels;
use omen_engine::live::{Observer, ObserverSlot, ScoredSample};

use crate::restored::Restored;

/// Feeds every scored sample to its series' rules.
#[derive(Debug)]
pub struct AlertObserver {
    rules: Arc<CompiledAlerts>,
    events: Sender<Vec<AlertEvent>>,
    restored: Arc<Restored>,
}

impl AlertObserver {
    pub(crate) fn new(
        rules: Arc<CompiledAlerts>,
        events: Sender<Vec<AlertEvent>>,
        restored: Arc<Restored>,
    ) -> Self {
        Self {
            rules,
            events,
            restored,
        }
    }

    fn send(&self, events: Vec<AlertEvent>) {
        if !events.is_empty() {
            // The hub is gone only during shutdown, after the last sample.
            let _ = self.events.send(events);
        }
    }
}

impl Observer for AlertObserver {
    fn scored(&self, slot: &mut ObserverSlot, sample: &ScoredSample<'_>) {
        let observation = Observation {
            labels: sample.labels,
            timestamp_ms: sample.timestamp_ms,
            value: sample.value,
            score: sample.score,
            season_period_ms: sample.season_period_ms,
            last_change_ms: sample.last_change_ms,
        };
        let mut events = Vec::new();
        // What was firing before a restart is put back on the series' first sample.
        let saved = || self.restored.take(sample.labels.as_bytes());
        AlertSlot::with_erased(&mut slot.0, |alerts| {
            alerts.observe(&self.rules, &observation, saved, &mut events);
        });
        self.send(events);
    }

    fn ended(&self, slot: &mut ObserverSlot, labels: &Labels, timestamp_ms: i64) {
        let mut events = Vec::new();
        let saved = || self.restored.take(labels.as_bytes());
        AlertSlot::with_erased(&mut slot.0, |alerts| {
            alerts.stale(&self.rules, labels, timestamp_ms, saved, &mut events);
        });
        self.send(events);
    }
}
