//! Extreme-value adaptive threshold: turns a non-negative "surprise" statistic into a tail
//! probability, calibrated on the series' own history, and that probability into a score.
//!
//! Algorithm (after SPOT, Siffer et al., "Anomaly Detection in Streams with Extreme Value
//! Theory", KDD 2017): above a high quantile `t` of the statistic (the peaks-over-threshold
//! level, here the 98th percentile), the Pickands–Balkema–de Haan theorem says the excesses
//! follow a generalised Pareto distribution (GPD). So
//! `P(U > u) = (1 − level) · (1 + ξ (u − t) / σ)^(−1/ξ)` for `u > t`.
//!
//! What differs from the paper, to keep the state per series to a few numbers:
//! - `t` is tracked online with a stochastic-approximation quantile estimator instead of being
//!   fixed after a calibration batch, so the threshold follows drift (the point of DSPOT);
//! - the GPD is fitted by the method of moments on exponentially weighted mean and variance of
//!   the excesses rather than by Grimshaw's maximum likelihood over all stored peaks;
//! - a prior exponential tail, taken from the Gaussian tail of the statistic, makes the model
//!   usable from the first sample; the series' own excesses replace it as they arrive. Excesses are winsorised at `WINSOR` times the current mean excess so that one
//!   enormous outlier cannot flatten the tail for everything after it.
//!
//! The score maps the tail probability `p` to `1 − 2^(−ln p / ln q)` where `q` is the target
//! risk: a sample exactly as rare as the target risk scores 0.5, one as rare as `q²` scores
//! 0.75, and so on. Scores of different series are therefore comparable: the same score means
//! the same rarity under each series' own tail.
//!
//! Cost per series: 6 numbers of state; one `powf` and one `ln` per sample.

use serde::{Deserialize, Serialize};

/// Fraction of samples expected above the peaks-over-threshold level.
const EXCEEDANCE_RATE: f64 = 0.02;
/// How many of the series' own excesses it takes to replace the prior.
const PRIOR_WEIGHT: f64 = 8.0;
/// The fit forgets with this many excesses of memory at most (so it follows drift).
const MAX_MEMORY: f64 = 400.0;
/// Excesses are winsorised at this many mean excesses.
const WINSOR: f64 = 6.0;
/// ξ is kept in [0, 0.45]: below 0.5 the method of moments is defined, and a negative ξ would
/// give the tail a finite end point beyond which every value is "impossible" and all scores
/// tie at 1. Light tails are therefore fitted as exponential, which over-states their
/// probability: conservative, and it keeps the order of large deviations.
const XI_RANGE: (f64, f64) = (0.0, 0.45);

/// A self-calibrating peaks-over-threshold tail for one statistic of one series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TailModel {
    threshold: f64,
    prior_excess_mean: f64,
    excess_mean: f64,
    excess_sq_mean: f64,
    excess_count: f64,
    samples: u64,
}

impl TailModel {
    /// A tail whose prior is that of a statistic with peaks-over-threshold level `threshold`
    /// and mean excess `excess_mean` (for `|z|` of Gaussian noise: 2.33 and 0.39).
    ///
    /// ```
    /// use omen_detect::TailModel;
    /// let tail = TailModel::new(2.33, 0.39);
    /// assert!(tail.probability(1.0) > 0.02);
    /// assert!(tail.probability(6.0) < 1e-4);
    /// ```
    pub fn new(threshold: f64, excess_mean: f64) -> Self {
        Self {
            threshold,
            prior_excess_mean: excess_mean,
            excess_mean: 0.0,
            excess_sq_mean: 0.0,
            excess_count: 0.0,
            samples: 0,
        }
    }

    /// The peaks-over-threshold level in use.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The fitted GPD shape ξ and scale σ of the excesses.
    ///
    /// Until `PRIOR_WEIGHT` excesses were seen, the tail is exponential (ξ = 0) with a mean
    /// excess blended from the prior and the data. Mixing the prior's excesses with the data's
    /// in the moments instead would fake a heavy tail (a mixture of two scales has a large
    /// variance), so only the mean is blended.
    pub fn gpd(&self) -> (f64, f64) {
        if self.excess_count < PRIOR_WEIGHT {
            return (0.0, self.mean_excess());
        }
        let mean = self.excess_mean.max(1e-12);
        let var = (self.excess_sq_mean - mean * mean).max(1e-24);
        let ratio = mean * mean / var;
        let xi = (0.5 * (1.0 - ratio)).clamp(XI_RANGE.0, XI_RANGE.1);
        // σ = mean·(1 − ξ) keeps the fitted mean exact when ξ was clamped.
        let sigma = mean * (1.0 - xi);
        (xi, sigma)
    }

