//! Seasonal baseline: level, damped trend and a season whose period is learned from the data.
//!
//! While warming up, samples go to a [`PeriodFinder`]. When it finds a period, the model
//! becomes additive Holt–Winters in error-correction form with a damped trend:
//!
//! ```text
//! forecast = level + φ·trend + season(phase)
//! e        = clip(x − forecast, ±clip·σ)            (Huber: an outlier cannot bend the model)
//! level   += φ·trend + α·e;   trend = φ·trend + β·e;   season(phase) += γ·e
//! ```
//!
//! The season is a compact step profile of at most `MAX_BINS` bins over one period, so the
//! state stays small whatever the sampling rate (a daily season at one-minute resolution is
//! 1,440 samples but at most 288 five-minute bins here, 1,152 bytes). Bins are not
//! interpolated: interpolation blurs the sharp edges that operations metrics have (a batch job
//! starting at 09:00), and the blur becomes a false alarm at every edge.
//! The phase comes from the timestamp, so gaps and irregular sampling do not shift it.
//! The profile, level and residual scale start from the history the finder buffered, so the
//! model is useful from the moment the period is known.
//!
//! Cost per series once warm: at most `MAX_BINS` f32 plus 6 numbers; a few flops per sample.
//!
//! Reference: Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, §8.3 (the
//! error-correction form of Holt–Winters' additive method).

use serde::{Deserialize, Serialize};

use crate::period::{FoundSeason, PeriodFinder, Search};
use crate::robust::alpha_for_half_life;

/// Most bins in one season's profile.
pub const MAX_BINS: usize = 288;
/// Level smoothing (per sample).
const ALPHA: f64 = 0.1;
/// Trend smoothing (per sample).
const BETA: f64 = 0.005;
/// Trend damping per sample.
const PHI: f64 = 0.98;
/// Season smoothing per visit of a bin.
const GAMMA: f64 = 0.15;
/// Residuals beyond this many σ are clipped before they update the model.
const CLIP: f64 = 3.0;
/// Half-life, in samples, of the residual scale.
const SCALE_HALF_LIFE: f64 = 200.0;

/// Holt–Winters state once a period is known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoltWinters {
    period_ms: i64,
    strength: f64,
    level: f64,
    trend: f64,
    abs_dev: f64,
    profile: Vec<f32>,
}

/// Where the seasonal baseline is in its life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SeasonalBaseline {
    /// Gathering history to find a period. Inline, not boxed: the finder's bookkeeping (104
    /// bytes) fits in a live series' 768-byte allocation, where a box of its own took another
    /// 128-byte block for as long as the search runs (up to three weeks).
    Searching(PeriodFinder),
    /// Modelling a season.
    Seasonal(HoltWinters),
    /// The series has no season worth modelling.
    NoSeason,
}

impl SeasonalBaseline {
    /// A baseline that searches up to `max_span_ms` of history for a season.
    pub fn new(max_span_ms: i64) -> Self {
        SeasonalBaseline::Searching(PeriodFinder::new(max_span_ms))
    }

    /// The model, when a season is being modelled.
    pub fn model(&self) -> Option<&HoltWinters> {
        match self {
            SeasonalBaseline::Seasonal(hw) => Some(hw),
            _ => None,
        }
    }

    /// Bytes held on the heap (capacities): the season search's buffer while searching, the
    /// profile once a season is modelled.
    pub fn heap_bytes(&self) -> usize {
        match self {
            SeasonalBaseline::Searching(finder) => finder.heap_bytes(),
            SeasonalBaseline::Seasonal(hw) => hw.profile.capacity() * size_of::<f32>(),
            SeasonalBaseline::NoSeason => 0,
        }
    }

    /// Mutable access to the model, when a season is being modelled.
    pub fn model_mut(&mut self) -> Option<&mut HoltWinters> {
        match self {
            SeasonalBaseline::Seasonal(hw) => Some(hw),
            _ => None,
        }
    }

