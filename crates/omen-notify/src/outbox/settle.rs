//! Recording the end of an attempt: one transaction writes the audit row and moves the entry
//! on (delivered, rescheduled, dead-lettered, or done as a dry run).

use rusqlite::params;

use super::{AuditOutcome, OutboxEntry};
use crate::{Error, Outbox, Result};

/// How an attempt ended, as the dispatcher decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Settlement {
    /// A 2xx answer.
    Delivered { status: u16 },
    /// Logged, not sent.
    DryRun,
    /// Failed; try again at `next_attempt_ms`.
    Retry {
        status: Option<u16>,
        error: String,
        next_attempt_ms: i64,
    },
    /// Failed for good.
    DeadLetter { status: Option<u16>, reason: String },
}

impl Settlement {
    fn outcome(&self) -> AuditOutcome {
        match self {
            Settlement::Delivered { .. } => AuditOutcome::Delivered,
            Settlement::DryRun => AuditOutcome::DryRun,
            Settlement::Retry { .. } => AuditOutcome::Retry,
            Settlement::DeadLetter { .. } => AuditOutcome::DeadLetter,
        }
    }

    fn status(&self) -> Option<u16> {
        match self {
            Settlement::Delivered { status } => Some(*status),
            Settlement::DryRun => None,
            Settlement::Retry { status, .. } | Settlement::DeadLetter { status, .. } => *status,
        }
    }

    fn error(&self) -> Option<&str> {
        match self {
            Settlement::Delivered { .. } | Settlement::DryRun => None,
            Settlement::Retry { error, .. } => Some(error),
            Settlement::DeadLetter { reason, .. } => Some(reason),
        }
    }
}

/// When an attempt ended and how long it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AttemptTiming {
    /// 1 for the first attempt.
    pub(crate) number: u32,
    /// When it ended (Unix ms).
    pub(crate) finished_ms: i64,
    /// How long it took; None for a dry run.
    pub(crate) duration_ms: Option<i64>,
}

impl Outbox {
    /// Record how the attempt `timing` at `entry` ended. An entry replaced (coalesced) while
    /// its attempt was in flight stays replaced, unless the attempt delivered it.
    pub(crate) fn settle(
        &self,
        entry: &OutboxEntry,
        timing: AttemptTiming,
        settlement: &Settlement,
    ) -> Result<()> {
        let mut connection = self.lock();
        let tx = connection
            .transaction()
            .map_err(Error::storage("recording an attempt"))?;
        tx.prepare_cached(
            "INSERT INTO audit (at_ms, key, channel, target, attempt, duration_ms, status, \
             error, outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .and_then(|mut s| {
            s.execute(params![
                timing.finished_ms,
                entry.key,
                entry.channel,
                entry.target,
                timing.number,
                timing.duration_ms,
                settlement.status(),
                settlement.error(),
                settlement.outcome().as_str(),
            ])
        })
        .map_err(Error::storage("writing the audit log"))?;
        let key = &entry.key;
        let done = timing.finished_ms;
        let updated = match settlement {
            Settlement::Delivered { status } => tx.execute(
                "UPDATE outbox SET state = 'delivered', attempts = ?2, status = ?3, \
                 reason = NULL, done_at_ms = ?4 \
                 WHERE key = ?1 AND state IN ('pending', 'coalesced')",
                params![key, timing.number, status, done],
            ),
            Settlement::DryRun => tx.execute(
                "UPDATE outbox SET state = 'dry_run', done_at_ms = ?2 \
                 WHERE key = ?1 AND state = 'pending'",
                params![key, done],
            ),
            Settlement::Retry {
                status,
                error,
                next_attempt_ms,
            } => tx.execute(
                "UPDATE outbox SET attempts = ?2, status = ?3, reason = ?4, next_attempt_ms = ?5 \
                 WHERE key = ?1 AND state = 'pending'",
                params![key, timing.number, status, error, next_attempt_ms],
            ),
            Settlement::DeadLetter { status, reason } => tx.execute(
                "UPDATE outbox SET state = 'dead_letter', attempts = ?2, status = ?3, \
                 reason = ?4, done_at_ms = ?5 WHERE key = ?1 AND state = 'pending'",
                params![key, timing.number, status, reason, done],
            ),
        }
        .map_err(Error::storage("updating an entry"))?;
        tx.commit()
            .map_err(Error::storage("recording an attempt"))?;
        if updated == 0 {
            tracing::debug!(
                message = "Attempt recorded for an entry replaced meanwhile.",
                key = %entry.key,
                outcome = settlement.outcome().as_str(),
            );
        }
        Ok(())
    }
}
