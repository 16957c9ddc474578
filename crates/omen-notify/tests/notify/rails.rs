//! Decisions at enqueue: duplicates, coalescing, the cooldown, the rate limit and the global
//! cap on actions, with the clock driven by the test. No dispatcher runs here.

use std::time::Duration;

use omen_notify::{
    AuditOutcome, ChannelKind, Enqueued, EntryState, Error, Notification, NotifyConfig, Outbox,
    RateLimit, SuppressReason,
};

use crate::support::{channel, config};

const MINUTE: i64 = 60_000;

fn n(key: &str, channel: &str, target: &str) -> Notification {
    Notification::new(key, channel, target, b"{}".to_vec(), 0)
}

fn open(config: &NotifyConfig) -> (tempfile::TempDir, Outbox) {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(dir.path().join("outbox.db"), config).unwrap();
    (dir, outbox)
}

#[test]
fn a_key_seen_before_is_a_no_op_in_every_state() {
    let mut cooled = channel("hook", "http://127.0.0.1:9/");
    cooled.cooldown = Duration::from_secs(60);
    let (dir, outbox) = open(&config(vec![cooled.clone()]));
    assert_eq!(
        outbox.enqueue(n("a", "hook", "t"), 0).unwrap(),
        Enqueued::Queued
    );
    let mut changed = n("a", "hook", "other target");
    changed.body = b"different".to_vec();
    assert_eq!(
        outbox.enqueue(changed, MINUTE * 10).unwrap(),
        Enqueued::Duplicate
    );
    assert_eq!(outbox.entry("a").unwrap().unwrap().body, b"{}");
    // A suppressed key is taken too.
    assert_eq!(
        outbox.enqueue(n("b", "hook", "t"), 1).unwrap(),
        Enqueued::Suppressed(SuppressReason::Cooldown)
    );
    assert_eq!(
        outbox.enqueue(n("b", "hook", "t"), MINUTE * 10).unwrap(),
        Enqueued::Duplicate
    );
    let path = outbox.path().to_owned();
    drop(outbox);
    let outbox = Outbox::open(&path, &config(vec![cooled])).unwrap();
    assert_eq!(
        outbox.enqueue(n("a", "hook", "t"), MINUTE * 20).unwrap(),
        Enqueued::Duplicate
    );
    assert_eq!(outbox.counts().unwrap().pending, 1);
    let stats = outbox.stats().snapshot();
    assert_eq!(stats.duplicates, 1, "stats are per process");
    drop(dir);
}

#[test]
fn cooldown_is_per_channel_and_target() {
    let mut cooled = channel("hook", "http://127.0.0.1:9/");
    cooled.cooldown = Duration::from_secs(600);
    let other = channel("other", "http://127.0.0.1:9/");
    let (_dir, outbox) = open(&config(vec![cooled, other]));
    let cases = [
        ("1", "hook", "A", 0, Enqueued::Queued),
        (
            "2",
            "hook",
            "A",
            5 * MINUTE,
            Enqueued::Suppressed(SuppressReason::Cooldown),
        ),
        ("3", "hook", "B", 5 * MINUTE, Enqueued::Queued),
        ("4", "other", "A", 5 * MINUTE, Enqueued::Queued),
        (
            "5",
            "hook",
            "A",
            10 * MINUTE - 1,
            Enqueued::Suppressed(SuppressReason::Cooldown),
        ),
        ("6", "hook", "A", 10 * MINUTE, Enqueued::Queued),
        (
            "7",
            "hook",
            "A",
            15 * MINUTE,
            Enqueued::Suppressed(SuppressReason::Cooldown),
        ),
    ];
    for (key, channel, target, at, want) in cases {
        assert_eq!(
            outbox.enqueue(n(key, channel, target), at).unwrap(),
            want,
            "{key}"
        );
    }
    let entry = outbox.entry("2").unwrap().unwrap();
    assert_eq!(
        (entry.state, entry.reason.as_deref()),
        (EntryState::Suppressed, Some("cooldown"))
    );
    let audit = outbox.audit_of("2").unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (audit[0].attempt, audit[0].outcome),
        (0, AuditOutcome::Suppressed)
    );
    assert_eq!(audit[0].error.as_deref(), Some("cooldown"));
    let stats = outbox.stats().snapshot();
    assert_eq!(stats.suppressed[0], (SuppressReason::Cooldown, 3));
    assert_eq!(stats.queued, 4);
    let per_channel: Vec<(&str, u64, u64)> = stats
        .channels
        .iter()
        .map(|(name, c)| (name.as_str(), c.queued, c.suppressed))
        .collect();
    assert_eq!(per_channel, [("hook", 3, 3), ("other", 1, 0)]);
}

