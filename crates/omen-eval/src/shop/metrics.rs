//! The metric kinds of the shop and their normal behaviour: load-driven business metrics with
//! daily and weekly seasons, and host metrics with their own shapes (a sawtooth of memory
//! between restarts, a disk that grows and is trimmed every night).

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{HistoryOptions, normal};

/// What a series measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// Orders per minute: a count that follows the traffic.
    Orders,
    /// Share of visits that end in an order.
    Conversion,
    /// 95th percentile of request latency, in seconds.
    LatencyP95,
    /// Share of requests that fail.
    ErrorRatio,
    /// Host CPU utilisation, 0 to 1.
    Cpu,
    /// Host memory utilisation, 0 to 1.
    Memory,
    /// Host filesystem used ratio, 0 to 1.
    Disk,
}

impl MetricKind {
    /// Every kind, in the order series are assigned to them.
    pub const ALL: [MetricKind; 7] = [
        MetricKind::Orders,
        MetricKind::Conversion,
        MetricKind::LatencyP95,
        MetricKind::ErrorRatio,
        MetricKind::Cpu,
        MetricKind::Memory,
        MetricKind::Disk,
    ];

    /// The Prometheus metric name (`__name__`).
    pub fn metric_name(self) -> &'static str {
        match self {
            MetricKind::Orders => "shop_orders_per_minute",
            MetricKind::Conversion => "shop_conversion_ratio",
            MetricKind::LatencyP95 => "http_request_duration_seconds_p95",
            MetricKind::ErrorRatio => "http_requests_error_ratio",
            MetricKind::Cpu => "node_cpu_utilisation_ratio",
            MetricKind::Memory => "node_memory_utilisation_ratio",
            MetricKind::Disk => "node_filesystem_used_ratio",
        }
    }

    /// The range every value stays in.
    pub fn range(self) -> (f64, f64) {
        match self {
            MetricKind::Orders => (0.0, f64::MAX),
            MetricKind::LatencyP95 => (0.0, 60.0),
            _ => (0.0, 1.0),
        }
    }

    /// Which way is bad: +1 when a high value is the problem, -1 when a low one is.
    pub(crate) fn bad_direction(self) -> f64 {
        match self {
            MetricKind::Orders | MetricKind::Conversion => -1.0,
            _ => 1.0,
        }
    }
}

/// Relative traffic at `t_ms`: about 0.25 at night, 1 at the evening peak, weekends busier.
pub(crate) fn load(t_ms: i64, start_ms: i64) -> f64 {
    let hours = (t_ms - start_ms) as f64 / 3_600_000.0;
    let hour = hours.rem_euclid(24.0);
    let day = (hours / 24.0).floor() as i64;
    let bump = |centre: f64, width: f64| {
        let d = (hour - centre + 12.0).rem_euclid(24.0) - 12.0;
        (-0.5 * (d / width).powi(2)).exp()
    };
    let daily = 0.22 + 0.5 * bump(12.5, 2.5) + 0.78 * bump(20.5, 2.0);
    // The history starts on a Monday: days 5 and 6 of each week are the weekend.
    let weekly = if day.rem_euclid(7) >= 5 { 1.2 } else { 1.0 };
    daily * weekly
}

/// The normal behaviour of one series of `kind`, before incidents.
pub(crate) fn baseline(
    kind: MetricKind,
    options: &HistoryOptions,
    n: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<f64> {
    // Each series grows (or shrinks a little) over the history, at its own rate.
    let growth_per_day = rng.random_range(-0.005..0.02);
    let scale = rng.random_range(0.5..2.0);
    // Memory: the service restarts every few days, and memory creeps up in between.
    let restart_every = rng.random_range(2.0..5.0) * 86_400_000.0;
    let disk_start = rng.random_range(0.3..0.6);
    let mut values = Vec::with_capacity(n);
    let mut smooth = 0.0;
    for i in 0..n {
        let t = options.start_ms + i as i64 * options.step_ms;
        let elapsed_days = (i as f64 * options.step_ms as f64) / 86_400_000.0;
        let trend = 1.0 + growth_per_day * elapsed_days;
        let l = load(t, options.start_ms) * trend;
        // Slowly varying noise shared by neighbouring samples, as real metrics have.
        smooth = 0.9 * smooth + 0.1 * normal(rng);
        let z = normal(rng);
        let v = match kind {
            MetricKind::Orders => {
                let rate = 120.0 * scale * l;
                (rate + rate.sqrt() * z + 0.05 * rate * smooth).round()
            }
            MetricKind::Conversion => 0.025 + 0.004 * (l - 0.6) + 0.002 * z + 0.002 * smooth,
            MetricKind::LatencyP95 => (0.16 + 0.1 * l * l) * (0.08 * z + 0.15 * smooth).exp(),
            MetricKind::ErrorRatio => 0.0015 * scale * (0.35 * z).exp() * (1.0 + 0.3 * l),
            MetricKind::Cpu => 0.1 + 0.5 * l * scale.min(1.4) + 0.03 * z + 0.05 * smooth,
            MetricKind::Memory => {
                let since_restart = (i as f64 * options.step_ms as f64) % restart_every;
                0.42 + 0.18 * since_restart / restart_every + 0.01 * z
            }
            MetricKind::Disk => {
                // Grows with traffic; log rotation at 03:00 frees a little every night.
                let rotated = (elapsed_days + 21.0 / 24.0).floor();
                disk_start + 0.012 * elapsed_days - 0.008 * rotated + 0.0005 * z
            }
        };
        let (lo, hi) = kind.range();
        values.push(v.clamp(lo, hi));
    }
    values
}