    /// The mean excess over the threshold: the prior's, then the data's as excesses arrive.
    fn mean_excess(&self) -> f64 {
        if self.excess_count >= PRIOR_WEIGHT {
            // The data's mean alone: what the blend below gives with a weight of 1, exactly
            // (`1·m + 0·prior` is `m`), without its division and two products on every sample.
            return self.excess_mean.max(1e-12);
        }
        let data_weight = (self.excess_count / PRIOR_WEIGHT).min(1.0);
        let mean = data_weight * self.excess_mean + (1.0 - data_weight) * self.prior_excess_mean;
        mean.max(1e-12)
    }

    /// `P(U > u)` under the fitted tail; 1 for `u <= 0`.
    pub fn probability(&self, u: f64) -> f64 {
        if u.is_nan() || u <= 0.0 {
            // No evidence at all, even when the threshold has decayed to 0 (a constant series).
            return 1.0;
        }
        if u <= self.threshold {
            // Below the tail: interpolate between "certain" at 0 and the exceedance rate at t,
            // which keeps the map monotone without modelling the body of the distribution.
            let frac = if self.threshold > 0.0 {
                (u / self.threshold).clamp(0.0, 1.0)
            } else {
                1.0
            };
            return 1.0 - frac * (1.0 - EXCEEDANCE_RATE);
        }
        let (xi, sigma) = self.gpd();
        let y = (u - self.threshold) / sigma;
        let survival = if xi.abs() < 1e-6 {
            (-y).exp()
        } else {
            let base = 1.0 + xi * y;
            if base <= 0.0 {
                0.0
            } else {
                base.powf(-1.0 / xi)
            }
        };
        (EXCEEDANCE_RATE * survival).max(f64::MIN_POSITIVE)
    }

    /// The value of the statistic whose tail probability is `p` (the inverse of
    /// [`probability`](Self::probability) in the tail), used to draw bands.
    pub fn quantile(&self, p: f64) -> f64 {
        self.quantile_memo(p, &mut QuantileMemo::default())
    }

    /// [`quantile`](Self::quantile), reusing the `ln`/`powf` of the last call through `memo`
    /// when `p` and the fitted shape ξ are the same as then.
    pub(crate) fn quantile_memo(&self, p: f64, memo: &mut QuantileMemo) -> f64 {
        if p >= EXCEEDANCE_RATE {
            return self.threshold * (1.0 - p) / (1.0 - EXCEEDANCE_RATE);
        }
        let (xi, sigma) = self.gpd();
        let key = (p.to_bits(), xi.to_bits());
        let y = match memo.last {
            (last_key, y) if last_key == key => y,
            _ => {
                let r = p / EXCEEDANCE_RATE;
                let y = if xi.abs() < 1e-6 {
                    -r.ln()
                } else {
                    (r.powf(-xi) - 1.0) / xi
                };
                memo.last = (key, y);
                y
            }
        };
        self.threshold + sigma * y
    }

    /// Learn from one value of the statistic (after it was scored).
    pub fn update(&mut self, u: f64) {
        if !u.is_finite() || u < 0.0 {
            return;
        }
        self.samples += 1;
        // Stochastic-approximation quantile: up by (1 − rate)·step above, down by rate·step
        // below, which settles where a fraction `rate` of the values lie above. The step is
        // the tail's own scale, so it is in the statistic's units whatever they are.
        let scale = self.mean_excess();
        let step = scale * self.learning_rate();
        if u > self.threshold {
            let excess = (u - self.threshold).min(WINSOR * scale);
            self.threshold += step * (1.0 - EXCEEDANCE_RATE);
            self.excess_count = (self.excess_count + 1.0).min(MAX_MEMORY);
            let w = 1.0 / self.excess_count;
            self.excess_mean += w * (excess - self.excess_mean);
            self.excess_sq_mean += w * (excess * excess - self.excess_sq_mean);
        } else {
            self.threshold -= step * EXCEEDANCE_RATE;
            if self.threshold < 0.0 {
                self.threshold = 0.0;
            }
        }
    }

