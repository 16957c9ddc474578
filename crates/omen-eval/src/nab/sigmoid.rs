//! The scaled sigmoid S(y) and the value of flagging a row (spec §3–§4).
//!
//! Every scorable row has a value v_i: what it would add to the score if it were flagged.
//! Inside a window the value falls from A_TP at the first row towards 0 at the end; outside
//! windows it is a penalty that grows from 0 to A_FP with the distance past the last window.
//! The arithmetic follows NAB's `sweeper.py` operation for operation, so values agree to the bit.

use super::profile::Profile;
use super::windows::RowWindow;

/// The scaled sigmoid: S(y) = 2·σ(−5y) − 1 for y ≤ 3, and −1 beyond.
///
/// S(−1) ≈ 0.98661 is the best in-window value, S(0) = 0 and S(y) < 0 for y > 0.
///
/// ```
/// use omen_eval::nab::scaled_sigmoid;
/// assert_eq!(scaled_sigmoid(0.0), 0.0);
/// assert_eq!(scaled_sigmoid(3.5), -1.0);
/// ```
pub fn scaled_sigmoid(y: f64) -> f64 {
    if y > 3.0 {
        -1.0
    } else {
        2.0 * sigmoid(-5.0 * y) - 1.0
    }
}

/// S_max = S(−1), the value of the first row of a window before weighting.
pub fn max_true_positive() -> f64 {
    scaled_sigmoid(-1.0)
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Where a row lies relative to its file's windows, which decides its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowPlace {
    /// Row `row` lies inside `window`.
    InWindow {
        /// The row's index.
        row: usize,
        /// The window containing it.
        window: RowWindow,
    },
    /// The row lies outside windows and no window of the file has ended yet.
    BeforeAnyWindow,
    /// The row lies outside windows; `previous` is the most recent window that ended before it.
    AfterWindow {
        /// The row's index.
        row: usize,
        /// The last window that ended before the row.
        previous: RowWindow,
    },
}

impl RowPlace {
    /// Whether the row lies inside a window.
    pub fn is_in_window(&self) -> bool {
        matches!(self, Self::InWindow { .. })
    }

    /// The unweighted value S(y): positive inside windows, −1 to 0 outside.
    ///
    /// Inside a window y = −(b − i + 1)/W. After a window y = (i − b′)/(W′ − 1): NAB divides by
    /// W′ − 1 here but by W inside windows (NAB issue #366), and this copies it. A window of width
    /// 1 makes the divisor 0, so every later row gets y = +∞ and the full penalty −1.
    pub fn unweighted(&self) -> f64 {
        match *self {
            Self::InWindow { row, window } => {
                let y = -(window.last as f64 - row as f64 + 1.0) / window.width() as f64;
                scaled_sigmoid(y)
            }
            Self::BeforeAnyWindow => -1.0,
            Self::AfterWindow { row, previous } => {
                let y = (row as f64 - previous.last as f64) / (previous.width() as f64 - 1.0);
                scaled_sigmoid(y)
            }
        }
    }

    /// The weighted value v_i that flagging this row adds to the score under `profile`.
    pub fn value(&self, profile: &Profile) -> f64 {
        Weigher::new(profile).weigh(self.unweighted(), self.is_in_window())
    }
}

/// Turns unweighted values into v_i for one profile, with S_max computed once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Weigher {
    tp_weight: f64,
    fp_weight: f64,
    s_max: f64,
}

impl Weigher {
    pub(crate) fn new(profile: &Profile) -> Self {
        Self {
            tp_weight: profile.tp_weight,
            fp_weight: profile.fp_weight,
            s_max: max_true_positive(),
        }
    }

    /// Weights as NAB does, in NAB's operation order: `S·A_TP/S_max` in windows, `S·A_FP`
    /// outside.
    pub(crate) fn weigh(&self, unweighted: f64, in_window: bool) -> f64 {
        if in_window {
            unweighted * self.tp_weight / self.s_max
        } else {
            unweighted * self.fp_weight
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values of S(y) from spec §3: (y, S(y), tolerance).
    const SIGMOID_CASES: &[(f64, f64, f64)] = &[
        (-1.0, 0.9866142981514305, 1e-15),
        (-0.5, 0.8482836, 1e-7),
        (0.0, 0.0, 0.0),
        (1.0, -0.9866143, 1e-7),
        (3.0, -0.9999994, 1e-7),
        (3.0000001, -1.0, 0.0),
        (100.0, -1.0, 0.0),
    ];

    #[test]
    fn scaled_sigmoid_matches_reference_values() {
        for &(y, want, tol) in SIGMOID_CASES {
            let got = scaled_sigmoid(y);
            assert!((got - want).abs() <= tol, "S({y}) = {got}, want {want}");
        }
        assert_eq!(max_true_positive(), scaled_sigmoid(-1.0));
    }

    const W10: RowWindow = RowWindow {
        first: 100,
        last: 109,
    };

    /// Hand-checkable row values of spec §10, window of W = 10 rows (100..=109):
    /// (name, place, value in units of A_TP inside windows or A_FP outside).
    const VALUE_CASES: &[(&str, RowPlace, f64)] = &[
        (
            "first row",
            RowPlace::InWindow {
                row: 100,
                window: W10,
            },
            1.0,
        ),
        (
            "6th row",
            RowPlace::InWindow {
                row: 105,
                window: W10,
            },
            0.859793,
        ),
        (
            "last row",
            RowPlace::InWindow {
                row: 109,
                window: W10,
            },
            0.248242,
        ),
        (
            "1 row after",
            RowPlace::AfterWindow {
                row: 110,
                previous: W10,
            },
            -0.270847,
        ),
        (
            "9 rows after",
            RowPlace::AfterWindow {
                row: 118,
                previous: W10,
            },
            -0.986614,
        ),
        (
            "28 rows after",
            RowPlace::AfterWindow {
                row: 137,
                previous: W10,
            },
            -1.0,
        ),
        (
            "1000 rows after",
            RowPlace::AfterWindow {
                row: 1109,
                previous: W10,
            },
            -1.0,
        ),
        ("before any window", RowPlace::BeforeAnyWindow, -1.0),
    ];

    #[test]
    fn row_values_match_the_hand_checkable_cases() {
        // Distinct weights, so a TP weighted as FP (or the reverse) cannot pass.
        let profile = Profile::new("p", 2.0, 0.5, 7.0);
        for &(name, place, unit) in VALUE_CASES {
            let weight = if place.is_in_window() { 2.0 } else { 0.5 };
            let got = place.value(&profile);
            assert!(
                (got - unit * weight).abs() < 1e-6,
                "{name}: {got} vs {}",
                unit * weight
            );
        }
    }

    #[test]
    fn y_of_exactly_3_is_not_yet_the_full_penalty() {
        // 27 rows after a W = 10 window: y = 27/9 = 3, and only y > 3 is cut to -1.
        let place = RowPlace::AfterWindow {
            row: 136,
            previous: W10,
        };
        let got = place.unweighted();
        assert!(got > -1.0 && (got - -0.9999994).abs() < 1e-7, "{got}");
    }

    #[test]
    fn width_one_window_gives_full_penalty_after_it() {
        let one = RowWindow { first: 5, last: 5 };
        assert_eq!(
            RowPlace::InWindow {
                row: 5,
                window: one
            }
            .unweighted(),
            max_true_positive()
        );
        assert_eq!(
            RowPlace::AfterWindow {
                row: 6,
                previous: one
            }
            .unweighted(),
            -1.0
        );
    }
}