    /// Learn from one sample (after it was scored against [`HoltWinters::forecast`]).
    pub fn update(&mut self, timestamp_ms: i64, value: f64) {
        self.update_in_bin(timestamp_ms, value, None);
    }

    /// [`update`](Self::update), given the model's profile bin of `timestamp_ms` when the
    /// caller already has it from [`HoltWinters::bin_at`] (the phase costs two integer
    /// divisions, which are a noticeable part of a sample's cost).
    pub(crate) fn update_in_bin(&mut self, timestamp_ms: i64, value: f64, bin: Option<usize>) {
        match self {
            SeasonalBaseline::Searching(finder) => match finder.push(timestamp_ms, value) {
                Search::Searching => {}
                Search::Found(found) => {
                    *self = SeasonalBaseline::Seasonal(HoltWinters::from(found))
                }
                Search::NoSeason => *self = SeasonalBaseline::NoSeason,
            },
            SeasonalBaseline::Seasonal(hw) => {
                let bin = bin.unwrap_or_else(|| hw.bin_at(timestamp_ms));
                hw.update_in_bin(bin, value)
            }
            SeasonalBaseline::NoSeason => {}
        }
    }
}

impl HoltWinters {
    /// The period in milliseconds.
    pub fn period_ms(&self) -> i64 {
        self.period_ms
    }

    /// The autocorrelation at the period when it was found.
    pub fn strength(&self) -> f64 {
        self.strength
    }

    /// The forecast for `timestamp_ms`.
    pub fn forecast(&self, timestamp_ms: i64) -> f64 {
        self.forecast_in_bin(self.bin_at(timestamp_ms))
    }

    /// The forecast for a timestamp in profile bin `bin` (from [`bin_at`](Self::bin_at)).
    pub(crate) fn forecast_in_bin(&self, bin: usize) -> f64 {
        self.level + PHI * self.trend + self.profile[bin] as f64
    }

    /// The residual scale as a Gaussian-equivalent σ.
    pub fn sigma(&self) -> f64 {
        self.abs_dev * 1.253_314_137_315_500_3
    }

    /// Move the level by `delta` (a confirmed level shift).
    pub fn shift(&mut self, delta: f64) {
        self.level += delta;
    }

    /// Learn from a value whose timestamp is in profile bin `bin`.
    fn update_in_bin(&mut self, bin: usize, value: f64) {
        let forecast = self.forecast_in_bin(bin);
        let limit = CLIP * self.sigma();
        let raw = value - forecast;
        let e = if limit > 0.0 {
            raw.clamp(-limit, limit)
        } else {
            raw
        };
        self.abs_dev += alpha_for_half_life(SCALE_HALF_LIFE) * (e.abs() - self.abs_dev);
        self.level += PHI * self.trend + ALPHA * e;
        self.trend = PHI * self.trend + BETA * e;
        self.profile[bin] += (GAMMA * e) as f32;
    }

    /// The profile bin of `timestamp_ms`'s phase.
    pub(crate) fn bin_at(&self, timestamp_ms: i64) -> usize {
        phase_bin(timestamp_ms, self.period_ms, self.profile.len())
    }

    /// [`bin_at`](Self::bin_at), mostly without dividing: see [`PhaseMemo`].
    pub(crate) fn bin_at_memo(&self, timestamp_ms: i64, memo: &mut PhaseMemo) -> usize {
        memo.bin(timestamp_ms, self.period_ms, self.profile.len())
    }
}

