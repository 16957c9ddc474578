//! [`Dispatcher`]: the tokio task that sends what the outbox holds. It wakes at once when
//! something is enqueued (a `tokio::sync::Notify`, no polling) and otherwise sleeps until the
//! next entry is due; it runs up to `concurrency` attempts at once, never two for one key, and
//! never two for one coalesce key on one channel (so those arrive in order).

mod attempt;
mod backoff;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Client;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

pub use attempt::BODY_PREFIX;

use crate::outbox::{AttemptTiming, OutboxEntry, Settlement};
use crate::settings::Channel;
use crate::{DeliveryError, Outbox, now_ms};

/// The longest sleep between two looks at the outbox, whatever is scheduled.
const MAX_SLEEP: Duration = Duration::from_secs(60);
/// How often finished entries past `retention` are purged.
const PURGE_EVERY: Duration = Duration::from_secs(3600);
/// The pending gauges are refreshed at most this often.
const GAUGES_EVERY: Duration = Duration::from_secs(1);
/// After SQLite fails, wait this long before the next look (and hold the key that long when
/// an attempt's result could not be recorded, so that it is not resent in a tight loop).
const STORAGE_BACKOFF: Duration = Duration::from_secs(1);

/// Sends the outbox's entries. See [`Dispatcher::spawn`].
#[derive(Debug)]
#[non_exhaustive]
pub struct Dispatcher;

impl Dispatcher {
    /// Start sending `outbox`'s entries on the current tokio runtime, with `client` (its
    /// redirect and proxy settings apply; the timeout is each channel's). Build the client from
    /// [`client_builder`](crate::client_builder), which follows no redirects: a followed 301,
    /// 302 or 303 turns a POST into a GET without the body, whose 2xx would count as delivered.
    /// Entries left by a previous run are sent first. The channels, rails and stats are the
    /// outbox's.
    ///
    /// Panics when called outside a tokio runtime.
    pub fn spawn(outbox: Outbox, client: Client) -> DispatcherHandle {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(outbox, client, stopped));
        DispatcherHandle {
            stop,
            task: Some(task),
        }
    }
}

/// Stops the dispatcher: [`DispatcherHandle::shutdown`] lets the attempts in flight finish;
/// dropping the handle aborts them (as a crash would: they are resent at the next start).
#[derive(Debug)]
pub struct DispatcherHandle {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl DispatcherHandle {
    /// Start no new attempt, wait for the ones in flight (each bounded by its channel's
    /// timeout) and for their results to be recorded, then return.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take()
            && let Err(error) = task.await
        {
            tracing::error!(message = "The notification dispatcher failed.", %error);
        }
    }
}

impl Drop for DispatcherHandle {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The keys an attempt task holds while it runs.
struct Held {
    key: String,
    group: Option<(String, String)>,
}

async fn run(outbox: Outbox, client: Client, mut stopped: watch::Receiver<bool>) {
    let concurrency = outbox.settings().concurrency;
    let mut tasks: JoinSet<()> = JoinSet::new();
    let mut held: HashMap<tokio::task::Id, Held> = HashMap::new();
    let mut keys: HashSet<String> = HashSet::new();
    let mut groups: HashSet<(String, String)> = HashSet::new();
    let mut next_purge = Instant::now();
    let mut next_gauges = Instant::now();
    tracing::info!(message = "Notification dispatcher started.", path = %outbox.path().display());
    while !*stopped.borrow() {
        let now = Instant::now();
        if now >= next_purge {
            next_purge = now + PURGE_EVERY;
            purge(&outbox).await;
        }
        let free = concurrency.saturating_sub(tasks.len());
        let mut sleep = MAX_SLEEP;
        if free > 0 {
            // Enough rows to find `free` startable ones: at most one pending entry per key in
            // flight is held back by its coalesce group, and the in-flight ones are still due.
            let limit = 2 * keys.len() + free + 8;
            let wall = now_ms();
            let looked = outbox
                .blocking(move |o| Ok((o.due(wall, limit)?, o.next_due_after(wall)?)))
                .await;
            match looked {
                Ok((due, next)) => {
                    for entry in due {
                        let group = entry
                            .coalesce_key
                            .as_ref()
                            .map(|c| (entry.channel.clone(), c.clone()));
                        if tasks.len() == concurrency
                            || keys.contains(&entry.key)
                            || group.as_ref().is_some_and(|g| groups.contains(g))
                        {
                            continue;
                        }
                        keys.insert(entry.key.clone());
                        if let Some(group) = &group {
                            groups.insert(group.clone());
                        }
                        let key = entry.key.clone();
                        let task = tasks.spawn(deliver(outbox.clone(), client.clone(), entry));
                        held.insert(task.id(), Held { key, group });
                    }
                    if let Some(next) = next {
                        let wait = u64::try_from(next.saturating_sub(wall)).unwrap_or(0);
                        sleep = sleep.min(Duration::from_millis(wait));
                    }
                }
                Err(error) => {
                    tracing::error!(message = "Cannot read the outbox.", %error);
                    sleep = STORAGE_BACKOFF;
                }
            }
        }
        // Refresh the pending gauges at most every GAUGES_EVERY, and come back for the
        // refresh that was skipped.
        let now = Instant::now();
        if now >= next_gauges {
            next_gauges = now + GAUGES_EVERY;
            refresh_gauges(&outbox).await;
        } else {
            sleep = sleep.min(next_gauges - now);
        }
        tokio::select! {
            changed = stopped.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            Some(done) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                let id = match &done {
                    Ok((id, ())) => *id,
                    Err(error) => {
                        tracing::error!(message = "A notification attempt failed.", %error);
                        error.id()
                    }
                };
                if let Some(Held { key, group }) = held.remove(&id) {
                    keys.remove(&key);
                    if let Some(group) = group {
                        groups.remove(&group);
                    }
                }
            }
            () = outbox.wake().notified() => {}
            () = tokio::time::sleep(sleep) => {}
        }
    }
    let in_flight = tasks.len();
    if in_flight > 0 {
        tracing::info!(message = "Waiting for notifications in flight.", in_flight);
    }
    while tasks.join_next().await.is_some() {}
    refresh_gauges(&outbox).await;
    tracing::info!(message = "Notification dispatcher stopped.");
}