    /// Larger steps while young, settling to a small constant so that the level keeps
    /// following slow drift.
    fn learning_rate(&self) -> f64 {
        // From 6,400 samples on, sqrt(n) >= 80 and 4/sqrt(n) <= 0.05 (both correctly rounded,
        // so monotone): the clamp's floor, without a square root and a division.
        if self.samples >= 6_400 {
            return 0.05;
        }
        (4.0 / (self.samples as f64).sqrt()).clamp(0.05, 1.0)
    }
}

/// The standardised excess `(u − t)/σ` of the last [`TailModel::quantile_memo`] call, with the
/// bits of its `p` and ξ. A band is drawn at the same `p` every sample while ξ changes only when
/// an excess arrives (about 2 % of samples), so this saves a `ln` or a `powf` per sample.
/// "Nothing yet" is the key of a NaN `p` and ξ, which no call has (an `Option` would cost a
/// word, and the detector's size decides a live series' allocator class).
///
/// Derived data, not state: whoever keeps one must not serialize it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QuantileMemo {
    last: ((u64, u64), f64),
}

impl Default for QuantileMemo {
    fn default() -> Self {
        Self {
            last: ((u64::MAX, u64::MAX), f64::NAN),
        }
    }
}

/// Map a tail probability to a score in [0, 1]: 0.5 at the target risk `risk`.
///
/// ```
/// use omen_detect::score_from_probability;
/// assert!((score_from_probability(1e-4, 1e-4) - 0.5).abs() < 1e-12);
/// assert!((score_from_probability(1e-8, 1e-4) - 0.75).abs() < 1e-12);
/// assert_eq!(score_from_probability(1.0, 1e-4), 0.0);
/// ```
pub fn score_from_probability(p: f64, risk: f64) -> f64 {
    score_from_ln_risk(p, risk.ln())
}

