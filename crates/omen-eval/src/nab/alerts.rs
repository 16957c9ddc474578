//! Alerts against labelled windows: how many alerts fired outside every window (false alerts),
//! and how many windows had at least one alert start inside them (windows caught).
//!
//! This is what `omen eval alerts` reports for Omen's alert stage and for a static threshold
//! beside it. It counts alerts, not rows: an alert is the start of a firing episode, so one
//! long incident that keeps an alert firing counts once, as it pages once.
//!
//! Rows before `from_row` (NAB's probation period, where a detector is still learning and a
//! static threshold is being fitted) are not judged: alerts starting there are ignored and
//! windows ending there are not counted.

use serde::Serialize;

use super::RowWindow;

/// Alerts of one detector on one file, or summed over files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AlertTally {
    /// Alerts that started outside every window.
    pub false_alerts: u64,
    /// Windows with at least one alert starting inside them.
    pub windows_caught: u64,
    /// Windows judged (those ending at or after `from_row`).
    pub windows_total: u64,
    /// Alerts that started inside a window (more than one per window is possible).
    pub true_alerts: u64,
}

impl std::ops::Add for AlertTally {
    type Output = Self;

    /// The sum of two tallies, field by field.
    fn add(self, other: Self) -> Self {
        Self {
            false_alerts: self.false_alerts + other.false_alerts,
            windows_caught: self.windows_caught + other.windows_caught,
            windows_total: self.windows_total + other.windows_total,
            true_alerts: self.true_alerts + other.true_alerts,
        }
    }
}

impl AlertTally {
    /// Count the alerts that started at `alert_rows` (row indices, in any order) against
    /// `windows`, judging only rows from `from_row` on.
    pub fn count(alert_rows: &[usize], windows: &[RowWindow], from_row: usize) -> Self {
        let judged: Vec<&RowWindow> = windows.iter().filter(|w| w.last >= from_row).collect();
        let mut caught = vec![false; judged.len()];
        let mut tally = Self {
            windows_total: judged.len() as u64,
            ..Self::default()
        };
        for &row in alert_rows.iter().filter(|&&row| row >= from_row) {
            match judged.iter().position(|w| w.contains(row)) {
                Some(i) => {
                    caught[i] = true;
                    tally.true_alerts += 1;
                }
                None => tally.false_alerts += 1,
            }
        }
        tally.windows_caught = caught.iter().filter(|&&c| c).count() as u64;
        tally
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(first: usize, last: usize) -> RowWindow {
        RowWindow { first, last }
    }

    /// (name, alert rows, windows, from_row, (false, caught, total, true)).
    type Case = (
        &'static str,
        &'static [usize],
        &'static [(usize, usize)],
        usize,
        (u64, u64, u64, u64),
    );

    const CASES: &[Case] = &[
        ("no alerts", &[], &[(10, 20)], 0, (0, 0, 1, 0)),
        ("one alert inside", &[15], &[(10, 20)], 0, (0, 1, 1, 1)),
        (
            "window edges are inside",
            &[10, 20],
            &[(10, 20)],
            0,
            (0, 1, 1, 2),
        ),
        (
            "just outside both edges",
            &[9, 21],
            &[(10, 20)],
            0,
            (2, 0, 1, 0),
        ),
        (
            "two windows, one caught",
            &[5, 35],
            &[(0, 10), (30, 32)],
            0,
            (1, 1, 2, 1),
        ),
        (
            "probation alerts ignored",
            &[2, 50],
            &[(40, 60)],
            5,
            (0, 1, 1, 1),
        ),
        (
            "windows ending in probation not judged",
            &[3],
            &[(0, 4), (40, 60)],
            5,
            (0, 0, 1, 0),
        ),
        (
            "a window straddling probation is judged",
            &[6],
            &[(0, 10)],
            5,
            (0, 1, 1, 1),
        ),
        (
            "order does not matter",
            &[35, 5],
            &[(0, 10), (30, 40)],
            0,
            (0, 2, 2, 2),
        ),
    ];

    #[test]
    fn named_cases() {
        for (name, rows, windows, from, want) in CASES {
            let windows: Vec<_> = windows.iter().map(|&(a, b)| w(a, b)).collect();
            let t = AlertTally::count(rows, &windows, *from);
            let got = (
                t.false_alerts,
                t.windows_caught,
                t.windows_total,
                t.true_alerts,
            );
            assert_eq!(got, *want, "{name}");
        }
    }

    #[test]
    fn tallies_add_field_by_field() {
        let a = AlertTally::count(&[1, 15], &[w(10, 20)], 0);
        let b = AlertTally::count(&[3], &[w(0, 5), w(8, 9)], 0);
        let sum = a + b;
        assert_eq!(
            (sum.false_alerts, sum.windows_caught, sum.windows_total),
            (1, 2, 3)
        );
    }
}
