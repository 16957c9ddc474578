//! Delivery against real listeners: retries, dead letters, timeouts, garbage, TLS failures,
//! dry runs, headers and signatures.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use omen_notify::{
    AuditOutcome, Dispatcher, EntryState, Notification, NotifyConfig, Outbox, now_ms, verify,
};

use crate::support::{
    RawTarget, Reply, SECRET, Target, always, channel, client, config, drained, eventually,
};

fn notification(key: &str, channel: &str, body: &str) -> Notification {
    Notification::new(key, channel, "target-1", body.as_bytes().to_vec(), now_ms())
}

fn open(config: &NotifyConfig) -> (tempfile::TempDir, Outbox) {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(dir.path().join("outbox.db"), config).unwrap();
    (dir, outbox)
}

#[tokio::test]
async fn a_flaky_target_gets_each_key_once_with_200_and_a_valid_signature() {
    // 500 to the first two attempts of every key, then 200.
    let target = Target::start(Arc::new(|_, before| {
        Reply::status(if before < 2 { 500 } else { 200 })
    }))
    .await;
    let (_dir, outbox) = open(&config(vec![channel("hook", &target.url())]));
    let dispatcher = Dispatcher::spawn(outbox.clone(), client());
    let keys = ["k-1", "k-2", "k-3"];
    for key in keys {
        let body = format!(r#"{{"key":"{key}"}}"#);
        outbox
            .enqueue(notification(key, "hook", &body), now_ms())
            .unwrap();
    }
    eventually("three deliveries", || {
        outbox.counts().unwrap().delivered == 3
    })
    .await;
    dispatcher.shutdown().await;

    let now = now_ms() / 1000;
    for key in keys {
        let got = target.received_for(key);
        let statuses: Vec<u16> = got.iter().map(|r| r.status).collect();
        assert_eq!(statuses, [500, 500, 200], "{key}");
        for request in &got {
            let timestamp: i64 = request.header("x-omen-timestamp").unwrap().parse().unwrap();
            let signature = request.header("x-omen-signature").unwrap();
            verify(
                SECRET.as_bytes(),
                signature,
                timestamp,
                &request.body,
                now,
                Duration::from_secs(60),
            )
            .unwrap();
            assert_eq!(request.body, format!(r#"{{"key":"{key}"}}"#).as_bytes());
            assert_eq!(request.header("content-type"), Some("application/json"));
            assert!(request.header("user-agent").unwrap().starts_with("Omen/"));
        }
        let audit = outbox.audit_of(key).unwrap();
        let rows: Vec<(u32, Option<u16>, AuditOutcome)> = audit
            .iter()
            .map(|a| (a.attempt, a.status, a.outcome))
            .collect();
        assert_eq!(
            rows,
            [
                (1, Some(500), AuditOutcome::Retry),
                (2, Some(500), AuditOutcome::Retry),
                (3, Some(200), AuditOutcome::Delivered)
            ],
            "{key}"
        );
        assert!(
            audit
                .iter()
                .all(|a| a.duration_ms.is_some() && a.channel == "hook")
        );
        let entry = outbox.entry(key).unwrap().unwrap();
        assert_eq!(
            (entry.state, entry.attempts, entry.status),
            (EntryState::Delivered, 3, Some(200))
        );
    }
    let stats = outbox.stats().snapshot();
    assert_eq!((stats.queued, stats.delivered, stats.retried), (3, 3, 6));
    assert_eq!((stats.attempts, stats.in_flight, stats.pending), (9, 0, 0));
    assert_eq!(stats.failures[0], ("status", 6));
    assert_eq!(stats.channels.len(), 1);
    let (name, hook) = &stats.channels[0];
    assert_eq!(name, "hook");
    assert_eq!(
        (
            hook.queued,
            hook.delivered,
            hook.retried,
            hook.dead_lettered
        ),
        (3, 3, 6, 0)
    );
}

#[tokio::test]
async fn client_errors_go_to_the_dead_letters_at_once() {
    let target = Target::start(Arc::new(|request, _| {
        let status = request.key().trim_start_matches("k-").parse().unwrap();
        Reply {
            body: "x".repeat(1000),
            ..Reply::status(status)
        }
    }))
    .await;
    let (_dir, outbox) = open(&config(vec![channel("hook", &target.url())]));
    let dispatcher = Dispatcher::spawn(outbox.clone(), client());
    let codes = [400, 401, 403, 404, 409, 410, 413, 422];
    for code in codes {
        outbox
            .enqueue(notification(&format!("k-{code}"), "hook", "{}"), now_ms())
            .unwrap();
    }
    drained(&outbox).await;
    dispatcher.shutdown().await;
    let dead = outbox.dead_letters().unwrap();
    assert_eq!(dead.len(), codes.len());
    for code in codes {
        let key = format!("k-{code}");
        assert_eq!(target.received_for(&key).len(), 1, "{key} was sent again");
        let entry = dead.iter().find(|e| e.key == key).unwrap();
        assert_eq!((entry.status, entry.attempts), (Some(code), 1));
        let reason = entry.reason.as_deref().unwrap();
        assert_eq!(reason, format!("HTTP {code}: {}", "x".repeat(512)), "{key}");
        let audit = outbox.audit_of(&key).unwrap();
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].outcome, AuditOutcome::DeadLetter);
    }
    assert_eq!(outbox.stats().snapshot().retried, 0);
}

#[tokio::test]
async fn retry_after_sets_the_next_attempt() {
    let target = Target::start(Arc::new(|_, before| {
        if before == 0 {
            Reply {
                headers: vec![("retry-after", "1".into())],
                ..Reply::status(429)
            }
        } else {
            Reply::status(200)
        }
    }))
    .await;
    let (_dir, outbox) = open(&config(vec![channel("hook", &target.url())]));
    let dispatcher = Dispatcher::spawn(outbox.clone(), client());
    outbox
        .enqueue(notification("k", "hook", "{}"), now_ms())
        .unwrap();
    eventually("the 429 to be recorded", || {
        !outbox.audit_of("k").unwrap().is_empty()
    })
    .await;
    let first = outbox.audit_of("k").unwrap().remove(0);
    assert_eq!(
        (first.status, first.outcome),
        (Some(429), AuditOutcome::Retry)
    );
    let entry = outbox.entry("k").unwrap().unwrap();
    // The audit row is stamped a moment after the time the retry was scheduled from, so allow
    // a little; without Retry-After the backoff here is 5 ms.
    assert!(
        entry.next_attempt_ms >= first.at_ms + 900,
        "next attempt {} ms after the 429",
        entry.next_attempt_ms - first.at_ms
    );
    drained(&outbox).await;
    dispatcher.shutdown().await;
    assert_eq!(
        outbox.entry("k").unwrap().unwrap().state,
        EntryState::Delivered
    );
}

#[tokio::test]
async fn a_target_slower_than_the_timeout_is_retried() {
    let target = Target::start(Arc::new(|_, before| Reply {
        delay: if before == 0 {
            Duration::from_secs(2)
        } else {
            Duration::ZERO
        },
        ..Reply::status(200)
    }))
    .await;
    let mut slow = channel("hook", &target.url());
    slow.timeout = Duration::from_millis(100);
    let (_dir, outbox) = open(&config(vec![slow]));
    let dispatcher = Dispatcher::spawn(outbox.clone(), client());
    outbox
        .enqueue(notification("k", "hook", "{}"), now_ms())
        .unwrap();
    drained(&outbox).await;
    dispatcher.shutdown().await;
    let audit = outbox.audit_of("k").unwrap();
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert_eq!(audit[0].outcome, AuditOutcome::Retry);
    assert_eq!(audit[0].status, None);
    assert_eq!(audit[0].error.as_deref(), Some("timed out after 100ms"));
    assert_eq!(audit[1].outcome, AuditOutcome::Delivered);
    let stats = outbox.stats().snapshot();
    assert!(stats.failures.contains(&("timeout", 1)), "{stats:?}");
}

#[tokio::test]
async fn an_answer_that_is_not_http_is_retried() {
    let target = RawTarget::start(b"\x00\x01garbage, not HTTP\r\n\r\n", 2).await;
    let url = format!("http://{}/hook", target.addr);
    let (_dir, outbox) = open(&config(vec![channel("hook", &url)]));
    let dispatcher = Dispatcher::spawn(outbox.clone(), client());
    outbox
        .enqueue(notification("k", "hook", "{}"), now_ms())
        .unwrap();
    drained(&outbox).await;
    dispatcher.shutdown().await;
    let audit = outbox.audit_of("k").unwrap();
    let outcomes: Vec<AuditOutcome> = audit.iter().map(|a| a.outcome).collect();
    assert_eq!(
        outcomes,
        [
            AuditOutcome::Retry,
            AuditOutcome::Retry,
            AuditOutcome::Delivered
        ],
        "{audit:?}"
    );
    for row in &audit[..2] {
        let error = row.error.as_deref().unwrap();
        assert!(error.starts_with("the answer is not HTTP"), "{error}");
    }
    let stats = outbox.stats().snapshot();
    assert!(stats.failures.contains(&("protocol", 2)), "{stats:?}");
    assert_eq!(target.connections.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn https_to_a_plain_listener_is_a_tls_failure_retried_then_dead_lettered() {
    let target = RawTarget::start(
        b"HTTP/1.1 400 Bad Request\r\n\r\nthis is not TLS",
        usize::MAX,
    )
    .await;
    let url = format!("https://{}/hook", target.addr);
    let mut tls = channel("hook", &url);
    tls.retry.give_up_after = Duration::from_millis(300);
    let (_dir, outbox) = open(&config(vec![tls]));
    let dispatcher = Dispatcher::spawn(outbox.clone(), client());
    outbox
        .enqueue(notification("k", "hook", "{}"), now_ms())
        .unwrap();
    drained(&outbox).await;
    dispatcher.shutdown().await;
    let audit = outbox.audit_of("k").unwrap();
    assert!(audit.len() >= 2, "{audit:?}");
    let (last, retries) = audit.split_last().unwrap();
    for row in retries {
        assert_eq!(row.outcome, AuditOutcome::Retry);
        let error = row.error.as_deref().unwrap();
        assert!(error.starts_with("TLS handshake failed"), "{error}");
    }
    assert_eq!(last.outcome, AuditOutcome::DeadLetter);
    assert_eq!(target.connections.load(Ordering::SeqCst), audit.len());
    let dead = outbox.dead_letters().unwrap();
    let reason = dead[0].reason.as_deref().unwrap();
    assert!(
        reason.starts_with("gave up after") && reason.contains("TLS"),
        "{reason}"
    );
    let stats = outbox.stats().snapshot();
    assert_eq!(stats.dead_lettered, 1);
    assert!(
        stats.failures.iter().any(|&(k, n)| k == "tls" && n >= 2),
        "{stats:?}"
    );
}

#[tokio::test]
async fn a_refused_connection_is_retried() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut down = channel("hook", &format!("http://127.0.0.1:{port}/hook"));
    down.retry.give_up_after = Duration::from_millis(200);
    let (_dir, outbox) = open(&config(vec![down]));
    let dispatcher = Dispatcher::spawn(outbox.clone(), client());
    outbox
        .enqueue(notification("k", "hook", "{}"), now_ms())
        .unwrap();
    drained(&outbox).await;
    dispatcher.shutdown().await;
    let audit = outbox.audit_of("k").unwrap();
    assert!(audit.len() >= 2, "{audit:?}");
    let error = audit[0].error.as_deref().unwrap();
    assert!(error.starts_with("connection failed"), "{error}");
    assert_eq!(
        outbox.entry("k").unwrap().unwrap().state,
        EntryState::DeadLetter
    );
}

#[tokio::test]
async fn dry_run_sends_nothing() {
    let target = Target::start(always(200)).await;
    let mut per_channel = channel("quiet", &target.url());
    per_channel.dry_run = true;
    let loud = channel("loud", &target.url());
    let (_dir, outbox) = open(&config(vec![per_channel, loud.clone()]));
    let dispatcher = Dispatcher::spawn(outbox.clone(), client());
    outbox
        .enqueue(notification("q", "quiet", "{}"), now_ms())
        .unwrap();
    drained(&outbox).await;
    dispatcher.shutdown().await;

    let mut global = config(vec![loud]);
    global.dry_run = true;
    let (_dir2, outbox2) = open(&global);
    let dispatcher = Dispatcher::spawn(outbox2.clone(), client());
    outbox2
        .enqueue(notification("l", "loud", "{}"), now_ms())
        .unwrap();
    drained(&outbox2).await;
    dispatcher.shutdown().await;

    assert!(target.received().is_empty(), "{:?}", target.received());
    for (outbox, key) in [(&outbox, "q"), (&outbox2, "l")] {
        assert_eq!(
            outbox.entry(key).unwrap().unwrap().state,
            EntryState::DryRun
        );
        let audit = outbox.audit_of(key).unwrap();
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].outcome, AuditOutcome::DryRun);
        let stats = outbox.stats().snapshot();
        assert_eq!((stats.dry_run, stats.attempts, stats.delivered), (1, 0, 0));
    }
}

