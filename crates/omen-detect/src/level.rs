//! Level rarity: how unusual the value itself is against a long memory of the series' values.
//!
//! The spike and seasonal baselines adapt within tens of samples, so they judge a value against
//! the *recent* past: a temperature that creeps down over a day to a level never seen before
//! never looks like a spike. This model keeps a slow exponentially weighted mean and mean
//! absolute deviation (half-life in the thousands of samples), standardises each value against
//! them, and passes the result through two [`TailModel`]s, one for each side. A value far into
//! a side of the range that the series rarely or never visits gets a small tail probability,
//! calibrated on the series' own history like every other statistic in the ensemble; a series
//! that regularly visits that range (a daily peak) teaches the tail that it is normal, and a
//! value that keeps coming back to the same rare level (a nightly job's spike on a flat
//! series) is floored by how often it has ([`Recurrence`]: a level becomes routine only after
//! several visits).
//!
//! The mean and deviation are not clipped on purpose: after a lasting change the memory must
//! move to the new level, or every later sample would stay "rare".
//!
//! Cost per series: 4 numbers, two tails (16 numbers) and two recurrence records (26 numbers);
//! one tail probability per side per sample.

use serde::{Deserialize, Serialize};

use crate::recurrence::Recurrence;
use crate::robust::alpha_for_half_life;
use crate::tail::TailModel;

/// Samples learned before the model gives an opinion: the first values only seed the memory.
const STARTUP_SAMPLES: u64 = 20;
/// The tails' prior, as for `|z|` of Gaussian noise (one side: the 98th percentile of a
/// standard normal is 2.05, but the excesses of a long-memory level are heavier, so the
/// two-sided prior of the spike tail is kept).
const LEVEL_PRIOR: (f64, f64) = (2.33, 0.39);
/// σ of the memory is never below this fraction of the mean's magnitude, so a constant series
/// still has a scale.
const RELATIVE_SIGMA_FLOOR: f64 = 1e-9;

/// What a level memory takes from its configuration: the same for every series of one
/// configuration, so held once (in the ensemble's shared settings) and passed to
/// [`LevelRarity::update`] rather than kept in every series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LevelSettings {
    alpha: f64,
    /// The first sample count `n` at which the running mean's weight `1/n` is no more than
    /// `alpha`: from there on the memory is exponential. Kept so that a sample costs no
    /// division to find its weight.
    exponential_from: u64,
}

impl LevelSettings {
    /// A memory whose weight halves every `half_life` samples.
    pub fn new(half_life: f64) -> Self {
        let alpha = alpha_for_half_life(half_life);
        // `1/n` (correctly rounded) never grows with `n`, so the first `n` where it is at
        // most `alpha` is where `max(1/n, alpha)` becomes `alpha` for good.
        let exponential_from = if alpha > 0.0 {
            let mut n = ((1.0 / alpha) as u64).saturating_sub(2).max(1);
            while n < u64::MAX && 1.0 / n as f64 > alpha {
                n += 1;
            }
            n
        } else {
            u64::MAX
        };
        Self {
            alpha,
            exponential_from,
        }
    }

    /// The weight of the `samples`-th value: a plain running mean while young, then the
    /// exponential memory (`max(1/n, alpha)`).
    fn weight(&self, samples: u64) -> f64 {
        if samples >= self.exponential_from {
            self.alpha
        } else {
            1.0 / samples as f64
        }
    }
}

/// A long memory of one series' level, with a calibrated tail on each side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelRarity {
    samples: u64,
    mean: f64,
    abs_dev: f64,
    upper: TailModel,
    lower: TailModel,
    upper_recurrence: Recurrence,
    lower_recurrence: Recurrence,
}

impl Default for LevelRarity {
    fn default() -> Self {
        Self::new()
    }
}

impl LevelRarity {
    /// An empty memory; its weight's half-life is in the [`LevelSettings`] given to
    /// [`update`](Self::update).
    ///
    /// ```
    /// use omen_detect::{LevelRarity, LevelSettings};
    /// let settings = LevelSettings::new(2_000.0);
    /// let mut level = LevelRarity::new();
    /// for i in 0..3_000 {
    ///     level.update(&settings, 20.0 + (i % 10) as f64 * 0.1);
    /// }
    /// assert!(level.probability(20.5) > 0.02);
    /// assert!(level.probability(35.0) < 1e-4);
    /// assert!(level.probability(5.0) < 1e-4);
    /// ```
    pub fn new() -> Self {
        Self {
            samples: 0,
            mean: 0.0,
            abs_dev: 0.0,
            upper: TailModel::new(LEVEL_PRIOR.0, LEVEL_PRIOR.1),
            lower: TailModel::new(LEVEL_PRIOR.0, LEVEL_PRIOR.1),
            upper_recurrence: Recurrence::default(),
            lower_recurrence: Recurrence::default(),
        }
    }

    /// The tail probability of `value`'s level, on whichever side it lies; 1 while the memory
    /// is still being seeded.
    pub fn probability(&self, value: f64) -> f64 {
        match self.standardised(value) {
            Some(z) => self.probability_of(z),
            None => 1.0,
        }
    }