impl From<FoundSeason> for HoltWinters {
    fn from(found: FoundSeason) -> Self {
        let samples_per_period = (found.period_ms / found.step_ms.max(1)).max(2) as usize;
        let bins = samples_per_period.min(MAX_BINS);
        let mut hw = HoltWinters {
            period_ms: found.period_ms,
            strength: found.strength,
            level: 0.0,
            trend: 0.0,
            abs_dev: 0.0,
            profile: vec![0.0; bins],
        };
        // Level: the mean of the last whole period of history.
        let history = &found.history;
        let slot_ms = history
            .get(1)
            .map(|h| h.0 - history[0].0)
            .unwrap_or(found.period_ms)
            .max(1);
        let per_period = ((found.period_ms / slot_ms) as usize).clamp(1, history.len());
        let recent = &history[history.len() - per_period..];
        hw.level = recent.iter().map(|h| h.1).sum::<f64>() / recent.len() as f64;
        let overall = history.iter().map(|h| h.1).sum::<f64>() / history.len() as f64;
        // Profile: the mean deviation from the overall mean at each phase.
        let mut sums = vec![0.0; bins];
        let mut counts = vec![0u32; bins];
        for &(t, v) in history {
            let bin = phase_bin(t, found.period_ms, bins);
            sums[bin] += v - overall;
            counts[bin] += 1;
        }
        for bin in 0..bins {
            if counts[bin] > 0 {
                hw.profile[bin] = (sums[bin] / counts[bin] as f64) as f32;
            }
        }
        fill_empty_bins(&mut hw.profile, &counts);
        // Residual scale: how far the buffered history sits from the initial model.
        let mut abs_sum = 0.0;
        for &(t, v) in history {
            let season = hw.forecast(t) - hw.level;
            abs_sum += (v - overall - season).abs();
        }
        hw.abs_dev = abs_sum / history.len() as f64;
        hw
    }
}

/// The bin of `timestamp_ms`'s phase in a profile of `bins` bins over `period_ms`.
fn phase_bin(timestamp_ms: i64, period_ms: i64, bins: usize) -> usize {
    let offset = timestamp_ms.rem_euclid(period_ms);
    // The same integer quotient either way; a 64-bit division is several times cheaper than
    // a 128-bit one, which is only needed for periods of thousands of years.
    let bin = match offset.checked_mul(bins as i64) {
        Some(scaled) => scaled / period_ms,
        None => (offset as i128 * bins as i128 / period_ms as i128) as i64,
    };
    (bin as usize).min(bins - 1)
}

/// Where the last timestamp fell in the season, so that [`phase_bin`] of the next one, usually a
/// step later and in the same bin or the next, costs no division (two 64-bit divisions were a
/// sixth of a sample's time on a seasonal series). The bin is a pure function of the timestamp,
/// the period and the number of bins, so the memo holds for as long as those two are the same.
///
/// Derived data, not state: whoever keeps one must not serialize it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PhaseMemo {
    /// "No cursor" is one of 0 bins, which no cursor has: an `Option` would cost a word in
    /// every detector.
    last: PhaseCursor,
}

#[derive(Debug, Clone, Copy, Default)]
struct PhaseCursor {
    period_ms: i64,
    /// `u32` rather than `usize`, here and in `bin`: a word less in every detector.
    bins: u32,
    timestamp_ms: i64,
    /// `timestamp_ms.rem_euclid(period_ms)`.
    offset: i64,
    bin: u32,
    /// The offsets in `start..end` are those of `bin`.
    start: i64,
    end: i64,
}

impl PhaseMemo {
    /// Exactly `phase_bin(timestamp_ms, period_ms, bins)`.
    fn bin(&mut self, timestamp_ms: i64, period_ms: i64, bins: usize) -> usize {
        let cursor = &mut self.last;
        if cursor.bins != 0
            && cursor.period_ms == period_ms
            && cursor.bins as usize == bins
            && let Some(bin) = cursor.advance(timestamp_ms)
        {
            return bin;
        }
        let bin = phase_bin(timestamp_ms, period_ms, bins);
        self.last = PhaseCursor::new(timestamp_ms, period_ms, bins, bin).unwrap_or_default();
        bin
    }
}