#[tokio::test]
async fn headers_stack_channel_then_notification_then_omen() {
    let target = Target::start(always(204)).await;
    let mut hook = channel("hook", &target.url());
    hook.secret = None;
    hook.method = "PUT".into();
    hook.headers
        .insert("Authorization".into(), "Bearer abc".into());
    hook.headers.insert("X-Team".into(), "channel".into());
    let (_dir, outbox) = open(&config(vec![hook]));
    let dispatcher = Dispatcher::spawn(outbox.clone(), client());
    let n = notification("k", "hook", "plain text")
        .with_header("Content-Type", "text/plain")
        .with_header("X-Team", "notification")
        .with_header("Idempotency-Key", "forged");
    outbox.enqueue(n, now_ms()).unwrap();
    drained(&outbox).await;
    dispatcher.shutdown().await;
    let got = target.received();
    assert_eq!(got.len(), 1);
    let request = &got[0];
    assert_eq!(request.header("content-type"), Some("text/plain"));
    assert_eq!(request.header("authorization"), Some("Bearer abc"));
    assert_eq!(request.header("x-team"), Some("notification"));
    assert_eq!(request.header("idempotency-key"), Some("k"));
    assert_eq!(
        request.header("x-omen-signature"),
        None,
        "no secret, no signature"
    );
    assert!(request.header("x-omen-timestamp").is_some());
    assert_eq!(outbox.entry("k").unwrap().unwrap().status, Some(204));
}