    /// Learn from one finite value (after it was scored).
    pub fn update(&mut self, settings: &LevelSettings, value: f64) {
        let z = self.standardised(value);
        self.learn(settings, value, z);
    }

    /// [`probability`](Self::probability) of `value`, then [`update`](Self::update) with it:
    /// the same results, with `value` standardised once for both.
    pub fn probability_then_update(&mut self, settings: &LevelSettings, value: f64) -> f64 {
        let z = self.standardised(value);
        let p = z.map_or(1.0, |z| self.probability_of(z));
        self.learn(settings, value, z);
        p
    }

    /// `value` standardised against the memory, once it has been seeded.
    fn standardised(&self, value: f64) -> Option<f64> {
        (self.samples > STARTUP_SAMPLES).then(|| self.standardise(value))
    }

    fn probability_of(&self, z: f64) -> f64 {
        let (tail, recurrence, u) = if z >= 0.0 {
            (&self.upper, &self.upper_recurrence, z)
        } else {
            (&self.lower, &self.lower_recurrence, -z)
        };
        tail.probability(u).max(recurrence.rate_at_least(u))
    }

    /// Learn from `value`, standardised as `z` once the memory is seeded.
    fn learn(&mut self, settings: &LevelSettings, value: f64, z: Option<f64>) {
        if let Some(z) = z {
            // Both tails see every sample (0 on the other side), so each one's threshold is a
            // quantile of all samples, not of that side's only.
            self.upper.update(z.max(0.0));
            self.lower.update((-z).max(0.0));
            self.upper_recurrence.update(z.max(0.0));
            self.lower_recurrence.update((-z).max(0.0));
        }
        self.samples += 1;
        let alpha = settings.weight(self.samples);
        let residual = value - self.mean;
        self.mean += alpha * residual;
        self.abs_dev += alpha * (residual.abs() - self.abs_dev);
    }

    /// `(value − mean) / σ` of the memory, σ as a Gaussian-equivalent of the mean absolute
    /// deviation.
    fn standardise(&self, value: f64) -> f64 {
        let sigma = (self.abs_dev * 1.253_314_137_315_500_3)
            .max(RELATIVE_SIGMA_FLOOR * self.mean.abs().max(1e-3));
        (value - self.mean) / sigma
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_series::wiggle;

    struct Case {
        name: &'static str,
        len: usize,
        value: fn(usize) -> f64,
        check: fn(&[f64]),
    }

    /// Probability of each sample before it is learned.
    fn run(case: &Case) -> Vec<f64> {
        let settings = LevelSettings::new(2_000.0);
        let mut level = LevelRarity::new();
        (0..case.len)
            .map(|i| {
                let x = (case.value)(i);
                let p = level.probability(x);
                level.update(&settings, x);
                p
            })
            .collect()
    }

    const CASES: &[Case] = &[
        Case {
            name: "noise is not rare",
            len: 5_000,
            value: |i| 100.0 + wiggle(i),
            check: |p| {
                let rare = p.iter().filter(|p| **p < 1e-4).count();
                assert!(rare <= 2, "{rare} rare samples in noise");
            },
        },
        Case {
            name: "spike far above the range",
            len: 3_000,
            value: |i| if i == 2_500 { 150.0 } else { 100.0 + wiggle(i) },
            check: |p| assert!(p[2_500] < 1e-6, "spike p = {}", p[2_500]),
        },
        Case {
            name: "slow drift down to a level never seen",
            len: 4_000,
            // Flat for 3,000 samples, then 1 unit lower every 100 samples.
            value: |i| 100.0 + wiggle(i) - (i.saturating_sub(3_000) / 100) as f64,
            check: |p| {
                let first_rare = p.iter().position(|p| *p < 1e-4);
                assert!(
                    first_rare.is_some_and(|i| i > 3_000),
                    "first rare sample at {first_rare:?}"
                );
            },
        },
        Case {
            name: "a regular peak becomes normal",
            len: 6_000,
            value: |i| {
                if i % 200 == 0 {
                    130.0
                } else {
                    100.0 + wiggle(i)
                }
            },
            check: |p| {
                let late = (5_000..6_000).step_by(200).map(|i| p[i]);
                assert!(
                    late.clone().all(|p| p > 1e-4),
                    "{:?}",
                    late.collect::<Vec<_>>()
                );
            },
        },
        Case {
            name: "constant",
            len: 500,
            value: |_| 7.0,
            check: |p| assert!(p.iter().all(|p| *p == 1.0)),
        },
        Case {
            name: "very short",
            len: 5,
            value: |i| i as f64,
            check: |p| assert!(p.iter().all(|p| *p == 1.0)),
        },
    ];

    #[test]
    fn the_weight_is_the_larger_of_one_over_n_and_alpha() {
        for half_life in [1.0, 2.0, 10.0, 2_000.0, 12_345.6] {
            let settings = LevelSettings::new(half_life);
            for n in 1..40_000u64 {
                let want = (1.0 / n as f64).max(settings.alpha);
                assert_eq!(settings.weight(n), want, "half-life {half_life}, n {n}");
            }
        }
    }

    #[test]
    fn cases() {
        for case in CASES {
            eprintln!("case: {}", case.name);
            (case.check)(&run(case));
        }
    }
}
