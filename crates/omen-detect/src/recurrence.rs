//! Recurrence: how often a series' spike statistic has *risen through* fixed levels, a floor
//! under the tail probability so that a spike the series makes again and again (a cron job, a
//! nightly backup, a batch every hour) stops paging once it has recurred often enough to be
//! sure that it is routine.
//!
//! The peaks-over-threshold tail ([`crate::tail`]) extrapolates far beyond the data it has
//! seen, and it winsorises its excesses so that one enormous outlier cannot flatten it. Both
//! are right for a one-off spike, and wrong for a spike of the same size every day: one excess
//! in six is clipped and the extrapolated probability stays tiny, so the series pages every
//! day for weeks. This model counts what the tail cannot: for each level `L_j = 4 · 1.5^j`
//! (j = 0..12, so 4 to 346 in units of the statistic, σ for `|z|`), how many times the
//! statistic crossed up through it. A spike counts once however many samples it lasts, so the
//! count is a number of *episodes*. With `k` upcrossings of a level in `n` samples (both
//! decayed with a half-life, so a pattern that stopped is forgotten), the rate of such
//! episodes is at least the lower 99 % Poisson confidence bound `λ(k) / n`, and a value at
//! that level is not rarer than that. One earlier occurrence changes almost nothing (`λ(1)` is
//! 0.002); after three, `λ(3)` is about 0.4; after fourteen daily spikes, about 7 per
//! two weeks, which no longer reaches the alert threshold.
//!
//! Cost per series: 13 `f32` and one `f64`; one comparison per sample, a few more per crossing.

use serde::{Deserialize, Serialize};

use crate::robust::alpha_for_half_life;

/// Levels counted: `FIRST_LEVEL · LEVEL_RATIO^j`.
const LEVELS: usize = 12;
/// The lowest level: below it the tail's own fit has plenty of data.
const FIRST_LEVEL: f64 = 4.0;
/// Ratio between successive levels.
const LEVEL_RATIO: f64 = 1.5;
/// Standard normal quantile of the Poisson lower confidence bound (99 %).
const CONFIDENCE_Z: f64 = 2.326_347_874_040_841;
/// Half-life of the counts and of the sample weight, in samples (the memory of the tail
/// itself: 400 excesses at a 2 % exceedance rate).
const HALF_LIFE: f64 = 20_000.0;
/// The weights grow by `1/decay` each sample instead of every count shrinking; they are
/// brought back to 1 when they reach this.
const RESCALE_AT: f64 = 1e18;

/// Upcrossing counts of one statistic of one series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recurrence {
    /// Decayed upcrossings of each level, in units of `weight` (see `RESCALE_AT`).
    counts: [f32; LEVELS],
    /// Decayed number of samples, in units of `weight`.
    samples: f64,
    /// The weight of the current sample.
    weight: f32,
    /// The level the statistic was at after the last sample (-1 below the first).
    level: i8,
}

impl Default for Recurrence {
    fn default() -> Self {
        Self {
            counts: [0.0; LEVELS],
            samples: 0.0,
            weight: 1.0,
            level: -1,
        }
    }
}

impl Recurrence {
    /// The smallest rate, per sample, at which the statistic has been rising to `u` or above,
    /// at 99 % confidence; 0 below the first level or when it never has.
    ///
    /// ```
    /// use omen_detect::Recurrence;
    /// let mut daily = Recurrence::default();
    /// for i in 0..288 * 14 {
    ///     daily.update(if i % 288 == 100 { 40.0 } else { 1.0 });
    /// }
    /// // Fourteen spikes in two weeks: about one in 580 samples at the least.
    /// assert!(daily.rate_at_least(40.0) > 1e-3);
    /// assert_eq!(daily.rate_at_least(100.0), 0.0);
    /// ```
    pub fn rate_at_least(&self, u: f64) -> f64 {
        let Some(level) = level_of(u) else {
            return 0.0;
        };
        if self.samples <= 0.0 {
            return 0.0;
        }
        // Both are kept in units of the current weight.
        let weight = f64::from(self.weight);
        let crossings = f64::from(self.counts[level]) / weight;
        let samples = self.samples / weight;
        poisson_lower_bound(crossings) / samples.max(1.0)
    }

    /// Learn from one value of the statistic (after it was scored).
    pub fn update(&mut self, u: f64) {
        if !u.is_finite() {
            return;
        }
        let decay = 1.0 - alpha_for_half_life(HALF_LIFE);
        let mut weight = f64::from(self.weight) / decay;
        if weight >= RESCALE_AT {
            for count in &mut self.counts {
                *count = (f64::from(*count) / weight) as f32;
            }
            self.samples /= weight;
            weight = 1.0;
        }
        self.weight = weight as f32;
        self.samples += weight;
        let level = level_of(u).map_or(-1, |l| l as i8);
        // One crossing for each level passed on the way up since the last sample.
        for crossed in (self.level + 1).max(0)..=level {
            self.counts[crossed as usize] += weight as f32;
        }
        self.level = level;
    }
}

/// The index of the highest level at or below `u`, if any.
fn level_of(u: f64) -> Option<usize> {
    // Also NaN: no level.
    if u.is_nan() || u < FIRST_LEVEL {
        return None;
    }
    let level = ((u / FIRST_LEVEL).ln() / LEVEL_RATIO.ln()).floor() as usize;
    Some(level.min(LEVELS - 1))
}