async fn purge(outbox: &Outbox) {
    let wall = now_ms();
    match outbox.blocking(move |o| o.purge(wall)).await {
        Ok(0) => {}
        Ok(rows) => tracing::info!(message = "Purged finished notifications.", rows),
        Err(error) => tracing::error!(message = "Cannot purge the outbox.", %error),
    }
}

async fn refresh_gauges(outbox: &Outbox) {
    if let Err(error) = outbox.blocking(|o| o.refresh_gauges()).await {
        tracing::warn!(message = "Cannot count pending notifications.", %error);
    }
}

/// One attempt at `entry`, and the record of how it ended.
async fn deliver(outbox: Outbox, client: Client, entry: OutboxEntry) {
    let number = entry.attempts.saturating_add(1);
    let started = Instant::now();
    let settlement = match outbox.settings().channel(&entry.channel).cloned() {
        None => fail(
            &outbox,
            &entry,
            number,
            DeliveryError::ChannelGone(entry.channel.clone()),
            None,
        ),
        Some(channel) if outbox.settings().is_dry_run(&channel) => {
            tracing::info!(
                message = "Dry run: notification not sent.",
                channel = %channel.name,
                url = %channel.url,
                key = %entry.key,
                target = %entry.target,
                body_bytes = entry.body.len(),
            );
            outbox.stats().dry_run(&channel.name);
            Settlement::DryRun
        }
        Some(channel) => attempt(&outbox, &client, &channel, &entry, number).await,
    };
    let timing = AttemptTiming {
        number,
        finished_ms: now_ms(),
        duration_ms: (settlement != Settlement::DryRun)
            .then(|| i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)),
    };
    let key = entry.key.clone();
    let recorded = outbox
        .blocking(move |o| o.settle(&entry, timing, &settlement))
        .await;
    if let Err(error) = recorded {
        tracing::error!(
            message = "Cannot record a notification attempt; it will be sent again.",
            key = %key,
            %error,
        );
        tokio::time::sleep(STORAGE_BACKOFF).await;
    }
}

/// Send once and decide what follows.
async fn attempt(
    outbox: &Outbox,
    client: &Client,
    channel: &Arc<Channel>,
    entry: &OutboxEntry,
    number: u32,
) -> Settlement {
    let stats = outbox.stats();
    stats.attempt_started();
    let _in_flight = InFlight(stats);
    let timestamp = now_ms().div_euclid(1000);
    match attempt::send(client, channel, entry, timestamp).await {
        Ok(status) => {
            stats.delivered(&channel.name);
            tracing::info!(
                message = "Notification delivered.",
                channel = %channel.name,
                key = %entry.key,
                attempt = number,
                status,
            );
            Settlement::Delivered { status }
        }
        Err(error) => fail(outbox, entry, number, error, Some(channel)),
    }
}

/// A failed attempt: retry with backoff, or the dead letters.
fn fail(
    outbox: &Outbox,
    entry: &OutboxEntry,
    number: u32,
    error: DeliveryError,
    channel: Option<&Arc<Channel>>,
) -> Settlement {
    let stats = outbox.stats();
    stats.failed(&error);
    let now = now_ms();
    let status = error.status();
    match channel {
        Some(channel) if error.is_retryable() && now < entry.give_up_at_ms => {
            let retry_after = match &error {
                DeliveryError::Status { retry_after, .. } => *retry_after,
                _ => None,
            };
            let delay = backoff::delay(&channel.retry, number, retry_after);
            let next_attempt_ms = now
                .saturating_add(crate::outbox::millis(delay))
                .min(entry.give_up_at_ms);
            stats.retried(&entry.channel);
            tracing::warn!(
                message = "Notification attempt failed; will retry.",
                channel = %entry.channel,
                key = %entry.key,
                attempt = number,
                kind = error.kind(),
                %error,
                retry_in_ms = next_attempt_ms - now,
            );
            Settlement::Retry {
                status,
                error: error.to_string(),
                next_attempt_ms,
            }
        }
        _ => {
            let reason = if error.is_retryable() {
                format!("gave up after {number} attempts: {error}")
            } else {
                error.to_string()
            };
            stats.dead_lettered(&entry.channel);
            tracing::error!(
                message = "Notification dead-lettered.",
                channel = %entry.channel,
                key = %entry.key,
                attempt = number,
                kind = error.kind(),
                %reason,
            );
            Settlement::DeadLetter { status, reason }
        }
    }
}

/// Decrements the in-flight gauge when the attempt ends, even if its task is aborted.
struct InFlight<'a>(&'a crate::NotifyStats);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.attempt_finished();
    }
}