#[test]
fn the_rate_limit_is_a_sliding_window_per_channel() {
    let mut limited = channel("hook", "http://127.0.0.1:9/");
    limited.rate_limit = Some(RateLimit {
        max: 2,
        per: Duration::from_secs(60),
    });
    let other = channel("other", "http://127.0.0.1:9/");
    let (_dir, outbox) = open(&config(vec![limited, other]));
    let cases = [
        ("1", "hook", 0, Enqueued::Queued),
        ("2", "hook", 30_000, Enqueued::Queued),
        (
            "3",
            "hook",
            40_000,
            Enqueued::Suppressed(SuppressReason::RateLimit),
        ),
        ("4", "other", 40_000, Enqueued::Queued),
        // "1" leaves the window; "3" never took a slot.
        ("5", "hook", MINUTE + 1, Enqueued::Queued),
        (
            "6",
            "hook",
            MINUTE + 2,
            Enqueued::Suppressed(SuppressReason::RateLimit),
        ),
        ("7", "hook", 90_001, Enqueued::Queued),
    ];
    for (key, channel, at, want) in cases {
        assert_eq!(
            outbox.enqueue(n(key, channel, key), at).unwrap(),
            want,
            "{key}"
        );
    }
    assert_eq!(
        outbox.audit_of("3").unwrap()[0].error.as_deref(),
        Some("rate_limit")
    );
}

#[test]
fn the_global_cap_counts_actions_on_every_channel_and_survives_a_restart() {
    let mut restart = channel("restart", "http://127.0.0.1:9/");
    restart.kind = ChannelKind::Action;
    let mut scale = channel("scale", "http://127.0.0.1:9/");
    scale.kind = ChannelKind::Action;
    let pager = channel("pager", "http://127.0.0.1:9/");
    let mut capped = config(vec![restart, scale, pager]);
    capped.max_actions_per_hour = Some(3);
    let (_dir, outbox) = open(&capped);
    let cap = Enqueued::Suppressed(SuppressReason::GlobalCap);
    let cases = [
        ("1", "restart", 0, Enqueued::Queued),
        ("2", "scale", 1, Enqueued::Queued),
        ("3", "restart", 2, Enqueued::Queued),
        ("4", "scale", 3, cap.clone()),
        ("5", "pager", 4, Enqueued::Queued),
    ];
    for (key, channel, at, want) in cases {
        assert_eq!(
            outbox.enqueue(n(key, channel, key), at).unwrap(),
            want,
            "{key}"
        );
    }
    let path = outbox.path().to_owned();
    drop(outbox);
    let outbox = Outbox::open(&path, &capped).unwrap();
    assert_eq!(
        outbox.enqueue(n("6", "restart", "6"), 30 * MINUTE).unwrap(),
        cap
    );
    // An hour after the first, its slot is free again (and only its).
    assert_eq!(
        outbox.enqueue(n("7", "scale", "7"), 60 * MINUTE).unwrap(),
        Enqueued::Queued
    );
    assert_eq!(
        outbox.enqueue(n("8", "scale", "8"), 60 * MINUTE).unwrap(),
        cap
    );
    let audit = outbox.audit(10).unwrap();
    assert_eq!(audit[0].key, "8", "most recent first");
    assert_eq!(audit[0].error.as_deref(), Some("global_cap"));
    assert_eq!(outbox.counts().unwrap().suppressed, 3);
}

#[test]
fn coalescing_replaces_the_undelivered_entry_and_keeps_its_slot() {
    let mut limited = channel("hook", "http://127.0.0.1:9/");
    limited.rate_limit = Some(RateLimit {
        max: 1,
        per: Duration::from_secs(3600),
    });
    let (_dir, outbox) = open(&config(vec![
        limited,
        channel("other", "http://127.0.0.1:9/"),
    ]));
    let firing = n("alert-1-firing", "hook", "alert-1").with_coalesce_key("alert-1");
    let mut resolved = n("alert-1-resolved", "hook", "alert-1").with_coalesce_key("alert-1");
    resolved.body = b"resolved".to_vec();
    assert_eq!(outbox.enqueue(firing, 0).unwrap(), Enqueued::Queued);
    assert_eq!(outbox.enqueue(resolved, 1).unwrap(), Enqueued::Coalesced);
    let pending = outbox.pending().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (pending[0].key.as_str(), pending[0].body.as_slice()),
        ("alert-1-resolved", &b"resolved"[..])
    );
    let old = outbox.entry("alert-1-firing").unwrap().unwrap();
    assert_eq!(old.state, EntryState::Coalesced);
    assert_eq!(old.reason.as_deref(), Some("replaced by alert-1-resolved"));
    assert_eq!(
        outbox.audit_of("alert-1-firing").unwrap()[0].outcome,
        AuditOutcome::Coalesced
    );
    // The replacement took the old slot: the limit of 1 is still used up once.
    assert_eq!(
        outbox.enqueue(n("unrelated", "hook", "x"), 2).unwrap(),
        Enqueued::Suppressed(SuppressReason::RateLimit)
    );
    // The same coalesce key on another channel is another group.
    let elsewhere = n("elsewhere", "other", "alert-1").with_coalesce_key("alert-1");
    assert_eq!(outbox.enqueue(elsewhere, 3).unwrap(), Enqueued::Queued);
    // The replaced key stays taken.
    let again = n("alert-1-firing", "hook", "alert-1").with_coalesce_key("alert-1");
    assert_eq!(outbox.enqueue(again, 4).unwrap(), Enqueued::Duplicate);
    let stats = outbox.stats().snapshot();
    assert_eq!((stats.queued, stats.coalesced), (2, 1));
}