#[tokio::test]
async fn an_enqueue_wakes_an_idle_dispatcher() {
    let target = Target::start(always(200)).await;
    let (_dir, outbox) = open(&config(vec![channel("hook", &target.url())]));
    let dispatcher = Dispatcher::spawn(outbox.clone(), client());
    // Let the dispatcher find the outbox empty and go to sleep (for up to a minute).
    tokio::time::sleep(Duration::from_millis(100)).await;
    outbox
        .enqueue(notification("k", "hook", "{}"), now_ms())
        .unwrap();
    eventually("the delivery", || target.received().len() == 1).await;
    dispatcher.shutdown().await;
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_is_final() {
    let target = Target::start(Arc::new(|_, _| Reply {
        headers: vec![("location", "/elsewhere".into())],
        ..Reply::status(302)
    }))
    .await;
    let (_dir, outbox) = open(&config(vec![channel("hook", &target.url())]));
    let dispatcher = Dispatcher::spawn(outbox.clone(), client());
    outbox
        .enqueue(notification("k", "hook", "{}"), now_ms())
        .unwrap();
    drained(&outbox).await;
    dispatcher.shutdown().await;
    assert_eq!(target.received().len(), 1, "the redirect was followed");
    let entry = outbox.entry("k").unwrap().unwrap();
    assert_eq!(
        (entry.state, entry.status),
        (EntryState::DeadLetter, Some(302))
    );
}