/// Lower confidence bound of a Poisson mean from `k` observed events, by Wilson and Hilferty's
/// approximation: below the exact bound for a few events (0.0015 instead of 0.010 for one, 0.41
/// instead of 0.44 for three), so on the side of still alerting, and within 1 % from ten on.
fn poisson_lower_bound(k: f64) -> f64 {
    if k <= 0.0 {
        return 0.0;
    }
    let c = 1.0 - 1.0 / (9.0 * k) - CONFIDENCE_Z / (3.0 * k.sqrt());
    if c <= 0.0 { 0.0 } else { k * c * c * c }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Case {
        name: &'static str,
        /// The statistic at sample `i`.
        value: fn(usize) -> f64,
        len: usize,
        check: fn(&Recurrence),
    }

    const DAY: usize = 288;

    const CASES: &[Case] = &[
        Case {
            name: "quiet series: no floor anywhere",
            value: |i| (i % 7) as f64 * 0.4,
            len: 5_000,
            check: |r| {
                assert_eq!(r.rate_at_least(4.0), 0.0);
                assert_eq!(r.rate_at_least(50.0), 0.0);
            },
        },
        Case {
            name: "one spike: almost no floor",
            value: |i| if i == 1_000 { 40.0 } else { 1.0 },
            len: 3_000,
            check: |r| {
                let rate = r.rate_at_least(40.0);
                assert!(rate > 0.0 && rate < 1e-6, "rate {rate}");
            },
        },
        Case {
            name: "daily spike for two weeks: routine at its own size, not above",
            value: |i| if i % DAY == 100 { 40.0 } else { 1.0 },
            len: DAY * 14,
            check: |r| {
                let rate = r.rate_at_least(40.0);
                // 14 episodes in 4,032 samples; the 99 % lower bound is about half of that.
                assert!(rate > 1.5e-3 && rate < 3.5e-3, "rate {rate}");
                assert!(
                    r.rate_at_least(30.0) >= rate,
                    "a lower level is crossed as often"
                );
                assert_eq!(r.rate_at_least(70.0), 0.0);
            },
        },
        Case {
            name: "a long excursion counts once",
            value: |i| {
                if (1_000..1_500).contains(&i) {
                    40.0
                } else {
                    1.0
                }
            },
            len: 3_000,
            check: |r| {
                let rate = r.rate_at_least(40.0);
                assert!(
                    rate < 1e-6,
                    "500 samples above the level are one episode: {rate}"
                );
            },
        },
        Case {
            name: "a pattern that stopped is forgotten",
            value: |i| {
                if i < DAY * 14 && i % DAY == 100 {
                    40.0
                } else {
                    1.0
                }
            },
            len: DAY * 14 + 100_000,
            check: |r| {
                // Five half-lives later the counts have decayed below one episode.
                let rate = r.rate_at_least(40.0);
                assert!(rate < 1e-6, "rate {rate}");
            },
        },
        Case {
            name: "NaN and infinities are ignored",
            value: |i| match i % 3 {
                0 => f64::NAN,
                1 => f64::INFINITY,
                _ => 1.0,
            },
            len: 300,
            check: |r| {
                assert_eq!(r.rate_at_least(4.0), 0.0);
                assert_eq!(r.rate_at_least(f64::NAN), 0.0);
            },
        },
    ];

    #[test]
    fn cases() {
        for case in CASES {
            let mut recurrence = Recurrence::default();
            for i in 0..case.len {
                recurrence.update((case.value)(i));
            }
            eprintln!("case: {}", case.name);
            (case.check)(&recurrence);
        }
    }

    #[test]
    fn rescaling_keeps_the_rate() {
        // Far past RESCALE_AT: the weight grows by e^(ln 2 / 20,000) a sample, so 1e18 is
        // reached after about 1.2 M samples.
        let mut long = Recurrence::default();
        let mut rates = Vec::new();
        for i in 0..1_400_000 {
            long.update(if i % 1_000 == 0 { 10.0 } else { 0.5 });
            if i % 100_000 == 99_999 {
                rates.push(long.rate_at_least(10.0));
            }
        }
        assert!(f64::from(long.weight) < RESCALE_AT);
        // Steady state: about 29 episodes per 28,854 decayed samples, the same before and
        // after each rescale.
        let last = rates[rates.len() - 1];
        for rate in &rates[3..] {
            assert!((rate / last - 1.0).abs() < 0.02, "rates {rates:?}");
        }
    }

    #[test]
    fn poisson_bound_is_below_the_count_and_close_for_many() {
        assert_eq!(poisson_lower_bound(0.0), 0.0);
        let mut last = 0.0;
        for k in 1..200 {
            let bound = poisson_lower_bound(f64::from(k));
            assert!(bound < f64::from(k) && bound > last, "k {k}: {bound}");
            last = bound;
        }
        // The exact 99 % lower bound is half the chi-square quantile at 0.01 with 2k degrees
        // of freedom; the approximation is below it for few events and close from ten on.
        let exact = |k: f64| {
            use statrs::distribution::{ChiSquared, ContinuousCDF};
            ChiSquared::new(2.0 * k).unwrap().inverse_cdf(0.01) / 2.0
        };
        for k in [1.0, 2.0, 3.0, 5.0] {
            assert!(poisson_lower_bound(k) <= exact(k), "k {k}");
        }
        for k in [10.0, 14.0, 50.0, 200.0] {
            let (bound, exact) = (poisson_lower_bound(k), exact(k));
            assert!(
                (bound / exact - 1.0).abs() < 0.01,
                "k {k}: {bound} vs {exact}"
            );
        }
    }
}
