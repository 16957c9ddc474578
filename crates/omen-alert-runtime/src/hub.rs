//! The hub: one thread that takes the alert events of every shard, records them, and turns
//! them into notifications in the durable outbox.
//!
//! - **Alertmanager** channels get each event at once (`POST /api/v2/alerts`, one alert per
//!   request, coalesced per fingerprint so a stale update never overtakes a newer one), and
//!   every firing alert again each `resend_interval` with `endsAt` four intervals ahead, as
//!   Prometheus does: Alertmanager resolves an alert on its own if Omen stops.
//! - **Webhook** channels get Alertmanager-shaped (version 4) group notifications on the
//!   route timers of `[alert.grouping]`.
//! - **Actions** (`[[alert.actions]]`) get their rendered bodies, signed and rate-limited by
//!   the outbox.
//!
//! Enqueuing is one SQLite transaction per batch of events; sending is the dispatcher's job,
//! on the async runtime, so a slow target never holds up the hub, let alone detection.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use omen_alert::{
    Alert, AlertEvent, CompiledAlerts, EventKind, Grouper, alertmanager, idempotency_key,
};
use omen_notify::{Notification, Outbox};

use crate::clock::Clock;
use crate::restored::Restored;
use crate::store::Store;

/// The longest the hub sleeps without looking at its timers.
const MAX_WAIT: Duration = Duration::from_millis(500);

/// Where the events go.
#[derive(Debug)]
pub(crate) struct Hub {
    pub(crate) rules: Arc<CompiledAlerts>,
    pub(crate) outbox: Outbox,
    pub(crate) store: Arc<Mutex<Store>>,
    /// Where the hub reads the time.
    pub(crate) clock: Arc<dyn Clock>,
    /// Names of the `kind = "alertmanager"` channels.
    pub(crate) alertmanagers: Vec<String>,
    /// One grouper per `kind = "webhook"` channel.
    pub(crate) webhooks: Vec<(String, Grouper)>,
    pub(crate) resend: Duration,
    /// Firing alerts by fingerprint, for the resends.
    pub(crate) active: BTreeMap<String, Alert>,
    pub(crate) last_resend_ms: i64,
    /// Alerts restored at start, by series, until their series shows up again.
    pub(crate) restored: Arc<Restored>,
    /// The restored alerts' series and fingerprints, and when to resolve those whose series
    /// has not come back (a series silent for `live.series_ttl` would have expired anyway).
    pub(crate) unclaimed: Vec<(Vec<u8>, String)>,
    pub(crate) unclaimed_deadline_ms: i64,
}

