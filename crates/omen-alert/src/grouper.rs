//! Grouping for the direct webhook, with the timing of Alertmanager's dispatcher and its
//! notification log, driven by explicit times:
//!
//! - Alerts are grouped by the values of `group_by`; alerts with the same labels (the same
//!   fingerprint) replace each other, as in Alertmanager.
//! - A new group is flushed `group_wait` after its first alert (at once if that alert started
//!   more than `group_wait` ago), then every `group_interval`.
//! - A flush notifies when there is a firing alert the last notification did not have, when
//!   every alert resolved after some were notified firing, when there is a newly resolved
//!   alert, or when the last notification is older than `repeat_interval` (strictly, as
//!   Alertmanager compares, so a repeat lands on the first flush after it). It sends all of
//!   the group's alerts, then drops the resolved ones; an empty group is removed.
//! - Firing alerts covered by a maintenance window at flush time are left out, as
//!   Alertmanager leaves out silenced alerts; they are sent once the window closes.
//!
//! The caller runs [`Grouper::due`] at [`Grouper::next_due_ms`] (or on a tick).

use std::collections::{BTreeMap, BTreeSet};

use crate::alert::{Alert, AlertEvent, AlertState};
use crate::compile::{CompiledAlerts, Grouping};
use crate::fingerprint::{fnv1a, idempotency_key};
use crate::maintenance::MaintenanceWindow;
use crate::webhook::{WebhookPayload, group_key, group_labels, payload};

/// Why a group was notified (Alertmanager's notify reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyReason {
    /// The group's first notification (or the first since all its alerts resolved).
    First,
    /// A firing alert that the last notification did not have.
    NewAlerts,
    /// An alert resolved since the last notification.
    NewResolved,
    /// Every alert resolved.
    AllResolved,
    /// Nothing changed for `repeat_interval`.
    Repeat,
}

/// One webhook to send.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookNotification {
    /// The group's key (`{}:{alertname="X"}`).
    pub group_key: String,
    /// The body.
    pub payload: WebhookPayload,
    /// Deterministic from the receiver, the group, its alerts' fingerprints and statuses,
    /// and how many times the same content was sent before (so a repeat has a new key, and
    /// re-generating a notification after a restart gives the first one's key).
    pub idempotency_key: String,
    /// Why it is sent.
    pub reason: NotifyReason,
    /// The flush time.
    pub at_ms: i64,
}

impl WebhookNotification {
    /// The body as Alertmanager sends it: compact JSON and a newline.
    pub fn body(&self) -> Vec<u8> {
        let mut body = serde_json::to_vec(&self.payload).unwrap_or_default();
        body.push(b'\n');
        body
    }
}

#[derive(Debug)]
struct Group {
    labels: BTreeMap<String, String>,
    /// By fingerprint.
    alerts: BTreeMap<String, Alert>,
    next_flush_ms: i64,
    flushed: bool,
    last: Option<Sent>,
}

/// What the last notification of a group held (Alertmanager's notification log entry).
#[derive(Debug)]
struct Sent {
    firing: BTreeSet<String>,
    resolved: BTreeSet<String>,
    at_ms: i64,
    content: u64,
    repeats: u64,
}

/// Groups alerts for one webhook receiver.
#[derive(Debug)]
pub struct Grouper {
    grouping: Grouping,
    maintenance: Vec<MaintenanceWindow>,
    receiver: String,
    external_url: String,
    groups: BTreeMap<String, Group>,
}

impl Grouper {
    /// A grouper with `rules`' grouping and maintenance windows, for the receiver named
    /// `receiver` (the payload's `receiver`).
    pub fn new(rules: &CompiledAlerts, receiver: &str) -> Self {
        Self {
            grouping: rules.grouping.clone(),
            maintenance: rules.maintenance.clone(),
            receiver: receiver.into(),
            external_url: rules.external_url.clone(),
            groups: BTreeMap::new(),
        }
    }

    /// Take an event at `now_ms`.
    pub fn on_event(&mut self, event: &AlertEvent, now_ms: i64) {
        if let Some(old) = &event.replaces {
            self.insert(old.clone(), now_ms);
        }
        self.insert(event.alert.clone(), now_ms);
    }

    /// Put back a firing alert that was notified (at `notified_at_ms`) before a restart, so
    /// that its resolution is sent and it is not announced again.
    pub fn restore(&mut self, alert: Alert, notified_at_ms: i64) {
        let fingerprint = alert.fingerprint.clone();
        let key = self.insert(alert, notified_at_ms);
        let interval = self.grouping.group_interval_ms;
        let group = self.groups.get_mut(&key).expect("inserted");
        if !group.flushed {
            group.flushed = true;
            group.next_flush_ms = notified_at_ms.saturating_add(interval);
        }
        let sent = group.last.get_or_insert_with(|| Sent {
            firing: BTreeSet::new(),
            resolved: BTreeSet::new(),
            at_ms: notified_at_ms,
            content: 0,
            repeats: 0,
        });
        sent.firing.insert(fingerprint);
        sent.at_ms = sent.at_ms.min(notified_at_ms);
    }

