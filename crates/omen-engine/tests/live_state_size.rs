//! How much one live series costs: its share of the snapshot (serialised) and of the heap (in
//! memory, counted by a global allocator, so it includes the engine's per-series parts:
//! labels, view, index; and the shard thread's one-off season-search buffers, spread over the
//! series), for the shapes of series that matter. Prints a
//! table (`cargo test -p omen-engine --test live_state_size -- --nocapture`) and asserts the
//! target of 2 KiB serialised for a warm series whose season search has ended, and that the
//! engine's own estimate of the series' memory is within 10 % of what they free when they
//! expire, for every shape (the estimate's share of the shards' tables, which expiry does not
//! give back, is taken out by reading the estimate again after the expiry). The published
//! views live in chunks of 64 slots that expiry frees when they empty, so the figures carry the
//! rounding of each shard's last chunk: about 40 B a series at 64 to 100 series a shape.
//!
//! One test in this file on purpose: the allocator's count is process-wide.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use omen_core::MetricKind;
use omen_core::{Detector, Sample};
use omen_detect::Ensemble;
use omen_engine::live::{Engine, EngineOptions, LiveConfig, ManualClock, SeriesBatch};

struct Counting;

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is passed to the system allocator unchanged; only sizes are counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const SECOND: i64 = 1000;
const MINUTE: i64 = 60 * SECOND;
const DAY: i64 = 24 * 60 * MINUTE;

/// Noise in [0, 1) from an index and a series number (SplitMix64's finaliser, so that it has
/// no period for the season search to find).
fn noise(i: usize, series: usize) -> f64 {
    let mut x = (i as u64 ^ (series as u64) << 40).wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

struct Case {
    name: &'static str,
    series: usize,
    samples: usize,
    step_ms: i64,
    /// The value at a timestamp, for series `k`.
    value: fn(i64, usize, usize) -> f64,
    /// Whether the season search has ended (found or given up): the 2 KiB target applies.
    searched: bool,
}

fn seasonal(period_ms: i64) -> impl Fn(i64) -> f64 {
    move |t| {
        100.0 + 30.0 * ((t % period_ms) as f64 / period_ms as f64 * std::f64::consts::TAU).sin()
    }
}

#[test]
fn per_series_state_size() {
    let cases = [
        Case {
            name: "2-hour season, 1-minute steps, 2,000 samples",
            series: 100,
            samples: 2_000,
            step_ms: MINUTE,
            value: |t, i, k| seasonal(2 * 60 * MINUTE)(t) + 3.0 * noise(i, k),
            searched: true,
        },
        Case {
            name: "daily season, 1-minute steps, 5 days",
            series: 100,
            samples: 5 * 1440,
            step_ms: MINUTE,
            value: |t, i, k| seasonal(DAY)(t) + 3.0 * noise(i, k),
            searched: true,
        },
        Case {
            name: "noise, 5-minute steps, 60 days (search gave up)",
            series: 64,
            samples: 60 * 288,
            step_ms: 5 * MINUTE,
            value: |_, i, k| 50.0 + noise(i, k),
            searched: true,
        },
        Case {
            name: "noise, 5-minute steps, 25 days (still searching)",
            series: 64,
            samples: 25 * 288,
            step_ms: 5 * MINUTE,
            value: |_, i, k| 50.0 + noise(i, k),
            searched: false,
        },
        Case {
            name: "noise, 15-second steps, 2,000 samples (still searching)",
            series: 100,
            samples: 2_000,
            step_ms: 15 * SECOND,
            value: |_, i, k| 50.0 + noise(i, k),
            searched: false,
        },
        Case {
            name: "daily season, 15-second steps, 2,000 samples (still searching)",
            series: 100,
            samples: 2_000,
            step_ms: 15 * SECOND,
            value: |t, i, k| seasonal(DAY)(t) + 3.0 * noise(i, k),
            searched: false,
        },
    ];
    println!(
        "| series shape | season found | detector alone (postcard B) | snapshot B/series \
         | freed by expiry B/series | heap growth B/series | engine's estimate B/series |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
    let mut failures = Vec::new();
    for case in &cases {
        let dir = tempfile::tempdir().unwrap();
        let clock = std::sync::Arc::new(ManualClock::new());
        let engine = Engine::start(EngineOptions {
            data_dir: Some(dir.path().to_path_buf()),
            clock: clock.clone(),
            ..EngineOptions::new(LiveConfig {
                shards: 1,
                ..LiveConfig::default()
            })
        })
        .unwrap();
        engine.flush();
        let before = LIVE_BYTES.load(Ordering::SeqCst);
        let labels: Vec<Vec<(String, String)>> = (0..case.series)
            .map(|k| {
                vec![
                    ("__name__".to_string(), "node_load1".to_string()),
                    ("instance".to_string(), format!("host-{k:04}:9100")),
                    ("job".to_string(), "node".to_string()),
                ]
            })
            .collect();
        for chunk in (0..case.samples).collect::<Vec<_>>().chunks(500) {
            let request = labels
                .iter()
                .enumerate()
                .map(|(k, l)| SeriesBatch {
                    labels: l.clone(),
                    kind: MetricKind::Gauge,
                    samples: chunk
                        .iter()
                        .map(|&i| {
                            let t = i as i64 * case.step_ms;
                            (t, (case.value)(t, i, k))
                        })
                        .collect(),
                })
                .collect();
            engine.submit(request).unwrap();
            engine.flush();
        }
        drop(labels);
        let with_series = LIVE_BYTES.load(Ordering::SeqCst);
        let grown = (with_series - before) as f64 / case.series as f64;
        let info = engine.snapshot_now().unwrap().unwrap();
        let estimate = engine.stats().state_bytes_estimate;
        // What expiring the series frees is theirs alone: the shard thread's caches stay.
        clock.advance(std::time::Duration::from_secs(3600));
        engine.sweep_now();
        assert_eq!(engine.stats().active_series, 0);
        let freed = (with_series - LIVE_BYTES.load(Ordering::SeqCst)) as f64 / case.series as f64;
        let tables = engine.stats().state_bytes_estimate;
        let estimate = (estimate - tables) as f64 / case.series as f64;
        assert_eq!(info.series, case.series as u64);
        let serialised = info.bytes as f64 / case.series as f64;
        // The first series' detector alone, fed the same samples.
        let mut alone = Ensemble::default();
        for i in 0..case.samples {
            let t = i as i64 * case.step_ms;
            alone.update(Sample::new(t, (case.value)(t, i, 0)));
        }
        let season = alone
            .season_period_ms()
            .map_or("no".to_string(), |p| format!("{} min", p / MINUTE));
        let bare = postcard::to_stdvec(&alone).unwrap().len();
        println!(
            "| {} | {season} | {bare} | {serialised:.0} | {freed:.0} | {grown:.0} | {estimate:.0} |",
            case.name
        );
        if case.searched && serialised > 2048.0 {
            failures.push(format!("{}: {serialised:.0} B serialised", case.name));
        }
        if !(0.9 * freed..1.1 * freed).contains(&estimate) {
            failures.push(format!(
                "{}: estimate {estimate:.0} B, freed {freed:.0} B",
                case.name
            ));
        }
        engine.shutdown().unwrap();
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
