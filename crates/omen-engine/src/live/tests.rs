//! The engine as a whole: agreement with the batch replay, backpressure, counting, counters,
//! expiry, limits, and snapshots across restarts.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use omen_core::{Labels, MetricKind, Score, Status};
use omen_detect::EnsembleConfig;

use super::hash::{route_hash_of, shard_of};
use super::*;
use crate::{AnomalyInterval, SeriesReplay, Step, VerdictConfig};

const MINUTE: i64 = 60_000;
const STALE: f64 = f64::from_bits(STALE_NAN_BITS);

fn labels(name: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out = vec![("__name__".to_string(), name.to_string())];
    out.extend(extra.iter().map(|(n, v)| (n.to_string(), v.to_string())));
    out.sort();
    out
}

fn batch(labels: &[(String, String)], kind: MetricKind, samples: &[(i64, f64)]) -> SeriesBatch {
    SeriesBatch {
        labels: labels.to_vec(),
        kind,
        samples: samples.to_vec(),
    }
}

fn gauge(labels: &[(String, String)], samples: &[(i64, f64)]) -> SeriesBatch {
    batch(labels, MetricKind::Gauge, samples)
}

fn live(shards: usize) -> LiveConfig {
    LiveConfig {
        shards,
        ..LiveConfig::default()
    }
}

/// Every score, ended series and closed interval, in the order the shards reported them.
#[derive(Debug, Default)]
struct Recorder {
    scores: Mutex<Vec<(Labels, i64, Score, bool)>>,
    /// Each ended series, its end time, and how many samples its slot counted.
    ended: Mutex<Vec<(Labels, i64, u64)>>,
    intervals: Mutex<Vec<(Labels, AnomalyInterval)>>,
}

impl Observer for Recorder {
    fn scored(&self, slot: &mut ObserverSlot, sample: &ScoredSample<'_>) {
        let seen = slot.0.get_or_insert_with(|| Box::new(0_u64));
        *seen.downcast_mut::<u64>().unwrap() += 1;
        let mut scores = self.scores.lock().unwrap();
        scores.push((
            sample.labels.clone(),
            sample.timestamp_ms,
            *sample.score,
            sample.anomaly,
        ));
    }

    fn ended(&self, slot: &mut ObserverSlot, labels: &Labels, timestamp_ms: i64) {
        let seen = slot
            .0
            .as_ref()
            .map_or(0, |s| *s.downcast_ref::<u64>().unwrap());
        let mut ended = self.ended.lock().unwrap();
        ended.push((labels.clone(), timestamp_ms, seen));
    }

    fn interval_closed(&self, labels: &Labels, interval: &AnomalyInterval) {
        let mut intervals = self.intervals.lock().unwrap();
        intervals.push((labels.clone(), interval.clone()));
    }
}

impl Recorder {
    /// The scores of one series, in time order, as exact text (Debug prints every f64
    /// exactly, and NaN equal to itself).
    fn of(&self, series: &[(String, String)]) -> Vec<String> {
        let want = Labels::from_pairs(series);
        self.scores
            .lock()
            .unwrap()
            .iter()
            .filter(|(l, ..)| *l == want)
            .map(|(_, t, score, anomaly)| format!("{t} {score:?} {anomaly}"))
            .collect()
    }
}

fn start(options: EngineOptions) -> Engine {
    Engine::start(options).unwrap()
}

fn with_recorder(config: LiveConfig) -> (Engine, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let engine = start(EngineOptions {
        observer: Some(recorder.clone()),
        ..EngineOptions::new(config)
    });
    (engine, recorder)
}

/// One series: its labels and its samples.
type Data = (Vec<(String, String)>, Vec<(i64, f64)>);

