//! Enqueueing: duplicates, coalescing and the safety rails, decided in the one transaction that
//! stores the notification.
//!
//! In order: a key seen before is a duplicate (nothing happens); a pending entry with the same
//! channel and coalesce key is replaced (the new one takes its slot in the rails); otherwise
//! the rails are checked, most specific first: the cooldown per channel and target, the
//! channel's rate limit, and the global hourly cap on actions. A rail counts entries that took
//! a slot (`rail_at_ms`), whatever became of them since, so a dead-lettered action still counts
//! against the cap: it may have reached the target before failing.

use reqwest::header::{HeaderName, HeaderValue};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use super::{Outbox, millis};
use crate::config::ChannelKind;
use crate::settings::Channel;
use crate::{Enqueued, Error, Notification, Result, SuppressReason};

/// The window of `max_actions_per_hour`.
const HOUR_MS: i64 = 3_600_000;

impl Outbox {
    /// Store `notification` for delivery, or decide not to (see [`Enqueued`]). `now_ms` is the
    /// wall clock in Unix milliseconds; the rails' windows and the retry deadline count from
    /// it. One short SQLite transaction, synced to disk before returning when `synchronous` is
    /// `full`; the network is never touched, so a slow or dead target never delays this. From
    /// async code, prefer [`Outbox::enqueue_async`].
    ///
    /// Errors: a channel that is not configured, an empty key, a header that is not valid HTTP,
    /// or SQLite failing.
    pub fn enqueue(&self, notification: Notification, now_ms: i64) -> Result<Enqueued> {
        let mut outcomes = self.enqueue_batch(vec![notification], now_ms)?;
        Ok(outcomes.pop().unwrap_or(Enqueued::Duplicate))
    }

    /// [`Outbox::enqueue`] for many notifications in one transaction (one sync to disk), in
    /// order: a later one sees the earlier ones (a repeated key is a duplicate, a coalesce key
    /// replaces, the rails count them). All are checked before any is stored: if one cannot be
    /// sent (see [`Outbox::enqueue`]), none is stored.
    pub fn enqueue_batch(
        &self,
        notifications: Vec<Notification>,
        now_ms: i64,
    ) -> Result<Vec<Enqueued>> {
        let checked = notifications
            .into_iter()
            .map(|n| {
                let channel = self.check(&n)?;
                let headers = serde_json::to_string(&n.headers)
                    .map_err(|err| invalid(&n, err.to_string()))?;
                Ok((n, channel, headers))
            })
            .collect::<Result<Vec<_>>>()?;
        let outcomes = {
            let mut connection = self.lock();
            let tx = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(Error::storage("starting an enqueue"))?;
            let outcomes = checked
                .iter()
                .map(|(n, channel, headers)| self.decide(&tx, channel, n, headers, now_ms))
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(Error::storage("enqueueing"))?;
            tx.commit()
                .map_err(Error::storage("committing an enqueue"))?;
            outcomes
        };
        let stats = self.stats();
        for ((n, _, _), outcome) in checked.iter().zip(&outcomes) {
            match outcome {
                Enqueued::Queued => stats.queued(&n.channel),
                Enqueued::Duplicate => stats.duplicate(),
                Enqueued::Coalesced => stats.coalesced(),
                Enqueued::Suppressed(reason) => {
                    stats.suppressed(&n.channel, *reason);
                    tracing::info!(
                        message = "Notification suppressed.",
                        key = %n.key,
                        channel = %n.channel,
                        target = %n.target,
                        reason = reason.as_str(),
                    );
                }
            }
        }
        if outcomes
            .iter()
            .any(|o| matches!(o, Enqueued::Queued | Enqueued::Coalesced))
        {
            self.wake().notify_one();
        }
        Ok(outcomes)
    }

    /// [`Outbox::enqueue`] on tokio's blocking pool.
    pub async fn enqueue_async(&self, notification: Notification, now_ms: i64) -> Result<Enqueued> {
        self.blocking(move |outbox| outbox.enqueue(notification, now_ms))
            .await
    }

