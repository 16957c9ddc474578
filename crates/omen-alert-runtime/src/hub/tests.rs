//! The hub driven by a [`ManualClock`]: what reaches the outbox and `alerts.db`, and when,
//! without a thread or a sleep (but one test of the thread's loop).

use std::collections::HashMap;
use std::time::Duration;

use omen_alert::{AlertConfig, AlertEvent, Observation};
use omen_core::Labels;
use omen_core::{Contributions, ModelKind, Score, Status};
use omen_notify::{NotifyConfig, OutboxEntry};
use tempfile::TempDir;

use super::*;
use crate::clock::ManualClock;

/// The start of every test's clock: 2025-12-01T00:00:00Z.
const T0: i64 = 1_764_547_200_000;
const SECOND: i64 = 1_000;

const RULES: &str = r#"
[[rules]]
name = "Latency"
match = ['{__name__="latency"}']
for = "0s"
keep_firing_for = "0s"

[grouping]
group_wait = "5s"
group_interval = "1m"
"#;

const CHANNELS: &str = r#"
[[channels]]
name = "am"
kind = "alertmanager"
url = "http://127.0.0.1:9/api/v2/alerts"

[[channels]]
name = "chat"
kind = "webhook"
url = "http://127.0.0.1:9/hook"
"#;

/// A hub over fresh files in `dir`, with a resend interval of one minute.
struct Fixture {
    _dir: TempDir,
    hub: Hub,
    clock: Arc<ManualClock>,
    rules: Arc<CompiledAlerts>,
}

fn fixture(restored: HashMap<Vec<u8>, Vec<omen_alert::FiringState>>) -> Fixture {
    let dir = TempDir::new().unwrap();
    let alert: AlertConfig = toml::from_str(RULES).unwrap();
    let notify: NotifyConfig = toml::from_str(CHANNELS).unwrap();
    let rules = Arc::new(alert.validate().unwrap());
    let outbox = Outbox::open(dir.path().join("outbox.db"), &notify).unwrap();
    let store = Store::open(&dir.path().join("alerts.db")).unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let hub = Hub {
        rules: rules.clone(),
        outbox,
        store: Arc::new(Mutex::new(store)),
        clock: clock.clone(),
        alertmanagers: vec!["am".into()],
        webhooks: vec![("chat".into(), Grouper::new(&rules, "chat"))],
        resend: Duration::from_secs(60),
        active: BTreeMap::new(),
        last_resend_ms: T0,
        restored: Arc::new(Restored::new(restored)),
        unclaimed: Vec::new(),
        unclaimed_deadline_ms: T0 + 15 * 60 * SECOND,
    };
    Fixture {
        _dir: dir,
        hub,
        clock,
        rules,
    }
}

fn latency(instance: &str) -> Labels {
    Labels::from_pairs(&[
        ("__name__".to_string(), "latency".to_string()),
        ("instance".to_string(), instance.to_string()),
    ])
}

fn score(s: f64) -> Score {
    let mut contributions = Contributions::default();
    contributions.push(ModelKind::Robust, s);
    Score {
        score: s,
        expected: 100.0,
        lower: 95.0,
        upper: 105.0,
        status: Status::Ready,
        contributions,
    }
}

/// The events of one series' samples, `(time, score)`, through the real lifecycle.
fn events(rules: &CompiledAlerts, series: &Labels, samples: &[(i64, f64)]) -> Vec<AlertEvent> {
    let mut alerts = rules.for_series(series);
    let mut out = Vec::new();
    for &(t, s) in samples {
        let score = score(s);
        let observation = Observation {
            labels: series,
            timestamp_ms: t,
            value: 150.0,
            score: &score,
            season_period_ms: None,
            last_change_ms: None,
        };
        alerts.observe(rules, &observation, &mut out);
    }
    out
}

/// What the outbox holds for `channel`, as `target` names, oldest first.
fn sent(hub: &Hub, channel: &str) -> Vec<OutboxEntry> {
    let mut entries: Vec<OutboxEntry> = hub
        .outbox
        .pending()
        .unwrap()
        .into_iter()
        .filter(|e| e.channel == channel)
        .collect();
    entries.sort_by_key(|e| e.enqueued_at_ms);
    entries
}

fn active(hub: &Hub) -> usize {
    hub.store.lock().unwrap().active().unwrap().len()
}

#[test]
fn a_firing_alert_reaches_alertmanager_at_once_and_is_resent_each_interval() {
    let mut f = fixture(HashMap::new());
    let firing = events(&f.rules, &latency("a"), &[(T0, 0.99)]);
    assert_eq!(firing.len(), 1, "one firing event");
    f.hub.handle(firing, f.clock.now_ms());
    assert_eq!(sent(&f.hub, "am").len(), 1, "sent at once");
    assert_eq!(active(&f.hub), 1, "recorded as firing");

    // (clock step, Alertmanager bodies in the outbox after the tick)
    for (step, want) in [(30, 1), (29, 1), (1, 2), (59, 2), (1, 3)] {
        f.clock.advance(Duration::from_secs(step));
        f.hub.tick(f.clock.now_ms());
        assert_eq!(
            sent(&f.hub, "am").len(),
            want,
            "at +{}s",
            (f.clock.now_ms() - T0) / SECOND
        );
    }
    let resend = sent(&f.hub, "am").pop().unwrap();
    assert_eq!(resend.target, "resend");
}

