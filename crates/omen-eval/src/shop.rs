//! A realistic, labelled metrics history of an online shop, for demos, labelled evaluation and
//! benchmarks: business metrics (orders per minute, conversion, p95 latency, error ratio) and
//! host metrics (CPU, memory, disk), with daily and weekly seasons, noise, trends, and injected
//! incidents that are labelled: spikes, level shifts, slow memory leaks and disks filling up.
//!
//! Every series is a pure function of the seed and its index, so series can be generated in
//! any order, in parallel, or one at a time to keep memory flat.

mod incidents;
mod metrics;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub use incidents::{Incident, IncidentKind};
pub use metrics::MetricKind;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryOptions {
    /// How many series: the 7 metric kinds in turn, 7 per instance.
    pub series: usize,
    /// How many days of history.
    pub days: u32,
    /// Time between samples, in milliseconds.
    pub step_ms: i64,
    /// The random seed: the same seed gives the same history.
    pub seed: u64,
    /// The first timestamp, in Unix milliseconds (a Monday 00:00 UTC by default).
    pub start_ms: i64,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        Self {
            series: 28,
            days: 14,
            step_ms: 60_000,
            seed: 1,
            // 2026-03-02 00:00:00 UTC, a Monday.
            start_ms: 1_772_409_600_000,
        }
    }
}

impl HistoryOptions {
    /// Samples per series.
    pub fn points_per_series(&self) -> usize {
        (i64::from(self.days) * 86_400_000 / self.step_ms.max(1)) as usize
    }
}

/// One generated series.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesHistory {
    /// The metric, with its Prometheus name.
    pub kind: MetricKind,
    /// The `instance` label: `shop-001`, `shop-002`, ...
    pub instance: String,
    /// The values, one per step from `start_ms`.
    pub values: Vec<f64>,
    /// Whether each sample is inside a labelled incident.
    pub labels: Vec<bool>,
    /// The incidents injected, in time order.
    pub incidents: Vec<Incident>,
}

/// Generate series number `index` of the history.
pub fn generate_series(options: &HistoryOptions, index: usize) -> SeriesHistory {
    let kind = MetricKind::ALL[index % MetricKind::ALL.len()];
    let instance_no = index / MetricKind::ALL.len() + 1;
    // One stream per series, independent of every other series.
    let mut rng = ChaCha8Rng::seed_from_u64(
        options.seed ^ (index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
    );
    let n = options.points_per_series();
    let mut values = metrics::baseline(kind, options, n, &mut rng);
    let incidents = incidents::plan(kind, options, n, &mut rng);
    let mut labels = vec![false; n];
    for incident in &incidents {
        incidents::apply(kind, incident, options, &mut values, &mut labels, &mut rng);
    }
    SeriesHistory {
        kind,
        instance: format!("shop-{instance_no:03}"),
        values,
        labels,
        incidents,
    }
}

/// A standard normal draw (Box–Muller).
pub(crate) fn normal(rng: &mut ChaCha8Rng) -> f64 {
    use rand::Rng;
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> HistoryOptions {
        HistoryOptions {
            series: 14,
            days: 14,
            step_ms: 300_000,
            ..HistoryOptions::default()
        }
    }

    #[test]
    fn same_seed_same_series_and_different_seed_differs() {
        let a = generate_series(&small(), 3);
        let b = generate_series(&small(), 3);
        assert_eq!(a, b);
        let c = generate_series(&HistoryOptions { seed: 2, ..small() }, 3);
        assert_ne!(a.values, c.values);
    }

    #[test]
    fn every_kind_is_generated_with_finite_values_in_range() {
        let options = small();
        for index in 0..options.series {
            let s = generate_series(&options, index);
            assert_eq!(s.values.len(), options.points_per_series());
            assert_eq!(s.labels.len(), s.values.len());
            let (lo, hi) = s.kind.range();
            for (i, v) in s.values.iter().enumerate() {
                assert!(
                    v.is_finite() && *v >= lo && *v <= hi,
                    "{:?} sample {i}: {v}",
                    s.kind
                );
            }
        }
    }

    #[test]
    fn incidents_are_labelled_and_leave_the_warm_up_alone() {
        let options = small();
        let n = options.points_per_series();
        let mut labelled = 0;
        let mut incidents = 0;
        for index in 0..options.series {
            let s = generate_series(&options, index);
            incidents += s.incidents.len();
            labelled += s.labels.iter().filter(|l| **l).count();
            assert!(s.labels[..n / 5].iter().all(|l| !l), "{:?}", s.kind);
            for incident in &s.incidents {
                let first = ((incident.start_ms - options.start_ms) / options.step_ms) as usize;
                assert!(s.labels[first], "{incident:?}");
            }
        }
        assert!(incidents >= options.series, "{incidents} incidents");
        let share = labelled as f64 / (n * options.series) as f64;
        assert!(share > 0.001 && share < 0.1, "labelled share {share}");
    }

    #[test]
    fn orders_follow_a_daily_and_weekly_rhythm() {
        let options = HistoryOptions {
            series: 1,
            ..small()
        };
        let s = generate_series(&options, 0);
        assert_eq!(s.kind, MetricKind::Orders);
        let per_day = 288;
        let at = |day: usize, hour: usize| -> f64 {
            let i = day * per_day + hour * 12;
            s.values[i..i + 12].iter().sum::<f64>() / 12.0
        };
        // Night is quieter than the evening peak, every weekday of the first week.
        for day in 0..5 {
            assert!(at(day, 4) * 2.0 < at(day, 20), "day {day}");
        }
        // Saturday busier than Tuesday at the same hour.
        assert!(at(5, 15) > at(1, 15));
    }
}