impl Hub {
    /// Take events until `stop` is set and the channel is empty.
    pub(crate) fn run(mut self, events: Receiver<Vec<AlertEvent>>, stop: Arc<AtomicBool>) {
        loop {
            let wait = self.wait(self.clock.now_ms());
            match events.recv_timeout(wait) {
                Ok(first) => {
                    let mut batch = first;
                    while let Ok(more) = events.try_recv() {
                        batch.extend(more);
                    }
                    self.handle(batch, self.clock.now_ms());
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            self.tick(self.clock.now_ms());
            if stop.load(Ordering::Acquire) {
                let rest: Vec<AlertEvent> = events.try_iter().flatten().collect();
                if rest.is_empty() {
                    break;
                }
                self.handle(rest, self.clock.now_ms());
            }
        }
        self.tick(self.clock.now_ms());
    }

    /// Until the next timer, within [1 ms, MAX_WAIT].
    fn wait(&self, now: i64) -> Duration {
        let resend_at = self.last_resend_ms + self.resend.as_millis() as i64;
        let groups = self.webhooks.iter().filter_map(|(_, g)| g.next_due_ms());
        let next = groups.chain([resend_at]).min().unwrap_or(i64::MAX);
        let ms = next
            .saturating_sub(now)
            .clamp(1, MAX_WAIT.as_millis() as i64);
        Duration::from_millis(ms as u64)
    }

    pub(crate) fn handle(&mut self, events: Vec<AlertEvent>, now: i64) {
        if let Err(err) = self
            .store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .record(&events, now)
        {
            tracing::error!(error = %format!("{err:#}"), "cannot record alert events; notifying anyway");
        }
        let mut out = Vec::new();
        for event in &events {
            let alert = &event.alert;
            tracing::info!(alert = %alert.id, rule = %alert.rule, kind = event.kind.as_str(),
                severity = alert.severity(), score = alert.explanation.score, "alert");
            if let Some(old) = &event.replaces {
                self.active.remove(&old.fingerprint);
            }
            match event.kind {
                EventKind::Firing | EventKind::Updated => {
                    self.active.insert(alert.fingerprint.clone(), alert.clone());
                }
                EventKind::Resolved => {
                    self.active.remove(&alert.fingerprint);
                }
            }
            for channel in &self.alertmanagers {
                let mut alerts: Vec<Alert> = event.replaces.iter().cloned().collect();
                alerts.push(alert.clone());
                let body = alertmanager::postable_body(
                    &alerts,
                    self.rules.external_url(),
                    self.resend,
                    now,
                );
                out.push(
                    Notification::new(
                        alert.idempotency_key(channel, event.kind),
                        channel,
                        &alert.fingerprint,
                        body,
                        now,
                    )
                    .with_coalesce_key(format!("alert:{}", alert.fingerprint)),
                );
            }
            for (_, grouper) in &mut self.webhooks {
                grouper.on_event(event, now);
            }
            for action in omen_alert::matching(&self.rules, alert, event.kind) {
                out.push(Notification::new(
                    action.idempotency_key,
                    action.channel,
                    &alert.fingerprint,
                    action.body.into_bytes(),
                    now,
                ));
            }
        }
        self.enqueue(out, now);
    }

    /// Due group notifications and resends.
    pub(crate) fn tick(&mut self, now: i64) {
        if !self.unclaimed.is_empty() && now >= self.unclaimed_deadline_ms {
            self.resolve_unclaimed(now);
        }
        let mut out = Vec::new();
        for (channel, grouper) in &mut self.webhooks {
            for due in grouper.due(now) {
                out.push(Notification::new(
                    due.idempotency_key.clone(),
                    channel.as_str(),
                    &due.group_key,
                    due.body(),
                    now,
                ));
            }
        }
        if now - self.last_resend_ms >= self.resend.as_millis() as i64 {
            self.last_resend_ms = now;
            if !self.active.is_empty() {
                let alerts: Vec<Alert> = self.active.values().cloned().collect();
                for channel in &self.alertmanagers {
                    for chunk in alerts.chunks(64) {
                        let body = alertmanager::postable_body(
                            chunk,
                            self.rules.external_url(),
                            self.resend,
                            now,
                        );
                        let key = idempotency_key(&[
                            channel,
                            "resend",
                            &now.to_string(),
                            &chunk[0].fingerprint,
                        ]);
                        out.push(Notification::new(key, channel, "resend", body, now));
                    }
                }
            }
        }
        self.enqueue(out, now);
    }

    /// Resolve the restored alerts whose series never came back after the restart.
    fn resolve_unclaimed(&mut self, now: i64) {
        let gone: std::collections::HashSet<Vec<u8>> =
            self.restored.take_unclaimed().into_iter().collect();
        let events: Vec<AlertEvent> = std::mem::take(&mut self.unclaimed)
            .into_iter()
            .filter(|(series, _)| gone.contains(series))
            .filter_map(|(_, fingerprint)| self.active.get(&fingerprint).cloned())
            .map(|mut alert| {
                alert.state = omen_alert::AlertState::Resolved;
                alert.ends_at_ms = Some(now);
                AlertEvent {
                    kind: EventKind::Resolved,
                    alert,
                    replaces: None,
                }
            })
            .collect();
        if !events.is_empty() {
            tracing::info!(
                alerts = events.len(),
                "resolved restored alerts whose series did not come back"
            );
            self.handle(events, now);
        }
    }

    fn enqueue(&self, out: Vec<Notification>, now: i64) {
        if out.is_empty() {
            return;
        }
        let n = out.len();
        if let Err(err) = self.outbox.enqueue_batch(out, now) {
            // The outbox refuses a batch only when SQLite fails (disk full, file removed).
            tracing::error!(error = %err, notifications = n, "cannot put notifications in the outbox");
        }
    }
}

#[cfg(test)]
mod tests;
