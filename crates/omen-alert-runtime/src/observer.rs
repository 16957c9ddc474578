//! The engine's [`Observer`]: runs each series' alert rules on the shard thread, in the series'
//! own slot (no lock, no lookup per sample), and hands the rare transitions to the hub.

use std::sync::Arc;
use std::sync::mpsc::Sender;

use omen_alert::{AlertEvent, CompiledAlerts, Observation, SeriesAlerts};
use omen_engine::live::{Labels, Observer, ObserverSlot, ScoredSample};

use crate::restored::Restored;

/// The slot of a series that no rule covers: zero-sized, so boxing it allocates nothing.
struct Uncovered;

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

    /// The series' alert state, made on its first sample (with what was firing before a
    /// restart put back); None for a series that no rule covers, which is every series when
    /// there are no rules. Such a series' slot holds [`Uncovered`], which allocates nothing:
    /// a boxed empty state was 48 bytes a series, for nothing. The rules are this observer's
    /// for its whole life, so a series once uncovered stays so.
    fn state<'a>(
        &self,
        slot: &'a mut ObserverSlot,
        labels: &Labels,
    ) -> Option<&'a mut SeriesAlerts> {
        let boxed = slot.0.get_or_insert_with(|| {
            let mut alerts = self.rules.for_series(labels);
            for saved in self.restored.take(labels.as_bytes()) {
                alerts.restore_firing(&self.rules, labels, &saved);
            }
            if alerts.is_empty() {
                Box::new(Uncovered)
            } else {
                Box::new(alerts)
            }
        });
        if boxed.is::<Uncovered>() {
            return None;
        }
        Some(
            boxed
                .downcast_mut::<SeriesAlerts>()
                .expect("the alert observer is the only one filling slots"),
        )
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
        let Some(alerts) = self.state(slot, sample.labels) else {
            return;
        };
        let mut events = Vec::new();
        let observation = Observation {
            labels: sample.labels,
            timestamp_ms: sample.timestamp_ms,
            value: sample.value,
            score: sample.score,
            season_period_ms: sample.season_period_ms,
            last_change_ms: sample.last_change_ms,
        };
        alerts.observe(&self.rules, &observation, &mut events);
        self.send(events);
    }

    fn ended(&self, slot: &mut ObserverSlot, labels: &Labels, timestamp_ms: i64) {
        let Some(alerts) = self.state(slot, labels) else {
            return;
        };
        let mut events = Vec::new();
        alerts.stale(&self.rules, labels, timestamp_ms, &mut events);
        self.send(events);
    }
}
