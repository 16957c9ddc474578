//! [`Outbox`]: every notification, from enqueue to delivery, in one SQLite file (WAL mode,
//! `synchronous = FULL` unless configured otherwise). The safety rails are decided when a notification is enqueued, in the
//! same transaction that stores it, so they hold across restarts.
//!
//! One connection behind a mutex serves every caller: statements are short (no network inside
//! a transaction), so a caller waits at most for another short transaction. The dispatcher
//! reaches it from async code through `tokio::task::spawn_blocking`.

mod enqueue;
mod query;
mod schema;
mod settle;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::Notify;

pub use query::{AuditEntry, AuditOutcome, Counts, EntryState, OutboxEntry};
pub(crate) use settle::{AttemptTiming, Settlement};

use crate::config::{Synchronous, resolve};
use crate::settings::Settings;
use crate::{Error, NotifyConfig, NotifyStats, Result};

/// How long a statement waits for another process holding the file before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The durable outbox. Cheap to clone: clones share one connection, the settings, the stats
/// and the dispatcher's wake-up.
#[derive(Debug, Clone)]
pub struct Outbox {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    connection: Mutex<Connection>,
    settings: Settings,
    stats: Arc<NotifyStats>,
    /// Woken after every enqueue that stored something to send.
    wake: Notify,
}

impl Outbox {
    /// Open (or create) the outbox at `path` (for example `data_dir/outbox.db`), with the
    /// channels and rails of `config`, which is validated here. Entries left by a previous run
    /// are kept and sent by the next [`Dispatcher`](crate::Dispatcher).
    ///
    /// ```
    /// use omen_notify::{ChannelConfig, Enqueued, Notification, NotifyConfig, Outbox};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let config = NotifyConfig {
    ///     channels: vec![ChannelConfig::new("hook", "http://127.0.0.1:8080/hook")],
    ///     ..NotifyConfig::default()
    /// };
    /// let outbox = Outbox::open(dir.path().join("outbox.db"), &config).unwrap();
    /// let n = Notification::new("k1", "hook", "alert-1", b"{}".to_vec(), 0);
    /// assert_eq!(outbox.enqueue(n.clone(), 1_000).unwrap(), Enqueued::Queued);
    /// assert_eq!(outbox.enqueue(n, 2_000).unwrap(), Enqueued::Duplicate);
    /// assert_eq!(outbox.counts().unwrap().pending, 1);
    /// ```
    pub fn open(path: impl AsRef<Path>, config: &NotifyConfig) -> Result<Outbox> {
        Self::open_with_stats(path, config, Arc::new(NotifyStats::new()))
    }

    /// [`Outbox::open`], counting into `stats` (shared with the dispatcher through
    /// [`Outbox::stats`]).
    pub fn open_with_stats(
        path: impl AsRef<Path>,
        config: &NotifyConfig,
        stats: Arc<NotifyStats>,
    ) -> Result<Outbox> {
        let settings = resolve(config)?;
        let path = path.as_ref().to_owned();
        let connection = open_connection(&path, settings.synchronous)?;
        let outbox = Outbox {
            inner: Arc::new(Inner {
                path,
                connection: Mutex::new(connection),
                settings,
                stats,
                wake: Notify::new(),
            }),
        };
        outbox.refresh_gauges()?;
        Ok(outbox)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The counters shared by the outbox and its dispatcher.
    pub fn stats(&self) -> &Arc<NotifyStats> {
        &self.inner.stats
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub(crate) fn wake(&self) -> &Notify {
        &self.inner.wake
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a transaction open (dropping it rolls
        // back), so the connection is still consistent.
        self.inner
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Run `work` on the connection in a blocking task, from async code.
    pub(crate) async fn blocking<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Outbox) -> Result<T> + Send + 'static,
    {
        let outbox = self.clone();
        tokio::task::spawn_blocking(move || work(&outbox))
            .await
            .map_err(|err| Error::Task(err.to_string()))?
    }

    /// Set the pending gauges of the stats from the table.
    pub(crate) fn refresh_gauges(&self) -> Result<()> {
        let (pending, oldest) = self
            .lock()
            .query_row(
                "SELECT COUNT(*), MIN(enqueued_at_ms) FROM outbox WHERE state = 'pending'",
                [],
                |row| Ok((row.get::<_, i64>(0)?, row.get::<_, Option<i64>>(1)?)),
            )
            .map_err(Error::storage("counting pending entries"))?;
        self.inner
            .stats
            .set_pending(u64::try_from(pending).unwrap_or(0), oldest);
        Ok(())
    }

    /// Delete finished entries and audit rows older than `retention` at `now_ms`; pending
    /// entries are never deleted. Returns how many rows went. The dispatcher calls this at
    /// start and then every hour.
    pub fn purge(&self, now_ms: i64) -> Result<usize> {
        let cutoff = now_ms.saturating_sub(millis(self.inner.settings.retention));
        let mut connection = self.lock();
        let tx = connection
            .transaction()
            .map_err(Error::storage("purging"))?;
        let entries = tx
            .execute(
                "DELETE FROM outbox WHERE done_at_ms IS NOT NULL AND done_at_ms < ?1",
                [cutoff],
            )
            .map_err(Error::storage("purging entries"))?;
        let audit = tx
            .execute("DELETE FROM audit WHERE at_ms < ?1", [cutoff])
            .map_err(Error::storage("purging the audit log"))?;
        tx.commit().map_err(Error::storage("purging"))?;
        Ok(entries + audit)
    }
}

fn open_connection(path: &Path, synchronous: Synchronous) -> Result<Connection> {
    let open_error = |source| Error::Open {
        path: path.to_owned(),
        source,
    };
    let connection = Connection::open(path).map_err(open_error)?;
    let version = prepare(&connection, path, synchronous).map_err(open_error)?;
    if version > schema::VERSION {
        return Err(Error::NewerSchema {
            path: path.to_owned(),
            version,
        });
    }
    connection
        .execute_batch(schema::SCHEMA)
        .and_then(|()| connection.pragma_update(None, "user_version", schema::VERSION))
        .map_err(open_error)?;
    Ok(connection)
}

/// Set the pragmas; returns the schema version found.
fn prepare(
    connection: &Connection,
    path: &Path,
    synchronous: Synchronous,
) -> rusqlite::Result<i64> {
    connection.busy_timeout(BUSY_TIMEOUT)?;
    // WAL: readers never block the writer, and a commit is one append to the log.
    let mode: String =
        connection.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(message = "The outbox is not in WAL mode.", %mode, path = %path.display());
    }
    // FULL (the default): the log is synced at every commit, so an enqueue that returned
    // survives a power loss, not only a crash of Omen (NORMAL survives the latter only). See
    // the README for the measured cost.
    connection.pragma_update(None, "synchronous", synchronous.as_str())?;
    connection.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// A duration in milliseconds, saturating.
pub(crate) fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
