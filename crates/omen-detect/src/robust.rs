//! Robust baseline: a location and a scale that resist outliers and follow drift.
//!
//! Algorithm: an exponentially weighted Huber M-estimator. Each residual `r = x - location` is
//! clipped to `±clip·σ` before it moves the location and the scale, so one wild sample moves the
//! baseline by at most `alpha·clip·σ`, while a sustained change is followed within a few
//! half-lives. The scale is the exponentially weighted mean absolute deviation of the clipped
//! residuals, reported as a Gaussian-equivalent σ (×1.2533), which, unlike a median absolute
//! deviation, is rarely zero on quantised data (values that repeat most of the time).
//!
//! Beside it, a slow *unclipped* mean absolute deviation, the spread, remembers how far values
//! stray from the location including the outliers. On a series that is exactly 0 most of the
//! time and bursts now and then, the clipped scale is almost 0 and every burst would look
//! infinitely unlikely; the spread gives the ensemble a floor for σ in such cases.
//!
//! The clip makes the scale slow to *grow*: each sample can raise it by at most
//! `alpha·(clip·1.25 − 1)`, about 1.6 % at the default half-life. A series whose first samples
//! happen to be quiet (a short calm stretch, an autocorrelated start) starts with a scale far
//! too small and needs hundreds of samples to climb to its level; meanwhile every residual
//! looks like many σ. So the baseline checks its scale once per scale half-life and reports
//! ([`ScaleCheck`]) whether it is still climbing, so that what was learnt from the inflated
//! `|z|` can start again: the first time σ has not grown over a half-life, the scale has
//! converged and the checks stop.
//!
//! Parameters ([`RobustSettings`]): the half-lives of the location and of the scale, in
//! samples, and the clip. They are kept apart from the state and passed to each update, so that
//! a server holding a million baselines with the same settings keeps one copy of them.
//! Cost per series: 4 numbers of state, a handful of flops per sample.
//!
//! Reference: Huber, "Robust Estimation of a Location Parameter" (1964); the exponentially
//! weighted form follows the robust EWMA charts of process control.

use serde::{Deserialize, Serialize};

/// How a mean absolute deviation relates to σ for Gaussian data: σ = sqrt(π/2)·MAD.
const MEAN_ABS_DEV_TO_SIGMA: f64 = 1.253_314_137_315_500_3;

/// Half-life, in samples, of the unclipped spread.
const SPREAD_HALF_LIFE: f64 = 350.0;

/// Samples before clipping starts: the first few build the initial location and scale.
const STARTUP_SAMPLES: u32 = 8;

/// The scale counts as converged after this many half-lives even if it is still growing: by
/// then its startup guess weighs under 2 % in it ((1/2)^6), so a scale that keeps growing is
/// following the series (a volatility that keeps rising), not recovering from its start.
const MAX_SCALE_CHECKPOINTS: u32 = 6;

/// What [`RobustBaseline::update`] found out about the scale's convergence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleCheck {
    /// Nothing new: not a checkpoint, or the scale had converged before.
    Unchanged,
    /// At this checkpoint σ was larger than one half-life ago (or than 0, at the first): the
    /// scale is still climbing, and the `|z|` it gave since the last checkpoint were inflated.
    Climbing,
    /// At this checkpoint σ had not grown over the last half-life: the scale has converged,
    /// and no further checks are made.
    Converged,
}

/// The settings of a robust baseline, as smoothing factors: the same for every series that
/// shares a configuration, so not part of a baseline's state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RobustSettings {
    location_alpha: f64,
    scale_alpha: f64,
    clip: f64,
    spread_alpha: f64,
    /// Samples between two checks of the scale's convergence: its half-life, at least 1.
    scale_checkpoint: u32,
}

impl RobustSettings {
    /// A location that halves its memory every `location_half_life` samples and a scale every
    /// `scale_half_life`; residuals beyond `clip` σ are clipped.
    pub fn new(location_half_life: f64, scale_half_life: f64, clip: f64) -> Self {
        Self {
            location_alpha: alpha_for_half_life(location_half_life),
            scale_alpha: alpha_for_half_life(scale_half_life),
            clip,
            spread_alpha: alpha_for_half_life(SPREAD_HALF_LIFE),
            scale_checkpoint: scale_half_life.round().clamp(1.0, f64::from(u32::MAX)) as u32,
        }
    }
}

/// An exponentially weighted robust location and scale (its settings are passed in: see
/// [`RobustSettings`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RobustBaseline {
    n: u32,
    /// σ at the last check of the scale (0 before the first), negative once the scale has
    /// converged. An `f32` in what would be padding after `n`: the baseline stays 32 bytes.
    checkpoint: f32,
    location: f64,
    abs_dev: f64,
    spread: f64,
}

