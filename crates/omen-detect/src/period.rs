//! Finds a series' dominant period from the data itself, by autocorrelation.
//!
//! Samples are placed into a buffer of time slots (gaps are carried forward so that a lag in
//! slots is a lag in time). When the buffer is full, neighbouring slots are averaged in pairs
//! and the slot width doubles, so the buffer spans ever longer history in bounded memory
//! (`CAPACITY` slots). Each time it has filled up again, the autocorrelation of the linearly
//! detrended buffer is computed for every lag up to half its length, and the first strong,
//! prominent peak is taken as the period. A random walk or a trend has a slowly decaying
//! autocorrelation with no prominent peak, and noise has none above `MIN_PEAK`, so neither is
//! mistaken for a season. After `max_span_ms` of history without a season the search stops.
//!
//! The finder is only alive while a series warms up; once it has answered, its buffer is
//! dropped and only the seasonal profile is kept.
//!
//! Cost: `CAPACITY` floats and counts while searching; each attempt is O(CAPACITY log CAPACITY).

mod autocorrelation;

use serde::{Deserialize, Serialize};

use autocorrelation::{autocorrelation, autocorrelations};

/// Slots in the buffer.
const CAPACITY: usize = 1024;
/// Slots needed before the first attempt.
const FIRST_ATTEMPT: usize = 256;
/// A period must repeat at least this many times in the buffer.
const MIN_CYCLES: usize = 2;
/// Autocorrelation a peak must reach.
const MIN_PEAK: f64 = 0.3;
/// How far a peak must rise above the lowest autocorrelation at a shorter lag.
const MIN_PROMINENCE: f64 = 0.25;
/// A shorter lag wins over the highest peak when it reaches this fraction of it (the
/// fundamental rather than a multiple of it).
const FUNDAMENTAL_FRACTION: f64 = 0.85;
/// Smallest period, in slots.
const MIN_LAG: usize = 4;
/// Samples whose intervals fix the slot width.
const STEP_SAMPLES: usize = 9;

/// A season found in the data.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundSeason {
    /// The period in milliseconds.
    pub period_ms: i64,
    /// The autocorrelation at the period.
    pub strength: f64,
    /// The buffered history: (slot centre in ms, mean value), oldest first.
    pub history: Vec<(i64, f64)>,
    /// The typical interval between raw samples, in milliseconds.
    pub step_ms: i64,
}

/// The outcome of feeding one sample.
#[derive(Debug, Clone, PartialEq)]
pub enum Search {
    /// Still gathering history.
    Searching,
    /// A season was found.
    Found(FoundSeason),
    /// Enough history was seen and none was found.
    NoSeason,
}

/// The buffer and bookkeeping of an ongoing search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodFinder {
    max_span_ms: i64,
    first_samples: Vec<(i64, f64)>,
    origin_ms: i64,
    slot_ms: i64,
    step_ms: i64,
    sums: Vec<f64>,
    counts: Vec<u32>,
    next_attempt: usize,
}

impl PeriodFinder {
    /// A finder that gives up after `max_span_ms` of history without a season.
    pub fn new(max_span_ms: i64) -> Self {
        Self {
            max_span_ms,
            first_samples: Vec::with_capacity(STEP_SAMPLES),
            origin_ms: 0,
            slot_ms: 0,
            step_ms: 0,
            sums: Vec::new(),
            counts: Vec::new(),
            next_attempt: FIRST_ATTEMPT,
        }
    }

    /// Add one sample (finite value, increasing timestamps).
    pub fn push(&mut self, timestamp_ms: i64, value: f64) -> Search {
        if self.slot_ms == 0 {
            self.first_samples.push((timestamp_ms, value));
            if self.first_samples.len() < STEP_SAMPLES {
                return Search::Searching;
            }
            self.start_slots();
            return Search::Searching;
        }
        self.place(timestamp_ms, value);
        let filled = self.sums.len();
        if filled < self.next_attempt {
            return Search::Searching;
        }
        self.next_attempt = filled + CAPACITY / 4;
        if let Some(found) = self.attempt() {
            return Search::Found(found);
        }
        if self.span_ms() >= self.max_span_ms {
            return Search::NoSeason;
        }
        Search::Searching
    }

    fn start_slots(&mut self) {
        let mut steps: Vec<i64> = self
            .first_samples
            .windows(2)
            .map(|w| w[1].0 - w[0].0)
            .filter(|d| *d > 0)
            .collect();
        steps.sort_unstable();
        self.step_ms = steps.get(steps.len() / 2).copied().unwrap_or(1).max(1);
        self.slot_ms = self.step_ms;
        self.origin_ms = self.first_samples[0].0;
        // No reserving CAPACITY up front: the buffer grows one slot per step, so a young
        // series holds what it has seen (a few hundred bytes), not 12 KiB.
        for (t, v) in std::mem::take(&mut self.first_samples) {
            self.place(t, v);
        }
    }

