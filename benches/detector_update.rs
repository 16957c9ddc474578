//! `detector_update`: how many samples per second one series' default detector scores.
//!
//! Each iteration feeds a whole stream of 100,000 samples at 1-minute steps to a fresh
//! [`Ensemble`] (created outside the timing), so the number includes the warm-up, the season
//! search and every model refit a real series goes through, not only the steady state. The
//! streams are seeded synthetic data of three shapes:
//!
//! - `noisy`: Gaussian noise around a constant level;
//! - `daily`: a daily season (1,440 samples a day) plus noise, where the seasonal model works;
//! - `spikes_steps`: noise with rare large spikes and a level step every ~10,000 samples, where
//!   the tails and the change-point detector work.
//!
//! Ids are `ensemble/<shape>` and, as a floor to compare with, `rolling_zscore/<shape>`: a bare
//! z-score over a 100-sample window (ring buffer, running sum and sum of squares), about the
//! cheapest detector there is. Throughput is in samples (elements) per second.
//!
//! At startup the bench also prints to stderr the size of a warm ensemble's state serialized
//! with postcard (what a snapshot stores per series), after each shape's 100,000 samples.
//!
//! Run: `cargo bench --bench detector_update`; compare with `-- --save-baseline main` and
//! `-- --baseline main`.

use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use omen_core::{Detector, Sample};
use omen_detect::Ensemble;

/// Samples per stream (and per iteration).
const SAMPLES: usize = 100_000;
/// One sample a minute.
const STEP_MS: i64 = 60_000;
/// 2023-11-14T22:13:20Z, an arbitrary start.
const START_MS: i64 = 1_700_000_000_000;
/// One day, in samples.
const DAY: f64 = 1_440.0;
/// The seed of every stream, so that every run measures the same data.
const SEED: u64 = 0x5EED_0F0E_3E11_2024;
/// The window of the rolling z-score baseline.
const ZSCORE_WINDOW: usize = 100;

/// xorshift64*: small, fast and good enough for synthetic benchmark data.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in (0, 1].
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller; the second value is thrown away for simplicity).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// The shapes of stream measured.
#[derive(Debug, Clone, Copy)]
enum Shape {
    Noisy,
    Daily,
    SpikesSteps,
}

impl Shape {
    const ALL: [Shape; 3] = [Shape::Noisy, Shape::Daily, Shape::SpikesSteps];

    fn name(self) -> &'static str {
        match self {
            Shape::Noisy => "noisy",
            Shape::Daily => "daily",
            Shape::SpikesSteps => "spikes_steps",
        }
    }

    /// The stream of this shape: [`SAMPLES`] samples, [`STEP_MS`] apart.
    fn series(self) -> Vec<Sample> {
        let mut rng = Rng::new(SEED);
        let mut level = 100.0;
        (0..SAMPLES)
            .map(|i| {
                let noise = 2.0 * rng.normal();
                let value = match self {
                    Shape::Noisy => level + noise,
                    Shape::Daily => {
                        let phase = std::f64::consts::TAU * i as f64 / DAY;
                        level + 30.0 * phase.sin() + noise
                    }
                    Shape::SpikesSteps => {
                        if i % 10_000 == 9_999 {
                            level += 20.0 * (rng.uniform() - 0.5);
                        }
                        let spike = if rng.uniform() < 0.001 { 40.0 } else { 0.0 };
                        level + noise + spike
                    }
                };
                Sample::new(START_MS + i as i64 * STEP_MS, value)
            })
            .collect()
    }
}

/// The baseline: z-score of each value against the previous [`ZSCORE_WINDOW`] values.
struct RollingZScore {
    ring: Vec<f64>,
    next: usize,
    sum: f64,
    sum_sq: f64,
}

impl RollingZScore {
    fn new(window: usize) -> Self {
        Self {
            ring: Vec::with_capacity(window),
            next: 0,
            sum: 0.0,
            sum_sq: 0.0,
        }
    }

    /// |z| of `x` against the window before it (0 until two values were seen), then learn `x`.
    fn update(&mut self, x: f64) -> f64 {
        let n = self.ring.len() as f64;
        let z = if n >= 2.0 {
            let mean = self.sum / n;
            let var = (self.sum_sq / n - mean * mean).max(0.0);
            if var > 0.0 {
                (x - mean).abs() / var.sqrt()
            } else {
                0.0
            }
        } else {
            0.0
        };
        if self.ring.len() < self.ring.capacity() {
            self.ring.push(x);
        } else {
            let old = std::mem::replace(&mut self.ring[self.next], x);
            self.sum -= old;
            self.sum_sq -= old * old;
            self.next = (self.next + 1) % self.ring.len();
        }
        self.sum += x;
        self.sum_sq += x * x;
        z
    }
}

/// Prints the postcard size of an ensemble's state after each shape's whole stream.
fn print_state_sizes(streams: &[(Shape, Vec<Sample>)]) {
    let fresh = postcard::to_stdvec(&Ensemble::default()).map_or(0, |v| v.len());
    eprintln!("detector_update: Ensemble state (postcard): fresh {fresh} bytes");
    for (shape, samples) in streams {
        let mut detector = Ensemble::default();
        for &sample in samples {
            detector.update(sample);
        }
        match postcard::to_stdvec(&detector) {
            Ok(bytes) => eprintln!(
                "detector_update: Ensemble state (postcard): {} bytes after {} `{}` samples \
                 (season: {:?} ms)",
                bytes.len(),
                samples.len(),
                shape.name(),
                detector.season_period_ms()
            ),
            Err(err) => eprintln!("detector_update: cannot serialize the ensemble: {err}"),
        }
    }
}

fn detector_update(c: &mut Criterion) {
    let streams: Vec<(Shape, Vec<Sample>)> = Shape::ALL
        .into_iter()
        .map(|shape| (shape, shape.series()))
        .collect();
    print_state_sizes(&streams);

    let mut group = c.benchmark_group("detector_update");
    group.throughput(Throughput::Elements(SAMPLES as u64));
    // One iteration is a whole 100,000-sample stream: 20 of them are plenty.
    group.sample_size(20);
    for (shape, samples) in &streams {
        group.bench_with_input(
            BenchmarkId::new("ensemble", shape.name()),
            samples,
            |b, samples| {
                b.iter_batched(
                    Ensemble::default,
                    |mut detector| {
                        for &sample in samples {
                            black_box(detector.update(black_box(sample)));
                        }
                        detector
                    },
                    BatchSize::SmallInput,
                );
            },
        );
        group.bench_with_input(
            BenchmarkId::new("rolling_zscore", shape.name()),
            samples,
            |b, samples| {
                b.iter_batched(
                    || RollingZScore::new(ZSCORE_WINDOW),
                    |mut detector| {
                        for sample in samples {
                            black_box(detector.update(black_box(sample.value)));
                        }
                        detector
                    },
                    BatchSize::SmallInput,
                );
            },
        );
    }
    group.finish();
}

criterion_group!(benches, detector_update);
criterion_main!(benches);
