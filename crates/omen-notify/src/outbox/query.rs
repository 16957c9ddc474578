//! Reading the outbox: entries by state, the audit log, counts; and what the dispatcher asks
//! for (due entries, the next due time).

use rusqlite::{OptionalExtension, Row};

use super::Outbox;
use crate::{Error, Result};

/// Where an entry is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryState {
    /// Waiting for its next attempt (or in flight).
    Pending,
    /// A 2xx answer was received.
    Delivered,
    /// Given up: a final failure, or retried past `give_up_after`.
    DeadLetter,
    /// Logged instead of sent.
    DryRun,
    /// Refused at enqueue by a safety rail (`reason` says which).
    Suppressed,
    /// Replaced before delivery by a newer entry with the same coalesce key.
    Coalesced,
}

impl EntryState {
    /// The name stored in the `state` column.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryState::Pending => "pending",
            EntryState::Delivered => "delivered",
            EntryState::DeadLetter => "dead_letter",
            EntryState::DryRun => "dry_run",
            EntryState::Suppressed => "suppressed",
            EntryState::Coalesced => "coalesced",
        }
    }

    fn parse(name: &str) -> rusqlite::Result<EntryState> {
        Ok(match name {
            "pending" => EntryState::Pending,
            "delivered" => EntryState::Delivered,
            "dead_letter" => EntryState::DeadLetter,
            "dry_run" => EntryState::DryRun,
            "suppressed" => EntryState::Suppressed,
            "coalesced" => EntryState::Coalesced,
            other => return Err(unknown_name("state", other)),
        })
    }
}

/// One row of the `outbox` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// The idempotency key.
    pub key: String,
    /// The coalesce key, if any.
    pub coalesce_key: Option<String>,
    /// The channel's name.
    pub channel: String,
    /// The target (what cooldowns are per).
    pub target: String,
    /// The body.
    pub body: Vec<u8>,
    /// The renderer's extra headers.
    pub headers: Vec<(String, String)>,
    /// When the caller made it (Unix ms).
    pub created_at_ms: i64,
    /// When it was enqueued (Unix ms).
    pub enqueued_at_ms: i64,
    /// Its state.
    pub state: EntryState,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due (Unix ms), while pending.
    pub next_attempt_ms: i64,
    /// After this (Unix ms), a failed attempt sends it to the dead letters.
    pub give_up_at_ms: i64,
    /// The last failure (pending), why it was dead-lettered, which rail suppressed it, or
    /// which key replaced it.
    pub reason: Option<String>,
    /// The last HTTP status received, if any.
    pub status: Option<u16>,
    /// When it reached its final state (Unix ms).
    pub done_at_ms: Option<i64>,
}

const ENTRY_COLUMNS: &str = "key, coalesce_key, channel, target, body, headers, created_at_ms, \
     enqueued_at_ms, state, attempts, next_attempt_ms, give_up_at_ms, reason, status, done_at_ms";

impl OutboxEntry {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<OutboxEntry> {
        let headers: String = row.get(5)?;
        let headers = serde_json::from_str(&headers).map_err(|err| {
            rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Text, err.into())
        })?;
        Ok(OutboxEntry {
            key: row.get(0)?,
            coalesce_key: row.get(1)?,
            channel: row.get(2)?,
            target: row.get(3)?,
            body: row.get(4)?,
            headers,
            created_at_ms: row.get(6)?,
            enqueued_at_ms: row.get(7)?,
            state: EntryState::parse(&row.get::<_, String>(8)?)?,
            attempts: row.get(9)?,
            next_attempt_ms: row.get(10)?,
            give_up_at_ms: row.get(11)?,
            reason: row.get(12)?,
            status: row.get(13)?,
            done_at_ms: row.get(14)?,
        })
    }
}

/// What happened at one attempt or decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditOutcome {
    /// A 2xx answer.
    Delivered,
    /// A retryable failure; another attempt is scheduled.
    Retry,
    /// A final failure, or the last retry past `give_up_after`.
    DeadLetter,
    /// Logged, not sent.
    DryRun,
    /// Refused at enqueue by a rail (`error` names it).
    Suppressed,
    /// Replaced at enqueue by a newer notification (`error` names its key).
    Coalesced,
}

impl AuditOutcome {
    /// The name stored in the `outcome` column.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Delivered => "delivered",
            AuditOutcome::Retry => "retry",
            AuditOutcome::DeadLetter => "dead_letter",
            AuditOutcome::DryRun => "dry_run",
            AuditOutcome::Suppressed => "suppressed",
            AuditOutcome::Coalesced => "coalesced",
        }
    }

    fn parse(name: &str) -> rusqlite::Result<AuditOutcome> {
        Ok(match name {
            "delivered" => AuditOutcome::Delivered,
            "retry" => AuditOutcome::Retry,
            "dead_letter" => AuditOutcome::DeadLetter,
            "dry_run" => AuditOutcome::DryRun,
            "suppressed" => AuditOutcome::Suppressed,
            "coalesced" => AuditOutcome::Coalesced,
            other => return Err(unknown_name("outcome", other)),
        })
    }
}

