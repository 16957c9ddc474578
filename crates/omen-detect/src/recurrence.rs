//! Recurrence: how often a statistic of a series (the spike `|z|`, or the level against the
//! long memory) has *risen through* fixed levels, a floor under its tail probability so that a
//! spike the series makes again and again (a cron job, a nightly backup, a batch every hour)
//! stops paging once it has recurred often enough to be sure that it is routine.
//!
//! The peaks-over-threshold tail ([`crate::tail`]) extrapolates far beyond the data it has
//! seen, and it winsorises its excesses so that one enormous outlier cannot flatten it. Both
//! are right for a one-off spike, and wrong for a spike of the same size every day: one excess
//! in six is clipped and the extrapolated probability stays tiny, so the series pages every
//! day for weeks. This model counts what the tail cannot: for each level `L_j = 4 · 1.5^j`
//! (j = 0..12, so 4 to 346 in units of the statistic, σ for `|z|`), how many times the
//! statistic crossed up through it, and how many of those episodes lasted a second sample. A
//! spike counts once however many samples it lasts, so the counts are numbers of *episodes*.
//! With `k` episodes at a level in `n` samples (both halved every `HALVE_AT / 2` samples, so a
//! pattern that stopped is forgotten), their rate is at least the lower Poisson confidence
//! bound `λ(k) / n`, and a value at that level is not rarer than that.
//!
//! Which count floors a sample depends on where it stands in its episode:
//! - **the first sample at a level** is floored by all episodes there, at 99 % confidence.
//!   Whether it is a one-sample blip or the start of an incident is not known yet, and a
//!   series that keeps making blips that size (bursty counts, a noisy sensor) should not page
//!   on the next one;
//! - **a later sample of the same episode** is floored only by the episodes that lasted two
//!   samples or more, at 99.99 % confidence. Incidents do recur (a disk fills again, the same
//!   failure comes back a week later, a level shift counts twice, going and returning) and the
//!   second or third must still page, one sample later at most: `λ(3)` is 0.05 and `λ(5)` 0.4
//!   at this confidence, so a few sustained episodes change almost nothing, while a job that
//!   runs for a few samples every night becomes routine after a week or two.
//!
//! (One confidence for every sample forced a choice, measured: at 99.99 % the blips of bursty
//! series kept paging, NAB 59.45 / 46.90 standard / low-FP; at 99 % for spikes the demo shop
//! caught 33 of its 84 incidents instead of 40. This rule: NAB 59.58 / 48.59, the demo 37, and
//! false alerts on NAB's `eval alerts` 19 instead of 31.)
//!
//! Cost per series: 40 bytes (12 small integer counts of each kind, a sample count, the last
//! two levels), a few dozen bytes serialised; one comparison per sample, a few more per crossing.

use serde::{Deserialize, Serialize};

/// Levels counted: `FIRST_LEVEL · LEVEL_RATIO^j`.
const LEVELS: usize = 12;
/// The lowest level: below it the tail's own fit has plenty of data.
const FIRST_LEVEL: f64 = 4.0;
/// Ratio between successive levels.
const LEVEL_RATIO: f64 = 1.5;
/// When the sample count reaches this, it and every count are halved, so the record spans
/// 20,000 to 40,000 samples (the memory of the tail itself is 400 excesses at a 2 %
/// exceedance rate, 20,000 samples). No count can overflow: a level is crossed at most once
/// every two samples.
const HALVE_AT: u16 = 40_000;

/// Standard normal quantile of the Poisson lower confidence bound for the first sample of an
/// episode (99 %).
const FIRST_SAMPLE_Z: f64 = 2.326_347_874_040_841;
/// Standard normal quantile of the Poisson lower confidence bound for the later samples of an
/// episode (99.99 %).
const LATER_SAMPLE_Z: f64 = 3.719_016_485_455_68;

/// Upcrossing counts of one statistic of one series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recurrence {
    /// Upcrossings of each level, halved with `samples`.
    counts: [u16; LEVELS],
    /// Samples seen, halved at `HALVE_AT`.
    samples: u16,
    /// Episodes that lasted at least two samples at each level, halved with `samples`;
    /// saturating, which can only under-state them (on the side of alerting).
    sustained: [u8; LEVELS],
    /// The level the statistic was at after the last sample (-1 below the first).
    level: i8,
    /// The level it was at the sample before.
    previous_level: i8,
}

impl Default for Recurrence {
    fn default() -> Self {
        Self {
            counts: [0; LEVELS],
            samples: 0,
            sustained: [0; LEVELS],
            level: -1,
            previous_level: -1,
        }
    }
}

impl Recurrence {
    /// The smallest rate, per sample, at which the statistic has been rising to `u` or above,
    /// with the confidence of where the statistic stands in its episode (see the module
    /// comment); 0 below the first level or when it never has.
    ///
    /// ```
    /// use omen_detect::Recurrence;
    /// let mut daily = Recurrence::default();
    /// for i in 0..288 * 14 {
    ///     daily.update(if i % 288 == 100 { 40.0 } else { 1.0 });
    /// }
    /// // Fourteen spikes in two weeks: about one in 1,000 samples at the least.
    /// assert!(daily.rate_at_least(40.0) > 0.8e-3);
    /// assert_eq!(daily.rate_at_least(100.0), 0.0);
    /// ```
    pub fn rate_at_least(&self, u: f64) -> f64 {
        let Some(level) = level_of(u) else {
            return 0.0;
        };
        // The last sample was already at this level or above: this one continues an episode.
        let (episodes, z) = if self.level >= level as i8 {
            (f64::from(self.sustained[level]), LATER_SAMPLE_Z)
        } else {
            (f64::from(self.counts[level]), FIRST_SAMPLE_Z)
        };
        poisson_lower_bound(episodes, z) / f64::from(self.samples.max(1))
    }