/// The smoothing factor whose weight halves every `half_life` samples.
pub(crate) fn alpha_for_half_life(half_life: f64) -> f64 {
    1.0 - 0.5f64.powf(1.0 / half_life.max(1.0))
}

impl RobustBaseline {
    /// A baseline that has seen nothing yet.
    ///
    /// ```
    /// use omen_detect::{RobustBaseline, RobustSettings};
    /// let settings = RobustSettings::new(30.0, 120.0, 3.0);
    /// let mut b = RobustBaseline::new();
    /// for x in [10.0, 11.0, 9.0, 10.0, 10.5, 9.5, 10.0, 10.0, 11.0, 9.0] {
    ///     b.update(&settings, x);
    /// }
    /// assert!((b.location() - 10.0).abs() < 0.5);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The current location (the expected value); 0 before any sample.
    pub fn location(&self) -> f64 {
        self.location
    }

    /// The current scale as a Gaussian-equivalent σ (never negative).
    pub fn sigma(&self) -> f64 {
        self.abs_dev * MEAN_ABS_DEV_TO_SIGMA
    }

    /// The slow, unclipped mean absolute deviation from the location (outliers included).
    pub fn spread(&self) -> f64 {
        self.spread
    }

    /// Samples learned so far.
    pub fn samples(&self) -> u32 {
        self.n
    }

    /// True once the scale has converged (see [`ScaleCheck`]).
    pub fn scale_converged(&self) -> bool {
        self.checkpoint < 0.0
    }

    /// Learn from one finite value, with the baseline's settings; once per scale half-life,
    /// until the scale has converged, say whether it is still climbing.
    pub fn update(&mut self, settings: &RobustSettings, x: f64) -> ScaleCheck {
        self.learn(settings, x);
        self.check_scale(settings)
    }

    /// At each checkpoint (every scale half-life) until the scale has converged: compare σ with
    /// σ at the previous checkpoint.
    fn check_scale(&mut self, settings: &RobustSettings) -> ScaleCheck {
        if self.scale_converged() || !self.n.is_multiple_of(settings.scale_checkpoint) {
            return ScaleCheck::Unchanged;
        }
        let sigma = self.sigma() as f32;
        let last_check = self.n / settings.scale_checkpoint >= MAX_SCALE_CHECKPOINTS;
        if sigma <= self.checkpoint || last_check {
            self.checkpoint = -1.0;
            ScaleCheck::Converged
        } else {
            self.checkpoint = sigma;
            ScaleCheck::Climbing
        }
    }

    fn learn(&mut self, settings: &RobustSettings, x: f64) {
        self.n = self.n.saturating_add(1);
        let distance = (x - self.location).abs();
        let spread_alpha = if self.n <= STARTUP_SAMPLES {
            1.0 / self.n as f64
        } else {
            settings.spread_alpha
        };
        if self.n > 1 {
            self.spread += spread_alpha * (distance - self.spread);
        }
        if self.n <= STARTUP_SAMPLES {
            // Plain running mean and mean absolute deviation until there is a scale to clip by.
            let a = 1.0 / self.n as f64;
            let r = x - self.location;
            self.location += a * r;
            if self.n > 1 {
                self.abs_dev += a * ((x - self.location).abs() - self.abs_dev);
            }
            return;
        }
        let limit = settings.clip * self.sigma();
        let r = (x - self.location).clamp(-limit, limit);
        self.location += settings.location_alpha * r;
        self.abs_dev += settings.scale_alpha * (r.abs() - self.abs_dev);
    }