/// One row of the `audit` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// When (Unix ms): the end of the attempt, or the enqueue.
    pub at_ms: i64,
    /// The idempotency key.
    pub key: String,
    /// The channel's name.
    pub channel: String,
    /// The target.
    pub target: String,
    /// 1 for the first attempt; 0 for decisions at enqueue (suppressed, coalesced).
    pub attempt: u32,
    /// How long the attempt took, in milliseconds.
    pub duration_ms: Option<u64>,
    /// The HTTP status, when the target answered.
    pub status: Option<u16>,
    /// The failure, the rail, or the replacing key.
    pub error: Option<String>,
    /// What happened.
    pub outcome: AuditOutcome,
}

const AUDIT_COLUMNS: &str =
    "at_ms, key, channel, target, attempt, duration_ms, status, error, outcome";

impl AuditEntry {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<AuditEntry> {
        Ok(AuditEntry {
            at_ms: row.get(0)?,
            key: row.get(1)?,
            channel: row.get(2)?,
            target: row.get(3)?,
            attempt: row.get(4)?,
            duration_ms: row
                .get::<_, Option<i64>>(5)?
                .map(|d| d.max(0).unsigned_abs()),
            status: row.get(6)?,
            error: row.get(7)?,
            outcome: AuditOutcome::parse(&row.get::<_, String>(8)?)?,
        })
    }
}

/// Entries by state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Waiting or in flight.
    pub pending: u64,
    /// Delivered.
    pub delivered: u64,
    /// In the dead letters.
    pub dead_letter: u64,
    /// Dry-run.
    pub dry_run: u64,
    /// Suppressed by a rail.
    pub suppressed: u64,
    /// Replaced by a newer entry.
    pub coalesced: u64,
}

impl Outbox {
    /// Entries waiting for delivery, the next due first.
    pub fn pending(&self) -> Result<Vec<OutboxEntry>> {
        self.entries("state = 'pending' ORDER BY next_attempt_ms, id", [])
    }

    /// Entries given up on, the most recent first, with their reasons.
    pub fn dead_letters(&self) -> Result<Vec<OutboxEntry>> {
        self.entries(
            "state = 'dead_letter' ORDER BY done_at_ms DESC, id DESC",
            [],
        )
    }

    /// The entry with this idempotency key.
    pub fn entry(&self, key: &str) -> Result<Option<OutboxEntry>> {
        Ok(self.entries("key = ?1", [key])?.pop())
    }

    /// The last `limit` audit rows, the most recent first.
    pub fn audit(&self, limit: usize) -> Result<Vec<AuditEntry>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.audit_rows("1 ORDER BY id DESC LIMIT ?1", [limit])
    }

    /// Every audit row of one key, in order.
    pub fn audit_of(&self, key: &str) -> Result<Vec<AuditEntry>> {
        self.audit_rows("key = ?1 ORDER BY id", [key])
    }

    /// Entries by state.
    pub fn counts(&self) -> Result<Counts> {
        let connection = self.lock();
        let mut statement = connection
            .prepare_cached("SELECT state, COUNT(*) FROM outbox GROUP BY state")
            .map_err(Error::storage("counting entries"))?;
        let rows = statement
            .query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
            })
            .map_err(Error::storage("counting entries"))?;
        let mut counts = Counts::default();
        for row in rows {
            let (state, n) = row.map_err(Error::storage("counting entries"))?;
            let slot = match EntryState::parse(&state).map_err(Error::storage("counting"))? {
                EntryState::Pending => &mut counts.pending,
                EntryState::Delivered => &mut counts.delivered,
                EntryState::DeadLetter => &mut counts.dead_letter,
                EntryState::DryRun => &mut counts.dry_run,
                EntryState::Suppressed => &mut counts.suppressed,
                EntryState::Coalesced => &mut counts.coalesced,
            };
            *slot = n.max(0).unsigned_abs();
        }
        Ok(counts)
    }

    /// Pending entries due at `now_ms`, the earliest first, at most `limit`.
    pub(crate) fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<OutboxEntry>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.entries(
            "state = 'pending' AND next_attempt_ms <= ?1 ORDER BY next_attempt_ms, id LIMIT ?2",
            [now_ms, limit],
        )
    }

    /// The earliest next attempt after `now_ms`, if any entry is scheduled later.
    pub(crate) fn next_due_after(&self, now_ms: i64) -> Result<Option<i64>> {
        self.lock()
            .query_row(
                "SELECT MIN(next_attempt_ms) FROM outbox \
                 WHERE state = 'pending' AND next_attempt_ms > ?1",
                [now_ms],
                |row| row.get(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(Error::storage("finding the next due entry"))
    }

    fn entries<P: rusqlite::Params>(&self, filter: &str, params: P) -> Result<Vec<OutboxEntry>> {
        let connection = self.lock();
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM outbox WHERE {filter}");
        let mut statement = connection
            .prepare_cached(&sql)
            .map_err(Error::storage("reading entries"))?;
        let rows = statement
            .query_map(params, OutboxEntry::from_row)
            .map_err(Error::storage("reading entries"))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(Error::storage("reading entries"))
    }

    fn audit_rows<P: rusqlite::Params>(&self, filter: &str, params: P) -> Result<Vec<AuditEntry>> {
        let connection = self.lock();
        let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit WHERE {filter}");
        let mut statement = connection
            .prepare_cached(&sql)
            .map_err(Error::storage("reading the audit log"))?;
        let rows = statement
            .query_map(params, AuditEntry::from_row)
            .map_err(Error::storage("reading the audit log"))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(Error::storage("reading the audit log"))
    }
}

fn unknown_name(column: &str, name: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("unknown {column} `{name}`").into(),
    )
}