    /// The notification's channel, after checking what can be checked before storing it.
    fn check(&self, notification: &Notification) -> Result<std::sync::Arc<Channel>> {
        if notification.key.is_empty() {
            return Err(invalid(notification, "the idempotency key is empty".into()));
        }
        if HeaderValue::from_str(&notification.key).is_err() {
            return Err(invalid(
                notification,
                "the idempotency key is not a valid header value".into(),
            ));
        }
        let channel = self
            .settings()
            .channel(&notification.channel)
            .ok_or_else(|| Error::UnknownChannel {
                key: notification.key.clone(),
                channel: notification.channel.clone(),
            })?;
        for (name, value) in &notification.headers {
            HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid(notification, format!("`{name}` is not a header name")))?;
            HeaderValue::from_str(value).map_err(|_| {
                invalid(
                    notification,
                    format!("the value of `{name}` is not a header value"),
                )
            })?;
        }
        Ok(channel.clone())
    }

    fn decide(
        &self,
        tx: &Transaction<'_>,
        channel: &Channel,
        n: &Notification,
        headers: &str,
        now_ms: i64,
    ) -> rusqlite::Result<Enqueued> {
        let seen = tx
            .prepare_cached("SELECT 1 FROM outbox WHERE key = ?1")?
            .exists([&n.key])?;
        if seen {
            return Ok(Enqueued::Duplicate);
        }
        let row = NewRow {
            n,
            headers,
            now_ms,
            is_action: channel.kind == ChannelKind::Action,
            give_up_at_ms: now_ms.saturating_add(millis(channel.retry.give_up_after)),
        };
        if let Some(coalesce_key) = &n.coalesce_key {
            let replaced: Option<(String, String, Option<i64>)> = tx
                .prepare_cached(
                    "SELECT key, target, rail_at_ms FROM outbox \
                     WHERE channel = ?1 AND coalesce_key = ?2 AND state = 'pending'",
                )?
                .query_row([&n.channel, coalesce_key], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()?;
            if let Some((old_key, old_target, rail_at_ms)) = replaced {
                let why = format!("replaced by {}", n.key);
                tx.prepare_cached(
                    "UPDATE outbox SET state = 'coalesced', reason = ?2, done_at_ms = ?3, \
                     rail_at_ms = NULL WHERE key = ?1",
                )?
                .execute(params![old_key, why, now_ms])?;
                let old = (old_key.as_str(), n.channel.as_str(), old_target.as_str());
                audit_decision(tx, now_ms, old, "coalesced", &why)?;
                row.insert(tx, "pending", rail_at_ms, None)?;
                return Ok(Enqueued::Coalesced);
            }
        }
        if let Some(reason) = self.rail(tx, channel, n, now_ms)? {
            row.insert(tx, "suppressed", None, Some(reason.as_str()))?;
            let this = (n.key.as_str(), n.channel.as_str(), n.target.as_str());
            audit_decision(tx, now_ms, this, "suppressed", reason.as_str())?;
            return Ok(Enqueued::Suppressed(reason));
        }
        row.insert(tx, "pending", Some(now_ms), None)?;
        Ok(Enqueued::Queued)
    }

    /// The first rail that refuses `n`, if any.
    fn rail(
        &self,
        tx: &Transaction<'_>,
        channel: &Channel,
        n: &Notification,
        now_ms: i64,
    ) -> rusqlite::Result<Option<SuppressReason>> {
        if !channel.cooldown.is_zero() {
            let since = now_ms.saturating_sub(millis(channel.cooldown));
            let recent = tx
                .prepare_cached(
                    "SELECT 1 FROM outbox WHERE channel = ?1 AND target = ?2 AND rail_at_ms > ?3",
                )?
                .exists(params![n.channel, n.target, since])?;
            if recent {
                return Ok(Some(SuppressReason::Cooldown));
            }
        }
        if let Some(limit) = channel.rate_limit {
            let since = now_ms.saturating_sub(millis(limit.per));
            let taken: i64 = tx
                .prepare_cached(
                    "SELECT COUNT(*) FROM outbox WHERE channel = ?1 AND rail_at_ms > ?2",
                )?
                .query_row(params![n.channel, since], |r| r.get(0))?;
            if taken >= i64::from(limit.max) {
                return Ok(Some(SuppressReason::RateLimit));
            }
        }
        if let (ChannelKind::Action, Some(cap)) =
            (channel.kind, self.settings().max_actions_per_hour)
        {
            let since = now_ms.saturating_sub(HOUR_MS);
            let taken: i64 = tx
                .prepare_cached(
                    "SELECT COUNT(*) FROM outbox WHERE is_action = 1 AND rail_at_ms > ?1",
                )?
                .query_row([since], |r| r.get(0))?;
            if taken >= i64::from(cap) {
                return Ok(Some(SuppressReason::GlobalCap));
            }
        }
        Ok(None)
    }
}

/// The values of a new row, whatever its state.
struct NewRow<'a> {
    n: &'a Notification,
    headers: &'a str,
    now_ms: i64,
    is_action: bool,
    give_up_at_ms: i64,
}

impl NewRow<'_> {
    fn insert(
        &self,
        tx: &Transaction<'_>,
        state: &str,
        rail_at_ms: Option<i64>,
        reason: Option<&str>,
    ) -> rusqlite::Result<()> {
        let n = self.n;
        let done_at_ms = (state != "pending").then_some(self.now_ms);
        tx.prepare_cached(
            "INSERT INTO outbox (key, coalesce_key, channel, target, body, headers, \
             created_at_ms, enqueued_at_ms, state, is_action, rail_at_ms, next_attempt_ms, \
             give_up_at_ms, reason, done_at_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?8, ?12, ?13, ?14)",
        )?
        .execute(params![
            n.key,
            n.coalesce_key,
            n.channel,
            n.target,
            n.body,
            self.headers,
            n.created_at_ms,
            self.now_ms,
            state,
            self.is_action,
            rail_at_ms,
            self.give_up_at_ms,
            reason,
            done_at_ms,
        ])?;
        Ok(())
    }
}

/// An audit row for a decision taken at enqueue (attempt 0) about `(key, channel, target)`.
fn audit_decision(
    tx: &Transaction<'_>,
    now_ms: i64,
    (key, channel, target): (&str, &str, &str),
    outcome: &str,
    why: &str,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO audit (at_ms, key, channel, target, attempt, outcome, error) \
         VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)",
    )?
    .execute(params![now_ms, key, channel, target, outcome, why])?;
    Ok(())
}

fn invalid(notification: &Notification, message: String) -> Error {
    Error::InvalidNotification {
        key: notification.key.clone(),
        message,
    }
}