#[test]
fn webhook_groups_wait_for_group_wait() {
    let mut f = fixture(HashMap::new());
    let mut firing = events(&f.rules, &latency("a"), &[(T0, 0.99)]);
    firing.extend(events(&f.rules, &latency("b"), &[(T0, 0.99)]));
    f.hub.handle(firing, f.clock.now_ms());
    assert!(sent(&f.hub, "chat").is_empty(), "nothing before group_wait");
    f.clock.advance(Duration::from_millis(4_999));
    f.hub.tick(f.clock.now_ms());
    assert!(sent(&f.hub, "chat").is_empty(), "nothing before group_wait");
    f.clock.advance(Duration::from_millis(1));
    f.hub.tick(f.clock.now_ms());
    let groups = sent(&f.hub, "chat");
    assert_eq!(groups.len(), 1, "both alerts in one group notification");
    let body: serde_json::Value = serde_json::from_slice(&groups[0].body).unwrap();
    assert_eq!(body["alerts"].as_array().unwrap().len(), 2, "{body}");
}

#[test]
fn a_resolved_alert_is_no_longer_resent() {
    let mut f = fixture(HashMap::new());
    let series = latency("a");
    let all = events(&f.rules, &series, &[(T0, 0.99), (T0 + 10 * SECOND, 0.1)]);
    let kinds: Vec<&str> = all.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["firing", "resolved"]);
    f.hub.handle(all, f.clock.now_ms());
    assert_eq!(active(&f.hub), 0);
    let before = sent(&f.hub, "am").len();
    f.clock.advance(Duration::from_secs(61));
    f.hub.tick(f.clock.now_ms());
    assert_eq!(
        sent(&f.hub, "am").len(),
        before,
        "no resend of a resolved alert"
    );
}

#[test]
fn restored_alerts_whose_series_never_returns_are_resolved_at_the_deadline() {
    // An alert firing at the last stop, its series gone since.
    let mut first = fixture(HashMap::new());
    let series = latency("gone");
    let firing = events(&first.rules, &series, &[(T0, 0.99)]);
    let alert = firing[0].alert.clone();
    first.hub.handle(firing, T0);
    let saved = first.hub.store.lock().unwrap().active().unwrap();
    let mut restored = HashMap::new();
    restored.insert(
        series.as_bytes().to_vec(),
        saved.iter().map(|a| a.state.clone()).collect(),
    );

    let mut f = fixture(restored);
    f.hub
        .active
        .insert(alert.fingerprint.clone(), alert.clone());
    f.hub
        .unclaimed
        .push((series.as_bytes().to_vec(), alert.fingerprint.clone()));
    f.clock.set(f.hub.unclaimed_deadline_ms - 1);
    f.hub.last_resend_ms = f.clock.now_ms();
    f.hub.tick(f.clock.now_ms());
    assert!(sent(&f.hub, "am").is_empty(), "not before the deadline");
    f.clock.advance(Duration::from_millis(1));
    f.hub.tick(f.clock.now_ms());
    let resolved = sent(&f.hub, "am");
    assert_eq!(resolved.len(), 1);
    let body: serde_json::Value = serde_json::from_slice(&resolved[0].body).unwrap();
    let ends = body[0]["endsAt"].as_str().unwrap();
    assert!(ends.starts_with("2025-12-01T00:15:00"), "{body}");
    assert!(f.hub.active.is_empty());
    assert!(f.hub.unclaimed.is_empty());
}

#[test]
fn a_restored_alert_whose_series_returns_is_not_resolved() {
    let series = latency("back");
    let mut restored = HashMap::new();
    restored.insert(series.as_bytes().to_vec(), Vec::new());
    let mut f = fixture(restored);
    f.hub
        .unclaimed
        .push((series.as_bytes().to_vec(), "fingerprint".into()));
    // The series' first sample takes its saved states.
    assert!(f.hub.restored.take(series.as_bytes()).is_empty());
    f.clock.set(f.hub.unclaimed_deadline_ms);
    f.hub.last_resend_ms = f.clock.now_ms();
    f.hub.tick(f.clock.now_ms());
    assert!(sent(&f.hub, "am").is_empty());
}

#[test]
fn the_thread_takes_every_event_sent_before_stop_then_ends() {
    let f = fixture(HashMap::new());
    let firing = events(&f.rules, &latency("a"), &[(T0, 0.99)]);
    let store = f.hub.store.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    tx.send(firing).unwrap();
    stop.store(true, Ordering::Release);
    let hub = f.hub;
    std::thread::spawn(move || hub.run(rx, stop))
        .join()
        .unwrap();
    assert_eq!(store.lock().unwrap().active().unwrap().len(), 1);
}
