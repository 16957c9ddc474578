//! The outbox's tables, created on open. `PRAGMA user_version` holds the schema version, so
//! that a file written by a newer Omen is refused rather than misread.

/// The version this code writes and reads.
pub(super) const VERSION: i64 = 1;

/// Every statement is idempotent (`IF NOT EXISTS`).
pub(super) const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS outbox (
    id              INTEGER PRIMARY KEY,
    key             TEXT    NOT NULL UNIQUE,
    coalesce_key    TEXT,
    channel         TEXT    NOT NULL,
    target          TEXT    NOT NULL,
    body            BLOB    NOT NULL,
    headers         TEXT    NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    enqueued_at_ms  INTEGER NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN
                        ('pending', 'delivered', 'dead_letter', 'dry_run', 'suppressed', 'coalesced')),
    is_action       INTEGER NOT NULL,
    rail_at_ms      INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    give_up_at_ms   INTEGER NOT NULL,
    reason          TEXT,
    status          INTEGER,
    done_at_ms      INTEGER
) STRICT;

CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_ms) WHERE state = 'pending';
CREATE UNIQUE INDEX IF NOT EXISTS outbox_coalesce ON outbox (channel, coalesce_key)
    WHERE state = 'pending' AND coalesce_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS outbox_rail_target ON outbox (channel, target, rail_at_ms)
    WHERE rail_at_ms IS NOT NULL;
CREATE INDEX IF NOT EXISTS outbox_rail_channel ON outbox (channel, rail_at_ms)
    WHERE rail_at_ms IS NOT NULL;
CREATE INDEX IF NOT EXISTS outbox_rail_action ON outbox (rail_at_ms)
    WHERE is_action = 1 AND rail_at_ms IS NOT NULL;
CREATE INDEX IF NOT EXISTS outbox_done ON outbox (done_at_ms) WHERE done_at_ms IS NOT NULL;

CREATE TABLE IF NOT EXISTS audit (
    id          INTEGER PRIMARY KEY,
    at_ms       INTEGER NOT NULL,
    key         TEXT    NOT NULL,
    channel     TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    attempt     INTEGER NOT NULL,
    duration_ms INTEGER,
    status      INTEGER,
    error       TEXT,
    outcome     TEXT    NOT NULL CHECK (outcome IN
                    ('delivered', 'retry', 'dead_letter', 'dry_run', 'suppressed', 'coalesced'))
) STRICT;

CREATE INDEX IF NOT EXISTS audit_key ON audit (key, id);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at_ms);
"#;