    /// Move the location by `delta`, as when a change point says the level has shifted.
    pub fn shift(&mut self, delta: f64) {
        self.location += delta;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_series::wiggle as noisy;

    /// The settings every test uses.
    fn settings() -> RobustSettings {
        RobustSettings::new(30.0, 120.0, 3.0)
    }

    struct Case {
        name: &'static str,
        series: fn(usize) -> f64,
        len: usize,
        want_location: f64,
        tolerance: f64,
    }

    const CASES: &[Case] = &[
        Case {
            name: "constant",
            series: |_| 5.0,
            len: 200,
            want_location: 5.0,
            tolerance: 1e-12,
        },
        Case {
            name: "noise around 100",
            series: |i| 100.0 + noisy(i),
            len: 500,
            want_location: 100.0,
            tolerance: 0.3,
        },
        Case {
            name: "spike every 50 samples barely moves it",
            series: |i| if i % 50 == 49 { 1e6 } else { 100.0 + noisy(i) },
            len: 500,
            want_location: 100.0,
            tolerance: 0.5,
        },
        Case {
            name: "step is followed",
            series: |i| if i < 200 { noisy(i) } else { 20.0 + noisy(i) },
            len: 600,
            want_location: 20.0,
            tolerance: 0.5,
        },
        Case {
            name: "slow trend is followed",
            series: |i| i as f64 * 0.01 + noisy(i),
            len: 1000,
            want_location: 10.0,
            tolerance: 1.0,
        },
    ];

    #[test]
    fn location_cases() {
        for case in CASES {
            let mut b = RobustBaseline::new();
            for i in 0..case.len {
                b.update(&settings(), (case.series)(i));
            }
            assert!(
                (b.location() - case.want_location).abs() <= case.tolerance,
                "{}: location {} want {}",
                case.name,
                b.location(),
                case.want_location
            );
            assert!(b.sigma().is_finite() && b.sigma() >= 0.0, "{}", case.name);
        }
    }

    #[test]
    fn a_spike_does_not_inflate_the_scale() {
        let mut b = RobustBaseline::new();
        for i in 0..300 {
            b.update(&settings(), noisy(i));
        }
        let before = b.sigma();
        b.update(&settings(), 1e9);
        assert!(b.sigma() < before * 1.1, "{} -> {}", before, b.sigma());
    }

    #[test]
    fn spread_remembers_the_bursts_that_the_scale_ignores() {
        let mut b = RobustBaseline::new();
        for i in 0..2000 {
            b.update(&settings(), if i % 25 == 0 { 1e6 } else { 0.0 });
        }
        assert!(b.sigma() < 1e3, "scale {}", b.sigma());
        assert!(b.spread() > 1e4, "spread {}", b.spread());
    }

    #[test]
    fn constant_series_has_zero_scale() {
        let mut b = RobustBaseline::new();
        for _ in 0..50 {
            b.update(&settings(), 3.0);
        }
        assert_eq!(b.sigma(), 0.0);
        assert_eq!(b.location(), 3.0);
    }

    /// The checks one run of `value` reports, with the sample count at each.
    fn checks(
        len: usize,
        value: impl Fn(usize) -> f64,
    ) -> (RobustBaseline, Vec<(u32, ScaleCheck)>) {
        let mut b = RobustBaseline::new();
        let mut found = Vec::new();
        for i in 0..len {
            let check = b.update(&settings(), value(i));
            if check != ScaleCheck::Unchanged {
                found.push((b.samples(), check));
            }
        }
        (b, found)
    }

    #[test]
    fn a_scale_that_starts_too_small_is_climbing_until_it_converges() {
        // Calm for 20 samples, then noise 100 times larger: the clipped scale needs several
        // half-lives (120 samples) to get there.
        let (b, found) = checks(3_000, |i| if i < 20 { 0.01 } else { 1.0 } * noisy(i));
        assert_eq!(found[0], (120, ScaleCheck::Climbing), "{found:?}");
        assert_eq!(found[1], (240, ScaleCheck::Climbing), "{found:?}");
        let (last, climbing) = found.split_last().unwrap();
        assert_eq!(last.1, ScaleCheck::Converged, "{found:?}");
        assert!(climbing.iter().all(|c| c.1 == ScaleCheck::Climbing));
        assert!(b.scale_converged());
        // Converged where σ is near its level (wiggle is uniform on [-1, 1): σ ≈ 0.58).
        assert!(b.sigma() > 0.4, "σ {}", b.sigma());
    }

    #[test]
    fn a_steady_scale_converges() {
        let (b, found) = checks(3_000, |i| 10.0 + noisy(i));
        assert_eq!(found.last().unwrap().1, ScaleCheck::Converged, "{found:?}");
        assert!(b.scale_converged());
        // A constant series has nothing to climb to: converged at the first check.
        let (_, found) = checks(500, |_| 3.0);
        assert_eq!(found, [(120, ScaleCheck::Converged)]);
    }

    #[test]
    fn a_scale_that_keeps_growing_counts_as_converged_after_six_half_lives() {
        let (b, found) = checks(2_000, |i| noisy(i) * 1.01f64.powi(i as i32));
        assert_eq!(found.len(), MAX_SCALE_CHECKPOINTS as usize, "{found:?}");
        assert_eq!(found.last().unwrap(), &(720, ScaleCheck::Converged));
        assert!(b.scale_converged());
    }

    #[test]
    fn shift_moves_location() {
        let mut b = RobustBaseline::new();
        b.update(&settings(), 1.0);
        b.shift(4.0);
        assert_eq!(b.location(), 5.0);
    }
}