impl PhaseCursor {
    /// A cursor at `timestamp_ms`, which is in `bin`; None where the fast path would not be
    /// exact (a period or a profile that `phase_bin` handles in 128 bits or not at all).
    fn new(timestamp_ms: i64, period_ms: i64, bins: usize, bin: usize) -> Option<Self> {
        let bins_i64 = i64::try_from(bins).ok()?;
        let (bins, bin) = (u32::try_from(bins).ok()?, u32::try_from(bin).ok()?);
        if period_ms <= 0 || bins == 0 || period_ms.checked_mul(bins_i64).is_none() {
            return None;
        }
        let offset = timestamp_ms.rem_euclid(period_ms);
        let start = bin_start(bin as usize, period_ms, bins_i64)?;
        let end = bin_start(bin as usize + 1, period_ms, bins_i64)?;
        (start <= offset && offset < end).then_some(Self {
            period_ms,
            bins,
            timestamp_ms,
            offset,
            bin,
            start,
            end,
        })
    }

    /// The bin of a timestamp in the same cycle as the cursor's, at most one bin later; the
    /// cursor moves there. None otherwise (earlier, a new cycle or a bin further on).
    fn advance(&mut self, timestamp_ms: i64) -> Option<usize> {
        let offset = self
            .offset
            .checked_add(timestamp_ms.checked_sub(self.timestamp_ms)?)?;
        if offset < self.start || offset >= self.period_ms {
            return None;
        }
        if offset >= self.end {
            let next_end = bin_start(self.bin as usize + 2, self.period_ms, i64::from(self.bins))?;
            if offset >= next_end {
                return None;
            }
            self.bin += 1;
            self.start = self.end;
            self.end = next_end;
        }
        self.timestamp_ms = timestamp_ms;
        self.offset = offset;
        Some(self.bin as usize)
    }
}

/// The first offset of `bin`: the least `o` with `o·bins / period_ms >= bin`, i.e.
/// `⌈bin·period_ms / bins⌉` (for `period_ms·bins` within i64, `phase_bin`'s 64-bit case).
fn bin_start(bin: usize, period_ms: i64, bins: i64) -> Option<i64> {
    let scaled = i64::try_from(bin).ok()?.checked_mul(period_ms)?;
    Some(scaled.checked_add(bins - 1)? / bins)
}

