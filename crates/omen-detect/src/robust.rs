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

/// The settings of a robust baseline, as smoothing factors: the same for every series that
/// shares a configuration, so not part of a baseline's state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RobustSettings {
    location_alpha: f64,
    scale_alpha: f64,
    clip: f64,
    spread_alpha: f64,
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
        }
    }
}

/// An exponentially weighted robust location and scale (its settings are passed in: see
/// [`RobustSettings`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RobustBaseline {
    n: u32,
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

    /// Learn from one finite value, with the baseline's settings.
    pub fn update(&mut self, settings: &RobustSettings, x: f64) {
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

    #[test]
    fn shift_moves_location() {
        let mut b = RobustBaseline::new();
        b.update(&settings(), 1.0);
        b.shift(4.0);
        assert_eq!(b.location(), 5.0);
    }
}