/// [`score_from_probability`] given `ln(risk)`, for a caller that has it at hand.
pub(crate) fn score_from_ln_risk(p: f64, ln_risk: f64) -> f64 {
    if p.is_nan() || p >= 1.0 {
        return 0.0;
    }
    let rarity = p.max(f64::MIN_POSITIVE).ln() / ln_risk;
    (1.0 - (-rarity * std::f64::consts::LN_2).exp()).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use statrs::distribution::{ContinuousCDF, Exp, Normal};

    /// Deterministic uniform(0,1) numbers for the tests (a 64-bit LCG).
    fn uniforms(seed: u64) -> impl Iterator<Item = f64> {
        let mut state = seed;
        std::iter::repeat_with(move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        })
    }

    struct Case {
        name: &'static str,
        /// Inverse CDF of the statistic's distribution, to draw from it.
        draw: fn(f64) -> f64,
        /// Survival function of the distribution, the truth to compare with.
        survival: fn(f64) -> f64,
        /// A far-tail point to check.
        at: f64,
        /// How far the estimate may be from the truth there (a factor, both ways).
        factor: f64,
    }

    fn half_normal_draw(u: f64) -> f64 {
        Normal::standard().inverse_cdf(0.5 + u / 2.0)
    }
    fn half_normal_survival(x: f64) -> f64 {
        2.0 * (1.0 - Normal::standard().cdf(x))
    }
    fn exp_draw(u: f64) -> f64 {
        Exp::new(0.5).unwrap().inverse_cdf(u)
    }
    fn exp_survival(x: f64) -> f64 {
        1.0 - Exp::new(0.5).unwrap().cdf(x)
    }
    fn pareto_draw(u: f64) -> f64 {
        // Lomax with shape 4: heavy tail, ξ = 0.25.
        (1.0 - u).powf(-0.25) - 1.0
    }
    fn pareto_survival(x: f64) -> f64 {
        (1.0 + x).powf(-4.0)
    }

    const CASES: &[Case] = &[
        Case {
            name: "|z| of Gaussian noise",
            draw: half_normal_draw,
            survival: half_normal_survival,
            at: 4.0,
            // A Gaussian tail is lighter than exponential: the fit over-states it.
            factor: 5.0,
        },
        Case {
            name: "exponential with mean 2",
            draw: exp_draw,
            survival: exp_survival,
            at: 16.0,
            factor: 2.0,
        },
        Case {
            name: "heavy Lomax tail",
            draw: pareto_draw,
            survival: pareto_survival,
            at: 5.0,
            factor: 2.0,
        },
    ];

    #[test]
    fn learned_tail_matches_the_true_tail() {
        for case in CASES {
            let mut tail = TailModel::new(1.0, 1.0);
            for u in uniforms(7).take(50_000) {
                tail.update((case.draw)(u));
            }
            let got = tail.probability(case.at);
            let want = (case.survival)(case.at);
            assert!(
                got > want / case.factor && got < want * case.factor,
                "{}: P(U > {}) = {got:e}, truth {want:e}",
                case.name,
                case.at
            );
            let exceed = 1.0 - {
                let t = tail.threshold();
                1.0 - (case.survival)(t)
            };
            assert!(
                (exceed - EXCEEDANCE_RATE).abs() < 0.01,
                "{}: threshold {} exceeded by {exceed}",
                case.name,
                tail.threshold()
            );
        }
    }

    #[test]
    fn quantile_inverts_probability() {
        let mut tail = TailModel::new(2.33, 0.39);
        for u in uniforms(3).take(5_000) {
            tail.update(half_normal_draw(u));
        }
        for p in [0.5, 0.05, 1e-3, 1e-6] {
            let q = tail.quantile(p);
            assert!((tail.probability(q) / p - 1.0).abs() < 1e-6, "p {p}");
        }
    }

    #[test]
    fn memoised_quantile_is_the_quantile_bit_for_bit() {
        let mut tail = TailModel::new(2.33, 0.39);
        let mut memo = QuantileMemo::default();
        for (i, u) in uniforms(5).take(3_000).enumerate() {
            // A heavy tail, so that ξ moves away from 0 and back.
            tail.update(pareto_draw(u) * 2.0);
            let p = if i % 7 == 0 { 1e-3 } else { 5e-5 };
            let got = tail.quantile_memo(p, &mut memo);
            assert_eq!(got.to_bits(), tail.quantile(p).to_bits(), "sample {i}");
        }
    }

    #[test]
    fn learning_rate_reaches_its_floor_at_6400_samples() {
        let mut tail = TailModel::new(1.0, 1.0);
        for n in [6_399, 6_400, 6_401, 10_000, u64::MAX] {
            tail.samples = n;
            let full = (4.0 / (n as f64).sqrt()).clamp(0.05, 1.0);
            assert_eq!(
                tail.learning_rate().to_bits(),
                full.to_bits(),
                "{n} samples"
            );
        }
    }

    #[test]
    fn one_enormous_outlier_does_not_flatten_the_tail() {
        let mut tail = TailModel::new(2.33, 0.39);
        for u in uniforms(11).take(5_000) {
            tail.update(half_normal_draw(u));
        }
        let before = tail.probability(6.0);
        tail.update(1e12);
        let after = tail.probability(6.0);
        assert!(after < before * 5.0, "{before:e} -> {after:e}");
    }

    #[test]
    fn probability_is_monotone_and_in_range() {
        let tail = TailModel::new(2.33, 0.39);
        let mut last = 1.0;
        for i in 0..200 {
            let p = tail.probability(i as f64 * 0.1);
            assert!((0.0..=1.0).contains(&p));
            assert!(p <= last);
            last = p;
        }
        assert_eq!(tail.probability(f64::NAN), 1.0);
    }

    #[test]
    fn score_is_monotone_in_rarity() {
        let risk = 1e-4;
        let mut last = -1.0;
        for k in 0..40 {
            let s = score_from_probability(10f64.powi(-k), risk);
            assert!((0.0..=1.0).contains(&s));
            assert!(s > last || (k == 0 && s == 0.0));
            last = s;
        }
    }
}