/// Three series of different shapes: noise with a spike, a season of two hours, a level shift.
fn shapes(n: usize) -> Vec<Data> {
    let noise = |i: usize| {
        ((i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40) as f64 / (1u64 << 24) as f64
    };
    let spike = (0..n)
        .map(|i| {
            (
                i as i64 * MINUTE,
                50.0 + noise(i) + if i == n * 3 / 4 { 40.0 } else { 0.0 },
            )
        })
        .collect();
    let season = (0..n)
        .map(|i| {
            let phase = (i % 120) as f64 / 120.0 * std::f64::consts::TAU;
            (i as i64 * MINUTE, 100.0 + 20.0 * phase.sin() + noise(i + 7))
        })
        .collect();
    let shift = (0..n)
        .map(|i| {
            (
                i as i64 * MINUTE,
                if i < n / 2 { 5.0 } else { 9.0 } + noise(i + 3),
            )
        })
        .collect();
    vec![
        (labels("spiky", &[("job", "a")]), spike),
        (labels("seasonal", &[("job", "b")]), season),
        (labels("shifting", &[("job", "c")]), shift),
    ]
}

/// Submit each series' samples in requests of 1 to 7 samples per series, retrying when the
/// engine is behind.
fn feed(engine: &Engine, data: &[Data], range: std::ops::Range<usize>) {
    let mut at = range.start;
    let mut size = 1;
    while at < range.end {
        let end = (at + size).min(range.end);
        let request: Vec<_> = data
            .iter()
            .map(|(l, samples)| gauge(l, &samples[at..end]))
            .collect();
        while engine.submit(request.clone()).is_err() {
            engine.flush();
        }
        at = end;
        size = size % 7 + 1;
    }
}

/// What the batch replay says of each series, in the same exact text as [`Recorder::of`].
fn replayed(data: &[Data]) -> Vec<Vec<String>> {
    let mut replay =
        SeriesReplay::new(EnsembleConfig::default(), VerdictConfig::default()).unwrap();
    let mut out = vec![Vec::new(); data.len()];
    for i in 0..data[0].1.len() {
        for (k, (l, samples)) in data.iter().enumerate() {
            let key = Labels::from_pairs(l);
            let (t, v) = samples[i];
            let Step::Scored { score, anomaly } = replay.step(key.as_bytes(), t, v) else {
                panic!("in order")
            };
            out[k].push(format!("{t} {score:?} {anomaly}"));
        }
    }
    out
}

#[test]
fn live_scores_agree_with_the_batch_replay_bit_for_bit() {
    let data = shapes(1500);
    let want = replayed(&data);
    for shards in [1, 4] {
        let (engine, recorder) = with_recorder(live(shards));
        feed(&engine, &data, 0..1500);
        engine.flush();
        for (k, (l, _)) in data.iter().enumerate() {
            let got = recorder.of(l);
            assert_eq!(got.len(), want[k].len(), "{shards} shards, series {k}");
            for (i, (g, w)) in got.iter().zip(&want[k]).enumerate() {
                assert_eq!(g, w, "{shards} shards, series {k}, sample {i}");
            }
        }
        // Some of these shapes alert, so the agreement covers verdicts, not only scores.
        assert!(engine.stats().anomalous_samples > 0);
        let views = engine.query(&[]);
        assert_eq!(views.len(), 3);
        for view in views {
            assert_eq!(view.timestamp_ms, 1499 * MINUTE, "{}", view.labels);
            assert_eq!(view.score.status, Status::Ready);
            assert_eq!(view.samples_learned, 1500);
        }
    }
}

/// Labels of a series that the engine routes to `shard` of `shards`.
fn series_on(shard: usize, shards: usize, name: &str) -> Vec<(String, String)> {
    (0..)
        .map(|i| labels(name, &[("i", &i.to_string())]))
        .find(|l| shard_of(route_hash_of(&Labels::from_pairs(l)), shards) == shard)
        .unwrap()
}

fn samples(from: i64, n: usize) -> Vec<(i64, f64)> {
    (0..n as i64).map(|i| ((from + i) * 1000, 1.0)).collect()
}

#[test]
fn a_full_queue_refuses_the_whole_request_and_its_retry_is_scored_once() {
    let engine = start(EngineOptions::new(LiveConfig {
        shards: 2,
        queue_samples: 10,
        ..LiveConfig::default()
    }));
    let (a, b) = (series_on(0, 2, "a"), series_on(1, 2, "b"));
    let hold = engine.pause();
    let first = vec![gauge(&a, &samples(0, 6)), gauge(&b, &samples(0, 6))];
    assert_eq!(engine.submit(first).unwrap().samples, 12);
    // Shard 0 has room for 2 more, shard 1 has not room for 5: nothing of it is queued.
    let second = vec![gauge(&a, &samples(6, 2)), gauge(&b, &samples(6, 5))];
    let refused = engine.submit(second.clone()).unwrap_err();
    assert_eq!(refused.reason, OverloadReason::QueueFull { shard: 1 });
    assert!(refused.retry_after >= Duration::from_secs(1));
    assert!(refused.to_string().contains("retry later"), "{refused}");
    let stats = engine.stats();
    assert_eq!(stats.queue_samples, [6, 6]);
    assert_eq!((stats.requests_rejected, stats.samples_rejected), (1, 7));
    drop(hold);
    engine.flush();
    assert_eq!(engine.stats().queue_samples, [0, 0]);
    // The retry is scored once; a retry of a request that was applied (its answer lost) is
    // all duplicates, dropped and counted.
    assert_eq!(engine.submit(second.clone()).unwrap().samples, 7);
    engine.flush();
    assert_eq!(engine.stats().samples_scored, 19);
    assert_eq!(engine.stats().dropped(DropReason::Duplicate), 0);
    assert!(engine.submit(second).is_ok());
    engine.flush();
    let stats = engine.stats();
    assert_eq!(stats.samples_scored, 19);
    // Each series' last sample is a duplicate, the ones before it are out of order.
    assert_eq!(stats.dropped(DropReason::Duplicate), 2);
    assert_eq!(stats.dropped(DropReason::OutOfOrder), 5);
}

#[test]
fn an_empty_queue_takes_a_request_larger_than_the_queue() {
    let engine = start(EngineOptions::new(LiveConfig {
        shards: 1,
        queue_samples: 10,
        ..LiveConfig::default()
    }));
    let hold = engine.pause();
    let a = labels("a", &[]);
    assert!(engine.submit(vec![gauge(&a, &samples(0, 50))]).is_ok());
    assert!(engine.submit(vec![gauge(&a, &samples(50, 1))]).is_err());
    drop(hold);
    engine.flush();
    assert_eq!(engine.stats().samples_scored, 50);
}

/// The accounting identity: every accepted sample ends as exactly one outcome.
fn assert_accounted(stats: &EngineStats) {
    let dropped: u64 = stats
        .dropped
        .iter()
        .filter(|(r, _)| *r != DropReason::NotMatched)
        .map(|(_, n)| n)
        .sum();
    assert_eq!(
        stats.samples_accepted,
        stats.samples_scored + stats.samples_primed + stats.stale_markers + dropped,
        "{stats:#?}"
    );
}

#[test]
fn every_sample_is_scored_or_counted() {
    struct Case {
        name: &'static str,
        kind: MetricKind,
        samples: &'static [(i64, f64)],
        /// scored, primed, stale, out of order, duplicate, not finite, resets
        want: [u64; 7],
        /// the view's (value, stale) after the samples
        view: (f64, bool),
    }
    let cases = [
        Case {
            name: "gauge with every kind of bad sample",
            kind: MetricKind::Gauge,
            samples: &[
                (1000, 1.0),
                (1000, 2.0),
                (500, 3.0),
                (2000, f64::NAN),
                (2500, f64::NEG_INFINITY),
                (3000, STALE),
                (4000, 5.0),
            ],
            want: [2, 0, 1, 1, 1, 2, 0],
            view: (5.0, false),
        },
        Case {
            name: "a stale marker last leaves the view stale",
            kind: MetricKind::Gauge,
            samples: &[(1000, 1.0), (2000, STALE)],
            want: [1, 0, 1, 0, 0, 0, 0],
            view: (1.0, true),
        },
        Case {
            name: "counter rated per second, with a reset",
            kind: MetricKind::Counter,
            samples: &[(0, 10.0), (10_000, 60.0), (20_000, 20.0), (30_000, 50.0)],
            want: [3, 1, 0, 0, 0, 0, 1],
            view: (3.0, false),
        },
        Case {
            name: "counter after staleness primes again",
            kind: MetricKind::Counter,
            samples: &[
                (0, 10.0),
                (10_000, 60.0),
                (15_000, STALE),
                (20_000, 5.0),
                (30_000, 7.0),
            ],
            want: [2, 2, 1, 0, 0, 0, 0],
            view: (0.2, false),
        },
    ];
    for case in cases {
        let engine = start(EngineOptions::new(live(2)));
        let series = labels("x", &[("case", case.name)]);
        // One request per sample and one with them all give the same counts.
        for one_by_one in [false, true] {
            let name = format!("{} (one by one: {one_by_one})", case.name);
            let series = labels("x", &[("case", &name)]);
            if one_by_one {
                for s in case.samples {
                    engine
                        .submit(vec![batch(&series, case.kind, &[*s])])
                        .unwrap();
                }
            } else {
                engine
                    .submit(vec![batch(&series, case.kind, case.samples)])
                    .unwrap();
            }
        }
        engine.flush();
        let stats = engine.stats();
        let got = [
            stats.samples_scored,
            stats.samples_primed,
            stats.stale_markers,
            stats.dropped(DropReason::OutOfOrder),
            stats.dropped(DropReason::Duplicate),
            stats.dropped(DropReason::NotFinite),
            stats.counter_resets,
        ];
        assert_eq!(got, case.want.map(|n| n * 2), "{}", case.name);
        assert_accounted(&stats);
        for view in engine.query(&[]) {
            assert_eq!((view.value, view.stale), case.view, "{}", case.name);
            assert_eq!(view.kind, case.kind);
        }
        drop(series);
    }
}

#[test]
fn only_series_matching_a_selector_are_modelled() {
    let engine = start(EngineOptions::new(LiveConfig {
        matchers: vec![r#"{job="node", mode!~"idle|iowait"}"#.into(), "up".into()],
        ..live(2)
    }));
    let busy = labels("cpu", &[("job", "node"), ("mode", "user")]);
    let idle = labels("cpu", &[("job", "node"), ("mode", "idle")]);
    let up = labels("up", &[("job", "api")]);
    let other = labels("http", &[("job", "api")]);
    let request = vec![
        gauge(&busy, &samples(0, 3)),
        gauge(&idle, &samples(0, 4)),
        gauge(&up, &samples(0, 2)),
        gauge(&other, &samples(0, 5)),
    ];
    let accepted = engine.submit(request).unwrap();
    assert_eq!(
        (accepted.series, accepted.samples, accepted.not_matched),
        (2, 5, 9)
    );
    engine.flush();
    let stats = engine.stats();
    assert_eq!(stats.dropped(DropReason::NotMatched), 9);
    assert_eq!(stats.active_series, 2);
    assert_accounted(&stats);
    let mut names: Vec<String> = engine
        .query(&[])
        .iter()
        .map(|v| v.labels.to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [r#"cpu{job="node", mode="user"}"#, r#"up{job="api"}"#]
    );
    let only_up = engine.query(&["up".parse().unwrap()]);
    assert_eq!(only_up.len(), 1);
    assert_eq!(only_up[0].labels.metric_name(), "up");
}

#[test]
fn series_past_the_limit_are_counted_and_expired_ones_make_room() {
    let clock = Arc::new(ManualClock::new());
    let engine = start(EngineOptions {
        clock: clock.clone(),
        ..EngineOptions::new(LiveConfig {
            max_active_series: 2,
            series_ttl: Duration::from_secs(60),
            ..live(2)
        })
    });
    let (a, b, c) = (labels("a", &[]), labels("b", &[]), labels("c", &[]));
    engine
        .submit(vec![gauge(&a, &samples(0, 1)), gauge(&b, &samples(0, 1))])
        .unwrap();
    engine.flush();
    engine.submit(vec![gauge(&c, &samples(0, 3))]).unwrap();
    engine.flush();
    let stats = engine.stats();
    assert_eq!(stats.dropped(DropReason::SeriesLimit), 3);
    assert_eq!((stats.active_series, stats.series_created), (2, 2));
    assert_accounted(&stats);

    // The limit is logged once a minute at most (`a` and `b` keep reporting meanwhile).
    assert_eq!(engine.limit_logged(), 1);
    for (t, logged) in [(1, 1), (2, 61)] {
        clock.advance(Duration::from_secs(30));
        let request = [&a, &b, &c].map(|l| gauge(l, &samples(10 * t, 1)));
        engine.submit(request.to_vec()).unwrap();
        engine.flush();
        assert_eq!(engine.limit_logged(), logged);
    }
    assert_eq!(engine.stats().dropped(DropReason::SeriesLimit), 5);

    // `b` keeps reporting, `a` does not: after the time to live only `a` goes.
    clock.advance(Duration::from_secs(30));
    engine.submit(vec![gauge(&b, &samples(30, 1))]).unwrap();
    engine.flush();
    clock.advance(Duration::from_secs(31));
    engine.sweep_now();
    let stats = engine.stats();
    assert_eq!((stats.active_series, stats.series_expired), (1, 1));
    let views = engine.query(&[]);
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].labels.metric_name(), "b");
    // Now `c` fits.
    engine.submit(vec![gauge(&c, &samples(40, 1))]).unwrap();
    engine.flush();
    assert_eq!(engine.stats().active_series, 2);
    // And a series that comes back after expiry starts afresh.
    clock.advance(Duration::from_secs(120));
    engine.sweep_now();
    assert_eq!(engine.stats().active_series, 0);
    assert!(engine.query(&[]).is_empty());
    engine.submit(vec![gauge(&a, &samples(0, 1))]).unwrap();
    engine.flush();
    assert_eq!(engine.query(&[])[0].samples_learned, 1);
}

/// Noise in [10, 11) at one-second steps.
fn calm(range: std::ops::Range<i64>) -> Vec<(i64, f64)> {
    range
        .map(|i| {
            let noise =
                ((i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40) as f64 / (1u64 << 24) as f64;
            (i * 1000, 10.0 + noise)
        })
        .collect()
}

/// 300 calm samples, then a spike at 300 s.
fn calm_then_spike() -> Vec<(i64, f64)> {
    let mut values = calm(0..300);
    values.push((300_000, 90.0));
    values
}

#[test]
fn expiry_closes_the_open_interval() {
    let clock = Arc::new(ManualClock::new());
    let recorder = Arc::new(Recorder::default());
    let engine = start(EngineOptions {
        clock: clock.clone(),
        observer: Some(recorder.clone()),
        ..EngineOptions::new(LiveConfig {
            series_ttl: Duration::from_secs(60),
            ..live(1)
        })
    });
    let a = labels("a", &[]);
    let values = calm_then_spike();
    engine.submit(vec![gauge(&a, &values)]).unwrap();
    engine.flush();
    let view = &engine.query(&[])[0];
    assert!(view.anomaly);
    assert_eq!(view.interval_start_ms, Some(300_000));
    let closed = recorder.intervals.lock().unwrap().clone();
    assert!(closed.is_empty(), "{closed:#?}");
    clock.advance(Duration::from_secs(61));
    engine.sweep_now();
    let intervals = recorder.intervals.lock().unwrap();
    assert_eq!(intervals.len(), 1);
    assert_eq!(intervals[0].1.start_ms, 300_000);
    assert_eq!(engine.stats().intervals_closed, 1);
}

fn data_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn in_dir(config: LiveConfig, dir: &Path, observer: Option<Arc<Recorder>>) -> Engine {
    start(EngineOptions {
        data_dir: Some(dir.to_path_buf()),
        observer: observer.map(|o| o as Arc<dyn Observer>),
        ..EngineOptions::new(config)
    })
}

#[test]
fn a_restart_keeps_the_learned_baselines_with_any_shard_count() {
    let data = shapes(1200);
    // Without a restart.
    let (engine, straight) = with_recorder(live(2));
    feed(&engine, &data, 0..1200);
    engine.flush();
    // With one after 800 samples, from 3 shards to 2.
    let dir = data_dir();
    let before = in_dir(live(3), dir.path(), None);
    feed(&before, &data, 0..800);
    let info = before.shutdown().unwrap().unwrap();
    assert_eq!(info.series, 3);
    assert_eq!(info.path, dir.path().join(SNAPSHOT_FILE_NAME));
    assert!(info.bytes > 0);
    drop(before);
    let recorder = Arc::new(Recorder::default());
    let after = in_dir(live(2), dir.path(), Some(recorder.clone()));
    let report = after.restore_report();
    assert!(
        matches!(report.outcome, RestoreOutcome::Restored { shards: 3, .. }),
        "{report:?}"
    );
    assert_eq!((report.series, report.over_limit), (3, 0));
    assert_eq!(after.stats().active_series, 3);
    feed(&after, &data, 800..1200);
    after.flush();
    for (l, _) in &data {
        let want = straight.of(l)[800..].to_vec();
        assert_eq!(recorder.of(l), want, "{l:?}");
        assert!(recorder.of(l)[0].contains("Ready"));
    }
    // A replayed old sample after the restart is still out of order.
    after
        .submit(vec![gauge(&data[0].0, &data[0].1[10..11])])
        .unwrap();
    after.flush();
    assert_eq!(after.stats().dropped(DropReason::OutOfOrder), 1);
}

#[test]
fn a_snapshot_holds_counter_state_staleness_and_open_intervals() {
    let dir = data_dir();
    let engine = in_dir(live(2), dir.path(), None);
    let counter = labels("requests_total", &[]);
    let stale = labels("gone", &[]);
    let spiky = calm_then_spike();
    let spiky_labels = labels("spiky", &[]);
    engine
        .submit(vec![
            batch(&counter, MetricKind::Counter, &[(0, 10.0), (10_000, 20.0)]),
            gauge(&stale, &[(0, 1.0), (1000, STALE)]),
            gauge(&spiky_labels, &spiky),
        ])
        .unwrap();
    engine.shutdown().unwrap();
    drop(engine);
    let recorder = Arc::new(Recorder::default());
    let engine = in_dir(live(1), dir.path(), Some(recorder.clone()));
    engine
        .submit(vec![
            batch(&counter, MetricKind::Unknown, &[(20_000, 40.0)]),
            gauge(&spiky_labels, &calm(301..310)),
        ])
        .unwrap();
    engine.flush();
    let views = engine.query(&["requests_total".parse().unwrap()]);
    // The counter kept its kind and its previous value: rated at once, not primed.
    assert_eq!(views[0].kind, MetricKind::Counter);
    assert_eq!(views[0].value, 2.0);
    // The interval open at shutdown closes after the restart, with its start.
    let intervals = recorder.intervals.lock().unwrap();
    assert_eq!(intervals.len(), 1, "{intervals:?}");
    assert_eq!(intervals[0].1.start_ms, 300_000);
}

/// A valid snapshot with three series, for damaging.
fn valid_snapshot(dir: &Path) -> Vec<u8> {
    let engine = in_dir(live(2), dir, None);
    let data = shapes(150);
    feed(&engine, &data, 0..150);
    engine.shutdown().unwrap();
    std::fs::read(dir.join(SNAPSHOT_FILE_NAME)).unwrap()
}

#[test]
fn an_unusable_snapshot_is_moved_aside_and_the_engine_starts_afresh() {
    struct Case {
        name: &'static str,
        damage: fn(&mut Vec<u8>),
        want: &'static str,
    }
    let cases = [
        Case {
            name: "not a snapshot",
            damage: |bytes| *bytes = b"hello, world".to_vec(),
            want: "bad magic",
        },
        Case {
            name: "empty",
            damage: |bytes| bytes.clear(),
            want: "truncated",
        },
        Case {
            name: "truncated",
            damage: |bytes| bytes.truncate(bytes.len() / 2),
            want: "truncated",
        },
        Case {
            name: "trailer lost",
            damage: |bytes| bytes.truncate(bytes.len() - 8),
            want: "truncated",
        },
        Case {
            name: "a byte flipped in a detector",
            damage: |bytes| {
                let at = bytes.len() * 2 / 3;
                bytes[at] ^= 0x10;
            },
            want: "record",
        },
        Case {
            name: "a newer format",
            damage: |bytes| bytes[8..12].copy_from_slice(&99u32.to_le_bytes()),
            want: "format version 99",
        },
        Case {
            name: "bytes after the end",
            damage: |bytes| bytes.push(0),
            want: "after the trailer",
        },
    ];
    let good = valid_snapshot(data_dir().path());
    for case in cases {
        let dir = data_dir();
        let path = dir.path().join(SNAPSHOT_FILE_NAME);
        let mut bytes = good.clone();
        (case.damage)(&mut bytes);
        std::fs::write(&path, &bytes).unwrap();
        let engine = in_dir(live(2), dir.path(), None);
        let report = engine.restore_report().clone();
        let RestoreOutcome::MovedAside { to, reason } = &report.outcome else {
            panic!("{}: {report:?}", case.name)
        };
        // A flipped byte shows as a record that does not decode or a checksum mismatch.
        let fits =
            reason.contains(case.want) || (case.want == "record" && reason.contains("checksum"));
        assert!(fits, "{}: {reason}", case.name);
        assert_eq!(std::fs::read(to).unwrap(), bytes, "{}", case.name);
        assert!(!path.exists(), "{}", case.name);
        assert_eq!(report.series, 0, "{}", case.name);
        assert_eq!(engine.stats().active_series, 0, "{}", case.name);
        // And it works, and its next snapshot is whole.
        engine
            .submit(vec![gauge(&labels("a", &[]), &samples(0, 3))])
            .unwrap();
        assert_eq!(
            engine.shutdown().unwrap().unwrap().series,
            1,
            "{}",
            case.name
        );
    }
}

#[test]
fn a_snapshot_that_cannot_be_read_stops_the_start_with_its_path() {
    let dir = data_dir();
    let path = dir.path().join(SNAPSHOT_FILE_NAME);
    std::fs::create_dir(&path).unwrap();
    let err = Engine::start(EngineOptions {
        data_dir: Some(dir.path().to_path_buf()),
        ..EngineOptions::new(live(1))
    })
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("cannot read the snapshot") && err.contains(&*path.to_string_lossy()),
        "{err}"
    );
}

#[test]
fn changed_detector_settings_start_every_series_afresh() {
    let dir = data_dir();
    valid_snapshot(dir.path());
    let engine = start(EngineOptions {
        data_dir: Some(dir.path().to_path_buf()),
        detector: EnsembleConfig {
            warm_up: 50,
            ..EnsembleConfig::default()
        },
        ..EngineOptions::new(live(2))
    });
    assert_eq!(
        engine.restore_report().outcome,
        RestoreOutcome::SettingsChanged
    );
    assert_eq!(engine.stats().active_series, 0);
}

#[test]
fn a_snapshot_larger_than_the_limit_restores_up_to_it() {
    let dir = data_dir();
    valid_snapshot(dir.path());
    let engine = in_dir(
        LiveConfig {
            max_active_series: 2,
            ..live(2)
        },
        dir.path(),
        None,
    );
    let report = engine.restore_report();
    assert_eq!((report.series, report.over_limit), (2, 1));
    assert_eq!(engine.stats().active_series, 2);
}

#[test]
fn shutdown_drains_snapshots_once_and_then_refuses() {
    let dir = data_dir();
    let engine = in_dir(live(2), dir.path(), None);
    let hold = engine.pause();
    engine
        .submit(vec![gauge(&labels("a", &[]), &samples(0, 5))])
        .unwrap();
    drop(hold);
    // What was queued before shutdown is in the final snapshot.
    let info = engine.shutdown().unwrap().unwrap();
    assert_eq!(info.series, 1);
    assert_eq!(engine.stats().samples_scored, 5);
    assert_eq!(engine.shutdown().unwrap(), None);
    let refused = engine
        .submit(vec![gauge(&labels("a", &[]), &samples(5, 1))])
        .unwrap_err();
    assert_eq!(refused.reason, OverloadReason::Stopping);
    let stats = engine.stats();
    assert_eq!((stats.snapshots_written, stats.snapshot_series), (1, 1));
    assert!(stats.snapshot_unix_ms > 0);
}

/// Noise in [0, 1) without any period: SplitMix64's finaliser of `x`.
fn splitmix(x: u64) -> f64 {
    let mut x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    ((x ^ (x >> 31)) >> 11) as f64 / (1u64 << 53) as f64
}

#[test]
fn the_state_size_is_counted_as_it_changes() {
    let clock = Arc::new(ManualClock::new());
    let engine = start(EngineOptions {
        clock: clock.clone(),
        ..EngineOptions::new(LiveConfig {
            series_ttl: Duration::from_secs(60),
            ..live(2)
        })
    });
    let empty = engine.stats().state_bytes_estimate;
    // Three series of noise, still searching for a season: 300 slots each, at least 600
    // bytes of buffer each besides the state and view of each, without any snapshot.
    let noise: Vec<Data> = shapes(900)
        .into_iter()
        .enumerate()
        .map(|(k, (labels, samples))| {
            let samples = samples
                .iter()
                .enumerate()
                .map(|(i, &(t, _))| (t, splitmix(((k as u64) << 32) + i as u64)))
                .collect();
            (labels, samples)
        })
        .collect();
    feed(&engine, &noise, 0..300);
    engine.flush();
    let young = engine.stats().state_bytes_estimate;
    let per_series = (young - empty) / 3;
    assert!(per_series > 600 + stats::BYTES_PER_SERIES, "{per_series}");
    // The buffers grow with the series: from 512 slots of two bytes each to all 767.
    feed(&engine, &noise, 300..900);
    engine.flush();
    let older = engine.stats().state_bytes_estimate;
    assert!(older >= young + 3 * 500, "{young} then {older}");
    // Expired, the series give everything back but the tables' room.
    clock.advance(Duration::from_secs(61));
    engine.sweep_now();
    let stats = engine.stats();
    assert_eq!(stats.active_series, 0);
    assert!(
        stats.state_bytes_estimate < empty + 4 * 1024,
        "{empty} at start, {} after expiry",
        stats.state_bytes_estimate
    );
}

#[test]
fn a_bad_setting_is_refused_at_start() {
    for (name, options) in [
        (
            "live",
            EngineOptions::new(LiveConfig {
                shards: 0,
                ..LiveConfig::default()
            }),
        ),
        (
            "detector",
            EngineOptions {
                detector: EnsembleConfig {
                    target_risk: 2.0,
                    ..EnsembleConfig::default()
                },
                ..EngineOptions::new(live(1))
            },
        ),
        (
            "verdict",
            EngineOptions {
                verdict: VerdictConfig {
                    threshold: 0.0,
                    ..VerdictConfig::default()
                },
                ..EngineOptions::new(live(1))
            },
        ),
    ] {
        assert!(Engine::start(options).is_err(), "{name}");
    }
}

#[test]
fn a_kind_known_later_restarts_the_model_once() {
    let engine = start(EngineOptions::new(live(1)));
    let total = labels("requests_total", &[]);
    engine
        .submit(vec![batch(
            &total,
            MetricKind::Unknown,
            &[(0, 1.0), (1000, 2.0)],
        )])
        .unwrap();
    engine
        .submit(vec![batch(
            &total,
            MetricKind::Counter,
            &[(2000, 3.0), (3000, 5.0)],
        )])
        .unwrap();
    engine
        .submit(vec![batch(&total, MetricKind::Unknown, &[(4000, 6.0)])])
        .unwrap();
    engine.flush();
    let stats = engine.stats();
    assert_eq!(stats.kind_changes, 1);
    assert_eq!((stats.samples_scored, stats.samples_primed), (4, 1));
    let view = &engine.query(&[])[0];
    assert_eq!(
        (view.kind, view.value, view.samples_learned),
        (MetricKind::Counter, 1.0, 2)
    );
}

#[test]
fn a_stale_marker_of_an_unknown_series_creates_nothing() {
    let engine = start(EngineOptions::new(live(1)));
    let gone = labels("gone", &[]);
    engine.submit(vec![gauge(&gone, &[(1000, STALE)])]).unwrap();
    engine.flush();
    let stats = engine.stats();
    assert_eq!((stats.active_series, stats.stale_markers), (0, 1));
    assert_accounted(&stats);
}

#[test]
fn snapshots_are_taken_on_the_interval() {
    let dir = data_dir();
    let engine = in_dir(
        LiveConfig {
            snapshot_interval: Duration::from_secs(1),
            ..live(1)
        },
        dir.path(),
        None,
    );
    engine
        .submit(vec![gauge(&labels("a", &[]), &samples(0, 3))])
        .unwrap();
    // Waits about a second; gives up after ten.
    for _ in 0..100 {
        if engine.stats().snapshots_written > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(engine.stats().snapshots_written > 0);
    assert!(dir.path().join(SNAPSHOT_FILE_NAME).exists());
    assert!(
        !dir.path()
            .join(format!("{SNAPSHOT_FILE_NAME}.tmp"))
            .exists()
    );
}

#[test]
fn the_engine_can_be_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Engine>();
    let engine = Arc::new(start(EngineOptions::new(live(2))));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let engine = engine.clone();
            std::thread::spawn(move || {
                let series = labels("x", &[("t", &t.to_string())]);
                for i in 0..50 {
                    while engine.submit(vec![gauge(&series, &samples(i, 1))]).is_err() {}
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    engine.flush();
    assert_eq!(engine.stats().samples_scored, 200);
}

#[test]
fn the_observer_slot_lives_with_the_series_and_is_seen_when_it_ends() {
    let clock = Arc::new(ManualClock::new());
    let recorder = Arc::new(Recorder::default());
    let engine = start(EngineOptions {
        clock: clock.clone(),
        observer: Some(recorder.clone()),
        ..EngineOptions::new(LiveConfig {
            series_ttl: Duration::from_secs(60),
            ..live(2)
        })
    });
    let (a, b) = (labels("a", &[]), labels("b", &[]));
    // Two requests for each series: the slot carries its count from one to the next.
    engine
        .submit(vec![gauge(&a, &calm(0..40)), gauge(&b, &calm(0..40))])
        .unwrap();
    engine
        .submit(vec![
            gauge(&a, &[(40_000, 10.0), (41_000, STALE)]),
            gauge(&b, &calm(40..50)),
        ])
        .unwrap();
    engine.flush();
    let scored = |l: &[(String, String)]| recorder.of(l).len() as u64;
    let (scored_a, scored_b) = (scored(&a), scored(&b));
    assert!(scored_a > 0 && scored_b > 0);
    // `a` ended with a staleness marker, at the marker's time.
    let ended = recorder.ended.lock().unwrap().clone();
    assert_eq!(ended, vec![(Labels::from_pairs(&a), 41_000, scored_a)]);
    // `b` ends by expiry, at its last sample's time.
    clock.advance(Duration::from_secs(61));
    engine.sweep_now();
    let ended = recorder.ended.lock().unwrap().clone();
    assert_eq!(ended.len(), 3, "{ended:?}");
    assert!(ended.contains(&(Labels::from_pairs(&b), 49_000, scored_b)));
}

#[test]
fn a_rebaselined_series_learns_afresh_and_others_keep_their_model() {
    let engine = start(EngineOptions::new(live(2)));
    let (a, b) = (labels("a", &[]), labels("b", &[]));
    engine
        .submit(vec![gauge(&a, &calm(0..100)), gauge(&b, &calm(0..100))])
        .unwrap();
    assert!(engine.rebaseline(&Labels::from_pairs(&a)));
    assert!(!engine.rebaseline(&Labels::from_pairs(&labels("never", &[]))));
    engine
        .submit(vec![gauge(&a, &calm(100..103)), gauge(&b, &calm(100..103))])
        .unwrap();
    engine.flush();
    let learned = |l: &[(String, String)]| {
        engine
            .query(&[])
            .into_iter()
            .find(|v| v.labels == Labels::from_pairs(l))
            .unwrap()
    };
    assert_eq!(learned(&a).samples_learned, 3);
    assert_eq!(learned(&a).score.status, Status::WarmingUp);
    assert_eq!(learned(&b).samples_learned, 103);
}

/// A snapshot written by an older build (format version 1, `tests/fixtures/live-state-v1.bin`,
/// before the compact season search and the recurrence counts) cannot be read by this
/// detector: it is moved aside, untouched, with a reason that names its version, and the
/// engine starts afresh and works.
#[test]
fn an_older_snapshot_format_is_moved_aside_naming_its_version() {
    let dir = data_dir();
    let fixture = include_bytes!("../../tests/fixtures/live-state-v1.bin");
    assert_eq!(
        &fixture[8..12],
        &1u32.to_le_bytes(),
        "the fixture is version 1"
    );
    let path = dir.path().join(SNAPSHOT_FILE_NAME);
    std::fs::write(&path, fixture).unwrap();
    let engine = in_dir(live(2), dir.path(), None);
    let report = engine.restore_report().clone();
    let RestoreOutcome::MovedAside { to, reason } = &report.outcome else {
        panic!("{report:?}")
    };
    assert!(reason.contains("format version 1"), "{reason}");
    assert_eq!(std::fs::read(to).unwrap(), fixture);
    assert!(!path.exists());
    assert_eq!(report.series, 0);
    engine
        .submit(vec![gauge(&labels("a", &[]), &samples(0, 3))])
        .unwrap();
    engine.flush();
    let info = engine.shutdown().unwrap().unwrap();
    assert_eq!(info.series, 1);
    let bytes = std::fs::read(&info.path).unwrap();
    assert_eq!(&bytes[8..12], &SNAPSHOT_FORMAT_VERSION.to_le_bytes());
}

#[test]
fn an_intake_routes_sorts_and_resolves_kinds_as_it_is_pushed() {
    let engine = start(EngineOptions::new(live(2)));
    let mut intake = engine.intake();
    assert!(intake.is_empty());
    // The same series with its labels sorted and not: one series, its samples in order.
    intake.push(
        &[("__name__", "jobs_done"), ("job", "a")],
        MetricKind::Unknown,
        &[(1000, 1.0), (2000, 3.0)],
    );
    intake.push(
        &[("job", "a"), ("__name__", "jobs_done")],
        MetricKind::Unknown,
        &[(3000, 6.0)],
    );
    // A kind given when pushed is kept; no samples, nothing.
    intake.push(
        &[("__name__", "temp_total")],
        MetricKind::Gauge,
        &[(1000, 2.0)],
    );
    intake.push(&[("__name__", "empty")], MetricKind::Gauge, &[]);
    // A label that sorts before the name.
    intake.push(
        &[("A", "1"), ("__name__", "other")],
        MetricKind::Unknown,
        &[(1000, 5.0)],
    );
    let mut asked = Vec::new();
    intake.resolve_unknown_kinds(|name| {
        asked.push(name.to_owned());
        MetricKind::Counter
    });
    asked.sort();
    assert_eq!(asked, ["jobs_done", "jobs_done", "other"]);
    assert!(!intake.is_empty());
    let accepted = intake.submit().unwrap();
    assert_eq!((accepted.series, accepted.samples), (4, 5));
    engine.flush();
    let mut views: Vec<(String, MetricKind, i64)> = engine
        .query(&[])
        .iter()
        .map(|v| (v.labels.to_string(), v.kind, v.timestamp_ms))
        .collect();
    views.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        views,
        [
            (
                r#"jobs_done{job="a"}"#.to_owned(),
                MetricKind::Counter,
                3000
            ),
            (r#"other{A="1"}"#.to_owned(), MetricKind::Counter, 1000),
            ("temp_total{}".to_owned(), MetricKind::Gauge, 1000),
        ]
    );
    let stats = engine.stats();
    // A counter's first sample only primes its rate.
    assert_eq!((stats.samples_scored, stats.samples_primed), (3, 2));
    assert_accounted(&stats);
}

#[test]
fn a_dropped_intake_queues_nothing_and_selectors_apply() {
    let engine = start(EngineOptions::new(LiveConfig {
        matchers: vec![r#"{job="node"}"#.to_string()],
        ..live(2)
    }));
    let mut dropped = engine.intake();
    dropped.push(
        &[("__name__", "up"), ("job", "node")],
        MetricKind::Gauge,
        &samples(0, 3),
    );
    drop(dropped);
    let mut intake = engine.intake();
    intake.push(
        &[("__name__", "up"), ("job", "node")],
        MetricKind::Gauge,
        &samples(0, 2),
    );
    intake.push(
        &[("__name__", "up"), ("job", "api")],
        MetricKind::Gauge,
        &samples(0, 5),
    );
    assert_eq!(
        intake.submit().unwrap(),
        Accepted {
            series: 1,
            samples: 2,
            not_matched: 5
        }
    );
    engine.flush();
    let stats = engine.stats();
    assert_eq!(stats.dropped(DropReason::NotMatched), 5);
    assert_eq!(
        (
            stats.active_series,
            stats.samples_primed + stats.samples_scored
        ),
        (1, 2)
    );
    assert_accounted(&stats);
}
