//! The alert stage's own SQLite file (`alerts.db` in the data directory): every alert event
//! (the history the API and the Parquet export read), the alerts firing now (so that a
//! restart neither forgets them nor fires them again), feedback, and the feedback
//! adjustments.

use std::collections::BTreeMap;
use std::path::Path;

use omen_alert::{Alert, AlertEvent, EventKind, FiringState, SavedAdjustments};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::error::{Error, Result};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    alert_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    rule TEXT NOT NULL,
    alert TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS events_alert ON events(alert_id);
CREATE TABLE IF NOT EXISTS active (
    fingerprint TEXT PRIMARY KEY,
    series TEXT NOT NULL,
    state TEXT NOT NULL,
    alert TEXT NOT NULL,
    notified_at_ms INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS feedback (
    seq INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    alert_id TEXT NOT NULL,
    verdict TEXT NOT NULL,
    who TEXT NOT NULL,
    why TEXT NOT NULL,
    adjustments TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS adjustments (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    saved TEXT NOT NULL
) STRICT;
";

/// One row of the alert history.
#[derive(Debug, Clone, Serialize)]
pub struct EventRow {
    /// Its place in the history (rises with every event).
    pub seq: i64,
    /// When it was recorded, in milliseconds since the epoch.
    pub at_ms: i64,
    /// `firing`, `updated` or `resolved`.
    pub kind: String,
    /// The alert as it was then.
    pub alert: Alert,
}

/// One feedback, as recorded.
#[derive(Debug, Clone, Serialize)]
pub struct FeedbackRow {
    /// Its place among the feedback (rises with every one).
    pub seq: i64,
    /// When it was given, in milliseconds since the epoch.
    pub at_ms: i64,
    /// The alert it is about.
    pub alert_id: String,
    /// `false_positive`, `true_positive` or `expected_change`.
    pub verdict: String,
    /// Who gave it.
    pub who: String,
    /// Why.
    pub why: String,
    /// The ids of the adjustments it made.
    pub adjustments: Vec<u64>,
}

/// A firing alert saved for the next start.
#[derive(Debug, Clone)]
pub struct ActiveAlert {
    /// The series' labels.
    pub series: Vec<(String, String)>,
    /// What the lifecycle needs to carry on firing.
    pub state: FiringState,
    /// The alert as last sent.
    pub alert: Alert,
    /// When it was last recorded.
    pub notified_at_ms: i64,
}

/// The SQLite file.
#[derive(Debug)]
pub struct Store {
    db: Connection,
}

impl Store {
    /// Open (or create) the file at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let db = Connection::open(path).map_err(|cause| Error::Open {
            action: "open the alert store",
            path: path.to_path_buf(),
            cause,
        })?;
        db.pragma_update(None, "journal_mode", "WAL")?;
        db.pragma_update(None, "synchronous", "FULL")?;
        db.execute_batch(SCHEMA).map_err(|cause| Error::Open {
            action: "create the tables of",
            path: path.to_path_buf(),
            cause,
        })?;
        Ok(Self { db })
    }

    /// Record events (one transaction) and keep the `active` table in step.
    pub fn record(&mut self, events: &[AlertEvent], now_ms: i64) -> Result<()> {
        let tx = self.db.transaction()?;
        for event in events {
            let alert = &event.alert;
            tx.execute(
                "INSERT INTO events (at_ms, kind, alert_id, fingerprint, rule, alert) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![now_ms, event.kind.as_str(), alert.id, alert.fingerprint, alert.rule, serde_json::to_string(alert)?],
            )?;
            if let Some(old) = &event.replaces {
                tx.execute(
                    "DELETE FROM active WHERE fingerprint = ?1",
                    [&old.fingerprint],
                )?;
            }
            match event.kind {
                EventKind::Firing | EventKind::Updated => {
                    let series: Vec<(&String, &String)> = alert.series.iter().collect();
                    tx.execute(
                        "INSERT OR REPLACE INTO active (fingerprint, series, state, alert, notified_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![alert.fingerprint, serde_json::to_string(&series)?,
                            serde_json::to_string(&firing_state(alert))?, serde_json::to_string(alert)?, now_ms],
                    )?;
                }
                EventKind::Resolved => {
                    tx.execute(
                        "DELETE FROM active WHERE fingerprint = ?1",
                        [&alert.fingerprint],
                    )?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The alerts firing when the last run stopped.
    pub fn active(&self) -> Result<Vec<ActiveAlert>> {
        let mut stmt = self
            .db
            .prepare("SELECT series, state, alert, notified_at_ms FROM active")?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, i64>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (series, state, alert, notified_at_ms) = row?;
            out.push(ActiveAlert {
                series: serde_json::from_str(&series)?,
                state: serde_json::from_str(&state)?,
                alert: serde_json::from_str(&alert)?,
                notified_at_ms,
            });
        }
        Ok(out)
    }

    /// The newest `limit` events, newest first; only those of `alert_id` when given.
    pub fn events(&self, alert_id: Option<&str>, limit: usize) -> Result<Vec<EventRow>> {
        let mut stmt = self.db.prepare(
            "SELECT seq, at_ms, kind, alert FROM events WHERE (?1 IS NULL OR alert_id = ?1) ORDER BY seq DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![alert_id, limit as i64], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, at_ms, kind, alert) = row?;
            out.push(EventRow {
                seq,
                at_ms,
                kind,
                alert: serde_json::from_str(&alert)?,
            });
        }
        Ok(out)
    }

    /// The latest state of one alert, by id.
    pub fn alert(&self, alert_id: &str) -> Result<Option<Alert>> {
        let alert: Option<String> = self
            .db
            .query_row(
                "SELECT alert FROM events WHERE alert_id = ?1 ORDER BY seq DESC LIMIT 1",
                [alert_id],
                |r| r.get(0),
            )
            .optional()?;
        Ok(alert.map(|a| serde_json::from_str(&a)).transpose()?)
    }

    /// Record one feedback; returns its sequence number.
    pub fn add_feedback(&mut self, row: &FeedbackRow) -> Result<i64> {
        self.db.execute(
            "INSERT INTO feedback (at_ms, alert_id, verdict, who, why, adjustments) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![row.at_ms, row.alert_id, row.verdict, row.who, row.why, serde_json::to_string(&row.adjustments)?],
        )?;
        Ok(self.db.last_insert_rowid())
    }

    /// The newest `limit` feedback rows, newest first.
    pub fn feedback(&self, limit: usize) -> Result<Vec<FeedbackRow>> {
        let mut stmt = self.db.prepare(
            "SELECT seq, at_ms, alert_id, verdict, who, why, adjustments FROM feedback ORDER BY seq DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get::<_, String>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, at_ms, alert_id, verdict, who, why, adjustments) = row?;
            out.push(FeedbackRow {
                seq,
                at_ms,
                alert_id,
                verdict,
                who,
                why,
                adjustments: serde_json::from_str(&adjustments)?,
            });
        }
        Ok(out)
    }

    /// Save the feedback adjustments (replacing what was saved).
    pub fn save_adjustments(&mut self, saved: &SavedAdjustments) -> Result<()> {
        self.db.execute(
            "INSERT OR REPLACE INTO adjustments (id, saved) VALUES (1, ?1)",
            [serde_json::to_string(saved)?],
        )?;
        Ok(())
    }

    /// The saved feedback adjustments, if any.
    pub fn adjustments(&self) -> Result<Option<SavedAdjustments>> {
        let saved: Option<String> = self
            .db
            .query_row("SELECT saved FROM adjustments WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(saved.map(|s| serde_json::from_str(&s)).transpose()?)
    }
}

/// What the lifecycle needs to carry a firing alert over a restart, from the alert itself.
fn firing_state(alert: &Alert) -> FiringState {
    let mut series: BTreeMap<&str, &str> = alert
        .series
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if let Some(name) = series.remove("__name__") {
        series.entry("metric").or_insert(name);
    }
    let rule_labels = alert
        .labels
        .iter()
        .filter(|(k, v)| {
            k.as_str() != "alertname"
                && k.as_str() != "severity"
                && series.get(k.as_str()) != Some(&v.as_str())
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    FiringState {
        rule: alert.rule.clone(),
        active_at_ms: alert.active_at_ms,
        starts_at_ms: alert.starts_at_ms,
        last_breach_ms: alert.explanation.timestamp_ms,
        peak_score: alert.explanation.peak_score,
        peak_deviation: alert.explanation.peak_deviation,
        severity: alert.severity().to_owned(),
        flapping: alert.flapping,
        flips_ms: Vec::new(),
        labels: rule_labels,
    }
}
