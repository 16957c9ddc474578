//! Incidents injected into a series, and their labels: what an operator would want paged for.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{HistoryOptions, MetricKind};

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IncidentKind {
    /// A short burst far outside the normal range (minutes).
    Spike,
    /// The level moves in the bad direction and stays there for hours (a bad deploy, a
    /// broken payment provider), then recovers.
    LevelShift,
    /// Memory climbs steadily towards exhaustion over a day or more, until a restart.
    SlowLeak,
    /// The disk fills within hours, until it is cleaned.
    DiskFilling,
}

impl IncidentKind {
    /// A short name for tables: `spike`, `level_shift`, `slow_leak`, `disk_filling`.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentKind::Spike => "spike",
            IncidentKind::LevelShift => "level_shift",
            IncidentKind::SlowLeak => "slow_leak",
            IncidentKind::DiskFilling => "disk_filling",
        }
    }
}

/// One labelled incident: every sample from `start_ms` to `end_ms` (both included) is labelled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Incident {
    /// What went wrong.
    pub kind: IncidentKind,
    /// The first labelled sample, Unix milliseconds.
    pub start_ms: i64,
    /// The last labelled sample, Unix milliseconds.
    pub end_ms: i64,
}

/// Incidents per series per week, on average.
const INCIDENTS_PER_WEEK: f64 = 1.5;

/// Choose the incidents of one series: about 1.5 a week, none in the first fifth of the history
/// (a detector must learn first), none overlapping.
pub(crate) fn plan(
    kind: MetricKind,
    options: &HistoryOptions,
    n: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<Incident> {
    let step = options.step_ms as f64;
    let minutes = |m: f64| ((m * 60_000.0 / step).round() as usize).max(1);
    let expected = INCIDENTS_PER_WEEK * f64::from(options.days) / 7.0;
    let count = expected.floor() as usize + usize::from(rng.random::<f64>() < expected.fract());
    let first = n / 5;
    if n < 10 || first >= n {
        return Vec::new();
    }
    let mut taken: Vec<(usize, usize)> = Vec::new();
    let mut out = Vec::new();
    for _ in 0..count {
        let incident_kind = match kind {
            MetricKind::Memory if rng.random::<f64>() < 0.6 => IncidentKind::SlowLeak,
            MetricKind::Disk if rng.random::<f64>() < 0.7 => IncidentKind::DiskFilling,
            _ if rng.random::<f64>() < 0.5 => IncidentKind::Spike,
            _ => IncidentKind::LevelShift,
        };
        let length = match incident_kind {
            IncidentKind::Spike => minutes(rng.random_range(3.0..30.0)),
            IncidentKind::LevelShift => minutes(rng.random_range(60.0..360.0)),
            IncidentKind::SlowLeak => minutes(rng.random_range(18.0..40.0) * 60.0),
            IncidentKind::DiskFilling => minutes(rng.random_range(2.0..8.0) * 60.0),
        }
        .min(n - first - 1);
        // A few tries to find a free place; give up on this incident otherwise.
        for _ in 0..20 {
            let start = rng.random_range(first..n - length);
            let end = start + length - 1;
            // Keep a day's gap between incidents of one series, so that each is its own event.
            let gap = minutes(24.0 * 60.0);
            if taken.iter().all(|&(s, e)| end + gap < s || start > e + gap) {
                taken.push((start, end));
                out.push(Incident {
                    kind: incident_kind,
                    start_ms: options.start_ms + start as i64 * options.step_ms,
                    end_ms: options.start_ms + end as i64 * options.step_ms,
                });
                break;
            }
        }
    }
    out.sort_by_key(|i| i.start_ms);
    out
}

/// Change the values under `incident` and label its samples.
pub(crate) fn apply(
    kind: MetricKind,
    incident: &Incident,
    options: &HistoryOptions,
    values: &mut [f64],
    labels: &mut [bool],
    rng: &mut ChaCha8Rng,
) {
    let start = ((incident.start_ms - options.start_ms) / options.step_ms) as usize;
    let end = ((incident.end_ms - options.start_ms) / options.step_ms) as usize;
    let length = (end - start + 1) as f64;
    let dir = kind.bad_direction();
    let (lo, hi) = kind.range();
    match incident.kind {
        IncidentKind::Spike => {
            let factor = rng.random_range(2.5..6.0);
            for v in &mut values[start..=end] {
                *v = spiked(kind, *v, factor, dir);
            }
        }
        IncidentKind::LevelShift => {
            let factor = rng.random_range(0.35..0.7);
            for v in &mut values[start..=end] {
                *v = shifted(kind, *v, factor, dir);
            }
        }
        IncidentKind::SlowLeak | IncidentKind::DiskFilling => {
            // Climb from where the series is towards full, and drop back after (restart or
            // clean-up), which the baseline's next values already are.
            let from = values[start];
            let to = rng.random_range(0.95..0.995);
            for (k, v) in values[start..=end].iter_mut().enumerate() {
                let progress = (k as f64 + 1.0) / length;
                *v = (from + (to - from) * progress + (*v - from) * 0.2).max(*v);
            }
        }
    }
    for v in &mut values[start..=end] {
        *v = v.clamp(lo, hi);
    }
    labels[start..=end].fill(true);
}

fn spiked(kind: MetricKind, v: f64, factor: f64, dir: f64) -> f64 {
    match kind {
        // Orders and conversion fall (a checkout outage).
        MetricKind::Orders | MetricKind::Conversion => v / factor,
        MetricKind::ErrorRatio => v * factor * 8.0 + 0.02,
        MetricKind::Cpu | MetricKind::Memory | MetricKind::Disk => v + dir * 0.08 * factor,
        MetricKind::LatencyP95 => v * factor,
    }
}

fn shifted(kind: MetricKind, v: f64, factor: f64, dir: f64) -> f64 {
    match kind {
        MetricKind::Orders | MetricKind::Conversion => v * (1.0 - factor),
        MetricKind::ErrorRatio => v * (1.0 + 6.0 * factor) + 0.01,
        MetricKind::Cpu | MetricKind::Memory | MetricKind::Disk => v + dir * 0.3 * factor,
        MetricKind::LatencyP95 => v * (1.0 + 2.0 * factor),
    }
}
