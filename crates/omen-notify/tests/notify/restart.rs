//! Durability: what is in the outbox survives the dispatcher and the process.

use std::sync::Arc;
use std::time::Duration;

use omen_notify::{AuditOutcome, Dispatcher, Enqueued, EntryState, Notification, Outbox, now_ms};
use tokio::net::TcpListener;

use crate::support::{Reply, Target, always, channel, client, config, drained, eventually};

#[tokio::test]
async fn an_outage_across_a_restart_loses_nothing_and_sends_each_key_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.db");
    // The target is down: its port refuses connections.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/hook");
    let config = config(vec![channel("hook", &url)]);
    let keys: Vec<String> = (0..5).map(|i| format!("key-{i}")).collect();
    {
        let outbox = Outbox::open(&path, &config).unwrap();
        let dispatcher = Dispatcher::spawn(outbox.clone(), client());
        for key in &keys {
            let n = Notification::new(key, "hook", key, key.as_bytes().to_vec(), now_ms());
            assert_eq!(outbox.enqueue(n, now_ms()).unwrap(), Enqueued::Queued);
        }
        eventually("every key to fail once", || {
            keys.iter()
                .all(|k| outbox.entry(k).unwrap().unwrap().attempts >= 1)
        })
        .await;
        // A crash: the dispatcher is aborted, the outbox closed.
        drop(dispatcher);
        drop(outbox);
    }
    // The target recovers on the same port; Omen starts again from the same file.
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let target = Target::serve(listener, always(200));
    let outbox = Outbox::open(&path, &config).unwrap();
    assert_eq!(outbox.counts().unwrap().pending, keys.len() as u64);
    let dispatcher = Dispatcher::spawn(outbox.clone(), client());
    drained(&outbox).await;
    dispatcher.shutdown().await;
    for key in &keys {
        let got = target.received_for(key);
        assert_eq!(got.len(), 1, "{key}");
        assert_eq!(got[0].status, 200);
        assert_eq!(got[0].body, key.as_bytes());
        let audit = outbox.audit_of(key).unwrap();
        let (last, before) = audit.split_last().unwrap();
        assert_eq!(
            (last.outcome, last.status),
            (AuditOutcome::Delivered, Some(200))
        );
        assert!(
            !before.is_empty(),
            "the failures before the restart are in the audit log"
        );
        for row in before {
            assert_eq!(row.outcome, AuditOutcome::Retry);
            assert!(
                row.error
                    .as_deref()
                    .unwrap()
                    .starts_with("connection failed")
            );
        }
    }
    // Every key stays taken after delivery, and after another restart.
    drop(outbox);
    let outbox = Outbox::open(&path, &config).unwrap();
    let again = Notification::new(&keys[0], "hook", "x", Vec::new(), now_ms());
    assert_eq!(
        outbox.enqueue(again, now_ms()).unwrap(),
        Enqueued::Duplicate
    );
    assert_eq!(outbox.counts().unwrap().delivered, keys.len() as u64);
}

#[tokio::test]
async fn entries_enqueued_without_a_dispatcher_are_sent_at_the_next_start() {
    let target = Target::start(always(200)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.db");
    let config = config(vec![channel("hook", &target.url())]);
    {
        let outbox = Outbox::open(&path, &config).unwrap();
        let n = Notification::new("early", "hook", "t", b"{}".to_vec(), now_ms());
        outbox.enqueue(n, now_ms()).unwrap();
    }
    let outbox = Outbox::open(&path, &config).unwrap();
    let dispatcher = Dispatcher::spawn(outbox.clone(), client());
    drained(&outbox).await;
    dispatcher.shutdown().await;
    assert_eq!(target.received_for("early").len(), 1);
}

#[tokio::test]
async fn shutdown_lets_the_attempt_in_flight_finish() {
    let target = Target::start(Arc::new(|_, _| Reply {
        delay: Duration::from_millis(300),
        ..Reply::status(200)
    }))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(
        dir.path().join("outbox.db"),
        &config(vec![channel("hook", &target.url())]),
    )
    .unwrap();
    let dispatcher = Dispatcher::spawn(outbox.clone(), client());
    let n = Notification::new("slow", "hook", "t", b"{}".to_vec(), now_ms());
    outbox.enqueue(n, now_ms()).unwrap();
    eventually("the request to arrive", || target.received().len() == 1).await;
    dispatcher.shutdown().await;
    let entry = outbox.entry("slow").unwrap().unwrap();
    assert_eq!(entry.state, EntryState::Delivered);
    assert_eq!(outbox.stats().snapshot().in_flight, 0);
}

#[tokio::test]
async fn an_entry_whose_channel_was_removed_is_dead_lettered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.db");
    {
        let before = config(vec![channel("old", "http://127.0.0.1:9/x")]);
        let outbox = Outbox::open(&path, &before).unwrap();
        let n = Notification::new("k", "old", "t", b"{}".to_vec(), now_ms());
        outbox.enqueue(n, now_ms()).unwrap();
    }
    let target = Target::start(always(200)).await;
    let outbox = Outbox::open(&path, &config(vec![channel("new", &target.url())])).unwrap();
    let dispatcher = Dispatcher::spawn(outbox.clone(), client());
    drained(&outbox).await;
    dispatcher.shutdown().await;
    let dead = outbox.dead_letters().unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        dead[0].reason.as_deref(),
        Some("the channel `old` is no longer configured")
    );
    assert!(target.received().is_empty());
}