    /// Learn from one value of the statistic (after it was scored).
    pub fn update(&mut self, u: f64) {
        if !u.is_finite() {
            return;
        }
        self.samples += 1;
        if self.samples >= HALVE_AT {
            self.samples /= 2;
            for count in &mut self.counts {
                *count /= 2;
            }
            for count in &mut self.sustained {
                *count /= 2;
            }
        }
        let Some(level) = level_of(u).map(|l| l as i8) else {
            // Below every level, the usual case: no episode lasted or started (both loops
            // below would be empty).
            self.previous_level = self.level;
            self.level = -1;
            return;
        };
        // A run at a level reaches its second sample: one more sustained episode there.
        for lasted in (self.previous_level + 1).max(0)..=level.min(self.level) {
            let count = &mut self.sustained[lasted as usize];
            *count = count.saturating_add(1);
        }
        self.previous_level = self.level;
        // One crossing for each level passed on the way up since the last sample.
        for crossed in (self.level + 1).max(0)..=level {
            self.counts[crossed as usize] += 1;
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

/// Lower confidence bound of a Poisson mean from `k` observed events, at the confidence whose
/// standard normal quantile is `z`, by Wilson and Hilferty's approximation: below the exact
/// bound for a few events (at 99 %: 0.0015 instead of 0.010 for one, 0.41 instead of 0.44 for
/// three), so on the side of still alerting, and close to it from ten on.
fn poisson_lower_bound(k: f64, z: f64) -> f64 {
    if k <= 0.0 {
        return 0.0;
    }
    let c = 1.0 - 1.0 / (9.0 * k) - z / (3.0 * k.sqrt());
    if c <= 0.0 { 0.0 } else { k * c * c * c }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 99 %, for checking the bound's approximation.
    const Z: f64 = 2.326_347_874_040_841;

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
                assert!(rate < 1e-6, "rate {rate}");
            },
        },
        Case {
            name: "daily spike for two weeks: routine at its own size, not above",
            value: |i| if i % DAY == 100 { 40.0 } else { 1.0 },
            len: DAY * 14,
            check: |r| {
                let rate = r.rate_at_least(40.0);
                // 14 episodes in 4,032 samples; the 99 % lower bound is about 6.7 of them.
                assert!(rate > 1.3e-3 && rate < 2e-3, "rate {rate}");
                assert!(
                    r.rate_at_least(30.0) >= rate,
                    "a lower level is crossed as often"
                );
                assert_eq!(r.rate_at_least(70.0), 0.0);
            },
        },
        Case {
            name: "after daily blips, the second sample of an episode is judged by longer ones",
            // The record ends on the first sample of the fifteenth blip.
            value: |i| if i % DAY == 100 { 40.0 } else { 1.0 },
            len: DAY * 14 + 101,
            check: |r| {
                assert_eq!(
                    r.rate_at_least(40.0),
                    0.0,
                    "no episode ever lasted two samples"
                );
            },
        },
        Case {
            name: "a job three samples long every day is routine at its later samples too",
            value: |i| {
                if (100..103).contains(&(i % DAY)) {
                    40.0
                } else {
                    1.0
                }
            },
            len: DAY * 14 + 101,
            check: |r| {
                let rate = r.rate_at_least(40.0);
                // 14 such episodes in 4,133 samples; the 99.99 % lower bound is about 4.
                assert!(rate > 0.7e-3 && rate < 1.5e-3, "rate {rate}");
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
                // Five halvings later the counts are below one episode.
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
    fn halving_keeps_the_rate_steady() {
        // One spike every 1,000 samples, for 300,000 samples: seven halvings.
        let mut long = Recurrence::default();
        let mut rates = Vec::new();
        for i in 0..300_000 {
            long.update(if i % 1_000 == 0 { 10.0 } else { 0.5 });
            if i % 10_000 == 9_999 {
                rates.push(long.rate_at_least(10.0));
            }
        }
        assert!(long.samples < HALVE_AT);
        // The record holds 20 to 40 episodes in 20,000 to 40,000 samples: the lower bound of
        // the rate moves a little with the count, never by much.
        for rate in &rates[4..] {
            assert!(*rate > 0.45e-3 && *rate < 0.75e-3, "rates {rates:?}");
        }
    }

    #[test]
    fn poisson_bound_is_below_the_count_and_close_for_many() {
        assert_eq!(poisson_lower_bound(0.0, Z), 0.0);
        let mut last = 0.0;
        for k in 1..200 {
            let bound = poisson_lower_bound(f64::from(k), Z);
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
            assert!(poisson_lower_bound(k, Z) <= exact(k), "k {k}");
        }
        for k in [10.0, 14.0, 50.0, 200.0] {
            let (bound, exact) = (poisson_lower_bound(k, Z), exact(k));
            assert!(
                (bound / exact - 1.0).abs() < 0.01,
                "k {k}: {bound} vs {exact}"
            );
        }
    }
}
