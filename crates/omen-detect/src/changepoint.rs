//! Change-point detector for level shifts: a two-sided CUSUM on standardised residuals.
//!
//! Algorithm: Page's CUSUM. For each standardised residual `z` (the baseline's prediction error
//! divided by its σ), `up = max(0, up + z − k)` and `down = max(0, down − z − k)`. A level shift
//! of δ σ makes one side grow by about `δ − k` per sample, while noise keeps both near zero.
//! `z` is first clipped to `±clip`, so that one wild spike cannot look like a shift: a shift
//! needs several consecutive deviations. When a side passes `alarm` and its last `min_run`
//! samples all deviate beyond `k` in its direction, the detector reports the shift it estimates (the mean of `z` over the
//! run) so that the baselines can move to the new level at once instead of drifting there over
//! many samples (each of which would be a false alarm).
//!
//! Parameters ([`CusumSettings`]): `k` (half the smallest shift worth finding, in σ), `alarm`,
//! `clip`, `min_run`. They are kept apart from the state and passed to each update, so that a
//! server holding a million detectors with the same settings keeps one copy of them.
//! Cost per series: 8 numbers of state, a few flops per sample.
//!
//! Reference: E. S. Page, "Continuous Inspection Schemes", Biometrika 41 (1954).

use serde::{Deserialize, Serialize};

/// The settings of a CUSUM: the same for every series that shares a configuration, so not
/// part of a detector's state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CusumSettings {
    k: f64,
    alarm: f64,
    clip: f64,
    min_run: u32,
}

impl CusumSettings {
    /// Reference value `k`, alarm level `alarm`, input clip and minimum run.
    pub fn new(k: f64, alarm: f64, clip: f64, min_run: u32) -> Self {
        Self {
            k,
            alarm,
            clip,
            min_run,
        }
    }
}

/// Two one-sided CUSUM statistics and the runs behind them (its settings are passed in: see
/// [`CusumSettings`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cusum {
    up: f64,
    down: f64,
    up_run: u32,
    down_run: u32,
    up_sum: f64,
    down_sum: f64,
    up_streak: u32,
    down_streak: u32,
}

/// What one CUSUM step found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CusumStep {
    /// The larger of the two statistics after this sample, in σ units (0 = no evidence).
    pub statistic: f64,
    /// When a shift was confirmed at this sample: its estimated size in σ (signed).
    pub shift: Option<f64>,
    /// How many samples the current run has lasted (the change began that long ago).
    pub run: u32,
}

impl Cusum {
    /// A CUSUM that has seen nothing yet.
    ///
    /// ```
    /// use omen_detect::{Cusum, CusumSettings};
    /// let settings = CusumSettings::new(0.5, 6.0, 4.0, 3);
    /// let mut c = Cusum::new();
    /// let shifts: Vec<_> = (0..4).filter_map(|_| c.update(&settings, 3.0).shift).collect();
    /// assert_eq!(shifts.len(), 1);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed one standardised residual, with the detector's settings.
    pub fn update(&mut self, settings: &CusumSettings, z: f64) -> CusumStep {
        let CusumSettings {
            k,
            alarm,
            clip,
            min_run,
        } = *settings;
        let z = z.clamp(-clip, clip);
        // Consecutive samples beyond k on each side: a shift is only confirmed while it lasts,
        // never on a run whose latest samples are back at the old level.
        self.up_streak = if z > k { self.up_streak + 1 } else { 0 };
        self.down_streak = if -z > k { self.down_streak + 1 } else { 0 };
        step_side(&mut self.up, &mut self.up_run, &mut self.up_sum, z, k);
        step_side(
            &mut self.down,
            &mut self.down_run,
            &mut self.down_sum,
            -z,
            k,
        );
        let (statistic, run) = if self.up >= self.down {
            (self.up, self.up_run)
        } else {
            (self.down, self.down_run)
        };
        let mut shift = None;
        if self.up > alarm && self.up_streak >= min_run {
            shift = Some(self.up_sum / self.up_run as f64);
        } else if self.down > alarm && self.down_streak >= min_run {
            shift = Some(-self.down_sum / self.down_run as f64);
        }
        if shift.is_some() {
            self.reset();
        }
        CusumStep {
            statistic,
            shift,
            run,
        }
    }

    /// Forget the evidence gathered so far (after the baseline was moved).
    pub fn reset(&mut self) {
        self.up = 0.0;
        self.down = 0.0;
        self.up_run = 0;
        self.down_run = 0;
        self.up_sum = 0.0;
        self.down_sum = 0.0;
        self.up_streak = 0;
        self.down_streak = 0;
    }
}

fn step_side(stat: &mut f64, run: &mut u32, sum: &mut f64, z: f64, k: f64) {
    let next = *stat + z - k;
    if next > 0.0 {
        *stat = next;
        *run += 1;
        *sum += z;
    } else {
        *stat = 0.0;
        *run = 0;
        *sum = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The settings every test uses.
    const SETTINGS: CusumSettings = CusumSettings {
        k: 0.5,
        alarm: 6.0,
        clip: 4.0,
        min_run: 3,
    };

    struct Case {
        name: &'static str,
        z: fn(usize) -> f64,
        len: usize,
        /// (first sample index at which a shift is confirmed, its sign), or None.
        want: Option<(usize, f64)>,
    }

    fn wiggle(i: usize) -> f64 {
        ((i as f64 * 7.31).sin() * 1000.0).rem_euclid(1.0) * 2.0 - 1.0
    }

    const CASES: &[Case] = &[
        Case {
            name: "noise: no shift",
            z: wiggle,
            len: 2000,
            want: None,
        },
        Case {
            name: "constant zero: no shift",
            z: |_| 0.0,
            len: 100,
            want: None,
        },
        Case {
            name: "one huge spike: no shift",
            z: |i| if i == 50 { 1e9 } else { 0.0 },
            len: 100,
            want: None,
        },
        Case {
            name: "two spikes then normal: no shift",
            z: |i| if i == 50 || i == 51 { 1e6 } else { 0.0 },
            len: 100,
            want: None,
        },
        Case {
            name: "step up of 3 sigma",
            z: |i| if i >= 100 { 3.0 } else { 0.0 },
            len: 200,
            want: Some((102, 1.0)),
        },
        Case {
            name: "step down of 2 sigma",
            z: |i| if i >= 100 { -2.0 } else { 0.0 },
            len: 200,
            want: Some((104, -1.0)),
        },
    ];

    #[test]
    fn cases() {
        for case in CASES {
            let mut c = Cusum::new();
            let first =
                (0..case.len).find_map(|i| c.update(&SETTINGS, (case.z)(i)).shift.map(|s| (i, s)));
            match (first, case.want) {
                (None, None) => {}
                (Some((i, s)), Some((wi, sign))) => {
                    assert_eq!(i, wi, "{}: confirmed at {i}", case.name);
                    assert_eq!(s.signum(), sign, "{}: shift {s}", case.name);
                }
                (got, want) => panic!("{}: got {got:?}, want {want:?}", case.name),
            }
        }
    }

    #[test]
    fn statistic_grows_during_a_shift_and_resets_after_alarm() {
        let mut c = Cusum::new();
        let s1 = c.update(&SETTINGS, 2.0).statistic;
        let s2 = c.update(&SETTINGS, 2.0).statistic;
        assert!(s2 > s1);
        let mut alarmed = false;
        for _ in 0..10 {
            if c.update(&SETTINGS, 2.0).shift.is_some() {
                alarmed = true;
                break;
            }
        }
        assert!(alarmed);
        assert_eq!(c.update(&SETTINGS, 0.0).statistic, 0.0);
    }
}