/// Bins that the history never visited (a profile finer than the buffer) take the value of the
/// nearest visited bin before them, wrapping around.
fn fill_empty_bins(profile: &mut [f32], counts: &[u32]) {
    let Some(start) = counts.iter().position(|c| *c > 0) else {
        return;
    };
    let bins = profile.len();
    let mut last = profile[start];
    for k in 1..bins {
        let i = (start + k) % bins;
        if counts[i] > 0 {
            last = profile[i];
        } else {
            profile[i] = last;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_series::{DAY, MINUTE, daily, wiggle};

    struct Case {
        name: &'static str,
        step_ms: i64,
        value: fn(i64, usize) -> f64,
        samples: usize,
        /// Some(max mean absolute forecast error over the last day) when a season must be
        /// found; None when none must be.
        want_error: Option<f64>,
    }

    const CASES: &[Case] = &[
        Case {
            name: "daily sine with noise, 5-minute steps",
            step_ms: 5 * MINUTE,
            value: |t, i| daily(t) + wiggle(i),
            samples: 288 * 8,
            want_error: Some(1.5),
        },
        Case {
            name: "daily sine with a trend, 1-minute steps",
            step_ms: MINUTE,
            value: |t, i| daily(t) + i as f64 * 0.002 + wiggle(i),
            samples: 1440 * 6,
            want_error: Some(2.5),
        },
        Case {
            name: "daily sine with a spike",
            step_ms: 5 * MINUTE,
            value: |t, i| if i == 1800 { 1e6 } else { daily(t) + wiggle(i) },
            samples: 288 * 8,
            want_error: Some(1.5),
        },
        Case {
            name: "constant has no season",
            step_ms: MINUTE,
            value: |_, _| 7.0,
            samples: 5000,
            want_error: None,
        },
        Case {
            name: "noise has no season",
            step_ms: MINUTE,
            value: |_, i| wiggle(i),
            samples: 5000,
            want_error: None,
        },
    ];

    #[test]
    fn cases() {
        for case in CASES {
            let span = case.samples as i64 * case.step_ms / 2;
            let mut model = SeasonalBaseline::new(span);
            let mut errors = Vec::new();
            for i in 0..case.samples {
                let t = i as i64 * case.step_ms;
                let x = (case.value)(t, i);
                if let Some(hw) = model.model() {
                    errors.push((hw.forecast(t) - x).abs());
                }
                model.update(t, x);
            }
            match case.want_error {
                Some(max) => {
                    let hw = model
                        .model()
                        .unwrap_or_else(|| panic!("{}: no season", case.name));
                    assert!((hw.period_ms() - DAY).abs() < DAY / 30, "{}", case.name);
                    let per_day = (DAY / case.step_ms) as usize;
                    let tail = &errors[errors.len() - per_day..];
                    let mean = tail.iter().sum::<f64>() / tail.len() as f64;
                    assert!(mean < max, "{}: mean error {mean}", case.name);
                    assert!(hw.profile.len() <= MAX_BINS);
                }
                None => assert!(
                    matches!(model, SeasonalBaseline::NoSeason),
                    "{}: {:?}",
                    case.name,
                    model.model().map(|m| m.period_ms())
                ),
            }
        }
    }

    #[test]
    fn shift_moves_the_forecast() {
        let mut model = SeasonalBaseline::new(10 * DAY);
        for i in 0..288 * 5 {
            let t = i as i64 * 5 * MINUTE;
            model.update(t, daily(t));
        }
        let hw = model.model_mut().expect("season");
        let before = hw.forecast(0);
        hw.shift(10.0);
        assert!((hw.forecast(0) - before - 10.0).abs() < 1e-9);
    }

    #[test]
    fn phase_bin_matches_the_128_bit_quotient() {
        let wide = |t: i64, period: i64, bins: usize| {
            let offset = t.rem_euclid(period) as i128;
            ((offset * bins as i128 / period as i128) as usize).min(bins - 1)
        };
        for period in [7, 3_600_000, DAY, 7 * DAY, i64::MAX / 3, i64::MAX] {
            for bins in [1, 2, 287, 288] {
                for t in [
                    0,
                    1,
                    59_999,
                    1_700_000_000_000,
                    -DAY - 1,
                    i64::MIN,
                    i64::MAX,
                ] {
                    assert_eq!(phase_bin(t, period, bins), wide(t, period, bins));
                }
            }
        }
    }

    #[test]
    fn memoised_phase_bin_is_phase_bin() {
        // Steps finer and coarser than a bin, gaps, a step back, and periods that do not divide
        // into the bins evenly.
        let steps = [1, 7, 59_999, 60_000, 300_000, 299_999, 3 * DAY + 17, -5, 1];
        for (period, bins) in [
            (DAY, 288),
            (DAY + 7, 288),
            (3_600_000, 60),
            (1_000, 7),
            (5, 3),
        ] {
            for first in [0, 1_700_000_000_000, -DAY - 1] {
                let mut memo = PhaseMemo::default();
                let mut t: i64 = first;
                for i in 0..5_000 {
                    t += steps[i % steps.len()];
                    assert_eq!(
                        memo.bin(t, period, bins),
                        phase_bin(t, period, bins),
                        "period {period} bins {bins} t {t}"
                    );
                }
            }
        }
        // Where the fast path does not apply, the memo still answers like phase_bin.
        let mut memo = PhaseMemo::default();
        for (t, period, bins) in [(5, i64::MAX, 288), (i64::MAX, 7, 3), (i64::MIN, DAY, 288)] {
            assert_eq!(memo.bin(t, period, bins), phase_bin(t, period, bins));
        }
    }
}