#[test]
fn notifications_that_cannot_be_sent_are_refused() {
    let (_dir, outbox) = open(&config(vec![channel("hook", "http://127.0.0.1:9/")]));
    let error = outbox.enqueue(n("k", "nope", "t"), 0).unwrap_err();
    assert!(matches!(error, Error::UnknownChannel { .. }), "{error}");
    assert!(error.to_string().contains("nope"));
    let error = outbox.enqueue(n("", "hook", "t"), 0).unwrap_err();
    assert!(
        matches!(error, Error::InvalidNotification { .. }),
        "{error}"
    );
    let error = outbox.enqueue(n("k\n", "hook", "t"), 0).unwrap_err();
    assert!(
        matches!(error, Error::InvalidNotification { .. }),
        "{error}"
    );
    let bad_header = n("k", "hook", "t").with_header("bad header", "x");
    let error = outbox.enqueue(bad_header, 0).unwrap_err();
    assert!(error.to_string().contains("bad header"), "{error}");
    assert_eq!(outbox.counts().unwrap(), Default::default());
}

#[test]
fn finished_entries_are_purged_after_the_retention() {
    let mut cooled = channel("hook", "http://127.0.0.1:9/");
    cooled.cooldown = Duration::from_secs(60);
    let mut short = config(vec![cooled]);
    short.retention = Duration::from_secs(3600);
    let (_dir, outbox) = open(&short);
    outbox.enqueue(n("sent", "hook", "t"), 0).unwrap();
    outbox.enqueue(n("held", "hook", "t"), 1).unwrap();
    assert_eq!(outbox.counts().unwrap().suppressed, 1);
    // Pending entries are never purged; the suppressed one and its audit row go.
    assert_eq!(outbox.purge(2 * 3_600_000).unwrap(), 2);
    assert_eq!(outbox.counts().unwrap().pending, 1);
    assert!(outbox.entry("held").unwrap().is_none());
    // Past the retention, the key is new again.
    let again = outbox
        .enqueue(n("held", "hook", "u"), 2 * 3_600_000)
        .unwrap();
    assert_eq!(again, Enqueued::Queued);
}

#[tokio::test]
async fn enqueue_async_runs_off_the_runtime_threads() {
    let (_dir, outbox) = open(&config(vec![channel("hook", "http://127.0.0.1:9/")]));
    let outcome = outbox.enqueue_async(n("k", "hook", "t"), 0).await.unwrap();
    assert_eq!(outcome, Enqueued::Queued);
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.db");
    let plain = config(Vec::new());
    drop(Outbox::open(&path, &plain).unwrap());
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection.pragma_update(None, "user_version", 99).unwrap();
    drop(connection);
    let error = Outbox::open(&path, &plain).unwrap_err();
    assert!(
        matches!(error, Error::NewerSchema { version: 99, .. }),
        "{error}"
    );
}

#[test]
fn a_batch_is_one_transaction_decided_in_order() {
    let mut limited = channel("hook", "http://127.0.0.1:9/");
    limited.rate_limit = Some(RateLimit {
        max: 2,
        per: Duration::from_secs(60),
    });
    let (_dir, outbox) = open(&config(vec![limited]));
    let batch = vec![
        n("a", "hook", "t").with_coalesce_key("c"),
        n("a", "hook", "t"),
        n("b", "hook", "t").with_coalesce_key("c"),
        n("c", "hook", "t"),
        n("d", "hook", "t"),
    ];
    let outcomes = outbox.enqueue_batch(batch, 0).unwrap();
    assert_eq!(
        outcomes,
        [
            Enqueued::Queued,
            Enqueued::Duplicate,
            Enqueued::Coalesced,
            Enqueued::Queued,
            Enqueued::Suppressed(SuppressReason::RateLimit),
        ]
    );
    // One bad notification: nothing of the batch is stored.
    let bad = vec![n("e", "hook", "t"), n("f", "missing", "t")];
    assert!(outbox.enqueue_batch(bad, 1).is_err());
    assert!(outbox.entry("e").unwrap().is_none());
}