    fn span_ms(&self) -> i64 {
        self.sums.len() as i64 * self.slot_ms
    }

    fn place(&mut self, timestamp_ms: i64, value: f64) {
        let mut slot = ((timestamp_ms - self.origin_ms) / self.slot_ms) as usize;
        while slot >= CAPACITY {
            self.halve();
            slot = ((timestamp_ms - self.origin_ms) / self.slot_ms) as usize;
        }
        // Carry the last value over gaps so that slot distance stays time distance.
        while self.sums.len() <= slot {
            let carried = self
                .mean_of(self.sums.len().wrapping_sub(1))
                .unwrap_or(value);
            self.sums.push(carried);
            self.counts.push(0);
        }
        if self.counts[slot] == 0 {
            self.sums[slot] = 0.0;
        }
        self.sums[slot] += value;
        self.counts[slot] += 1;
    }

    fn mean_of(&self, slot: usize) -> Option<f64> {
        let count = *self.counts.get(slot)?;
        Some(if count == 0 {
            self.sums[slot]
        } else {
            self.sums[slot] / count as f64
        })
    }

    /// Merge neighbouring slots pairwise; the slot width doubles.
    fn halve(&mut self) {
        let old_len = self.sums.len();
        let mut sums = Vec::with_capacity(CAPACITY);
        let mut counts = Vec::with_capacity(CAPACITY);
        for pair in 0..old_len.div_ceil(2) {
            let (a, b) = (2 * pair, (2 * pair + 1).min(old_len - 1));
            let (ca, cb) = (self.counts[a], if b != a { self.counts[b] } else { 0 });
            if ca + cb == 0 {
                sums.push(self.mean_of(a).unwrap_or(0.0));
                counts.push(0);
            } else {
                let sb = if b != a && cb > 0 { self.sums[b] } else { 0.0 };
                let sa = if ca > 0 { self.sums[a] } else { 0.0 };
                sums.push(sa + sb);
                counts.push(ca + cb);
            }
        }
        self.sums = sums;
        self.counts = counts;
        self.slot_ms *= 2;
        self.next_attempt = self.sums.len().max(FIRST_ATTEMPT) + CAPACITY / 4;
    }

    fn values(&self) -> Vec<f64> {
        (0..self.sums.len())
            .map(|i| self.mean_of(i).unwrap_or(0.0))
            .collect()
    }

    fn attempt(&self) -> Option<FoundSeason> {
        let values = self.values();
        let lag = dominant_lag(&values)?;
        let detrended = detrend(&values);
        let strength = autocorrelation(&detrended, lag);
        let period_ms = snap_to_calendar(refine_lag(&detrended, lag) * self.slot_ms as f64);
        let history = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                (
                    self.origin_ms + i as i64 * self.slot_ms + self.slot_ms / 2,
                    *v,
                )
            })
            .collect();
        Some(FoundSeason {
            period_ms,
            strength,
            history,
            step_ms: self.step_ms,
        })
    }
}

/// The values minus their least-squares line.
fn detrend(values: &[f64]) -> Vec<f64> {
    let n = values.len() as f64;
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = values.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, y) in values.iter().enumerate() {
        let dx = i as f64 - mean_x;
        sxy += dx * (y - mean_y);
        sxx += dx * dx;
    }
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    values
        .iter()
        .enumerate()
        .map(|(i, y)| y - mean_y - slope * (i as f64 - mean_x))
        .collect()
}

/// The peak's lag to a fraction of a slot, by a parabola through the autocorrelation at
/// `lag − 1`, `lag` and `lag + 1`: after decimation a slot can be a large part of an hour, and
/// a period off by one slot drifts through the season day after day.
fn refine_lag(values: &[f64], lag: usize) -> f64 {
    let (a, b, c) = (
        autocorrelation(values, lag - 1),
        autocorrelation(values, lag),
        autocorrelation(values, lag + 1),
    );
    let curvature = a - 2.0 * b + c;
    if curvature >= 0.0 {
        return lag as f64;
    }
    lag as f64 + (0.5 * (a - c) / curvature).clamp(-0.5, 0.5)
}

/// Periods people's lives put into metrics: an hour, a day, a week.
const CALENDAR_PERIODS_MS: [i64; 3] = [3_600_000, 86_400_000, 604_800_000];
/// How close a found period must be to a calendar period to be taken as it.
const CALENDAR_TOLERANCE: f64 = 0.015;