    /// Resolve, at `now_ms`, the alerts of rules that `rules` no longer has (after a reload).
    pub fn forget_removed_rules(&mut self, rules: &CompiledAlerts, now_ms: i64) {
        for group in self.groups.values_mut() {
            for alert in group.alerts.values_mut() {
                if alert.state == AlertState::Firing && !rules.rule_names().any(|n| n == alert.rule)
                {
                    alert.state = AlertState::Resolved;
                    alert.ends_at_ms = Some(now_ms);
                }
            }
        }
    }

    fn insert(&mut self, alert: Alert, now_ms: i64) -> String {
        let labels = group_labels(&self.grouping, &alert.labels);
        let key = group_key(&labels);
        let wait = self.grouping.group_wait_ms;
        let group = self.groups.entry(key.clone()).or_insert_with(|| Group {
            labels,
            alerts: BTreeMap::new(),
            next_flush_ms: now_ms.saturating_add(wait),
            flushed: false,
            last: None,
        });
        if !group.flushed && alert.starts_at_ms.saturating_add(wait) < now_ms {
            group.next_flush_ms = group.next_flush_ms.min(now_ms);
        }
        group.alerts.insert(alert.fingerprint.clone(), alert);
        key
    }

    /// When the next flush is due, if any group exists.
    pub fn next_due_ms(&self) -> Option<i64> {
        self.groups.values().map(|g| g.next_flush_ms).min()
    }

    /// The number of groups (for metrics).
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Whether there is no group.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Flush every group due at `now_ms`; returns the notifications to send.
    pub fn due(&mut self, now_ms: i64) -> Vec<WebhookNotification> {
        let mut out = Vec::new();
        let interval = self.grouping.group_interval_ms;
        let repeat = self.grouping.repeat_interval_ms;
        for (key, group) in &mut self.groups {
            if group.next_flush_ms > now_ms {
                continue;
            }
            group.flushed = true;
            group.next_flush_ms = now_ms.saturating_add(interval);
            let mut alerts: Vec<&Alert> = group
                .alerts
                .values()
                .filter(|a| a.state == AlertState::Resolved || !muted(&self.maintenance, a, now_ms))
                .collect();
            alerts.sort_by(|a, b| a.labels.cmp(&b.labels));
            let of = |state: AlertState| -> BTreeSet<String> {
                alerts
                    .iter()
                    .filter(|a| a.state == state)
                    .map(|a| a.fingerprint.clone())
                    .collect()
            };
            let firing = of(AlertState::Firing);
            let resolved = of(AlertState::Resolved);
            if let Some(reason) =
                needs_update(group.last.as_ref(), &firing, &resolved, repeat, now_ms)
            {
                let content = fnv1a(
                    alerts
                        .iter()
                        .flat_map(|a| [a.fingerprint.as_bytes(), a.state.as_str().as_bytes()]),
                );
                let repeats = match &group.last {
                    Some(last) if last.content == content => last.repeats + 1,
                    _ => 0,
                };
                let list: Vec<Alert> = alerts.iter().map(|a| (*a).clone()).collect();
                out.push(WebhookNotification {
                    group_key: key.clone(),
                    payload: payload(&self.receiver, &group.labels, &list, &self.external_url),
                    idempotency_key: idempotency_key(&[
                        &self.receiver,
                        key,
                        &format!("{content:016x}"),
                        &repeats.to_string(),
                    ]),
                    reason,
                    at_ms: now_ms,
                });
                group.last = Some(Sent {
                    firing,
                    resolved,
                    at_ms: now_ms,
                    content,
                    repeats,
                });
            }
            group.alerts.retain(|_, a| a.state == AlertState::Firing);
        }
        self.groups.retain(|_, g| !g.alerts.is_empty());
        out
    }
}

fn muted(maintenance: &[MaintenanceWindow], alert: &Alert, now_ms: i64) -> bool {
    let get = |name: &str| {
        if name == "alertname" {
            Some(alert.rule.as_str())
        } else {
            alert.series.get(name).map(String::as_str)
        }
    };
    maintenance.iter().any(|w| w.covers(get, now_ms))
}

/// Alertmanager's `DedupStage.needsUpdate`, with `send_resolved` on.
fn needs_update(
    last: Option<&Sent>,
    firing: &BTreeSet<String>,
    resolved: &BTreeSet<String>,
    repeat_ms: i64,
    now_ms: i64,
) -> Option<NotifyReason> {
    let Some(last) = last else {
        return (!firing.is_empty()).then_some(NotifyReason::First);
    };
    if !firing.is_subset(&last.firing) {
        return Some(if last.firing.is_empty() {
            NotifyReason::First
        } else {
            NotifyReason::NewAlerts
        });
    }
    if firing.is_empty() {
        return (!last.firing.is_empty()).then_some(NotifyReason::AllResolved);
    }
    if !resolved.is_subset(&last.resolved) {
        return Some(NotifyReason::NewResolved);
    }
    (last.at_ms.saturating_add(repeat_ms) < now_ms).then_some(NotifyReason::Repeat)
}

#[cfg(test)]
mod tests;