/// A period within 1.5 % of an hour, a day or a week is taken as exactly that: estimates from a
/// few cycles are that noisy, and the true season of operations metrics is almost always one
/// of them.
fn snap_to_calendar(period_ms: f64) -> i64 {
    for calendar in CALENDAR_PERIODS_MS {
        if (period_ms / calendar as f64 - 1.0).abs() <= CALENDAR_TOLERANCE {
            return calendar;
        }
    }
    period_ms.round() as i64
}

/// The first strong, prominent autocorrelation peak, if any.
pub(crate) fn dominant_lag(values: &[f64]) -> Option<usize> {
    let x = detrend(values);
    let max_lag = x.len() / MIN_CYCLES;
    if max_lag <= MIN_LAG + 1 {
        return None;
    }
    let acf = autocorrelations(&x, max_lag);
    let mut peaks = Vec::new();
    let mut lowest_so_far = f64::INFINITY;
    for lag in 1..max_lag {
        lowest_so_far = lowest_so_far.min(acf[lag]);
        let is_peak = acf[lag] >= acf[lag - 1] && acf[lag] > acf[lag + 1];
        if lag >= MIN_LAG
            && is_peak
            && acf[lag] >= MIN_PEAK
            && acf[lag] - lowest_so_far >= MIN_PROMINENCE
        {
            peaks.push((lag, acf[lag]));
        }
    }
    let best = peaks.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    peaks
        .into_iter()
        .find(|p| p.1 >= FUNDAMENTAL_FRACTION * best)
        .map(|p| p.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_series::{DAY, MINUTE, wiggle};

    struct Case {
        name: &'static str,
        step_ms: i64,
        value: fn(i64, usize) -> f64,
        samples: usize,
        /// Expected period in ms (within 3 %), or None for no season.
        want: Option<i64>,
    }

    const CASES: &[Case] = &[
        Case {
            name: "daily sine at 5-minute steps",
            step_ms: 5 * MINUTE,
            value: |t, i| {
                10.0 + 5.0 * (t as f64 / DAY as f64 * std::f64::consts::TAU).sin() + wiggle(i)
            },
            samples: 288 * 5,
            want: Some(DAY),
        },
        Case {
            name: "daily square wave at 1-minute steps",
            step_ms: MINUTE,
            value: |t, _| if (t % DAY) < DAY / 2 { 0.0 } else { 80.0 },
            samples: 1440 * 4,
            want: Some(DAY),
        },
        Case {
            name: "hourly pattern at 1-minute steps with a spike",
            step_ms: MINUTE,
            value: |t, i| {
                let base = ((t / MINUTE) % 60) as f64;
                if i == 300 { 1e4 } else { base + wiggle(i) }
            },
            samples: 600,
            want: Some(60 * MINUTE),
        },
        Case {
            name: "white noise",
            step_ms: MINUTE,
            value: |_, i| wiggle(i),
            samples: 5000,
            want: None,
        },
        Case {
            name: "random walk",
            step_ms: MINUTE,
            value: |_, i| (0..i).map(wiggle).sum::<f64>(),
            samples: 3000,
            want: None,
        },
        Case {
            name: "linear trend",
            step_ms: MINUTE,
            value: |_, i| i as f64,
            samples: 3000,
            want: None,
        },
    ];

    fn run(case: &Case) -> Search {
        // Search for as long as the case runs.
        let mut finder = PeriodFinder::new(case.samples as i64 * case.step_ms - case.step_ms);
        for i in 0..case.samples {
            let t = i as i64 * case.step_ms;
            match finder.push(t, (case.value)(t, i)) {
                Search::Searching => {}
                done => return done,
            }
        }
        Search::Searching
    }

    #[test]
    fn cases() {
        for case in CASES {
            match (run(case), case.want) {
                (Search::Found(found), Some(want)) => {
                    let err = (found.period_ms - want).abs() as f64 / want as f64;
                    assert!(err < 0.03, "{}: found {} ms", case.name, found.period_ms);
                }
                (Search::NoSeason | Search::Searching, None) => {}
                (got, want) => panic!("{}: got {got:?}, want {want:?}", case.name),
            }
        }
    }

    #[test]
    fn gaps_keep_time_distance() {
        // A daily sine sampled every 5 minutes, with a 6-hour hole on day 2.
        let mut finder = PeriodFinder::new(10 * DAY);
        let mut found = None;
        for i in 0..288 * 6 {
            let t = i as i64 * 5 * MINUTE;
            if (DAY + 6 * 60 * MINUTE..DAY + 12 * 60 * MINUTE).contains(&t) {
                continue;
            }
            let v = (t as f64 / DAY as f64 * std::f64::consts::TAU).sin();
            if let Search::Found(f) = finder.push(t, v) {
                found = Some(f.period_ms);
                break;
            }
        }
        let period = found.expect("season found");
        assert!((period - DAY).abs() < DAY / 30, "{period}");
    }
}
