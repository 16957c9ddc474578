//! Detector output in, scorable rows out: validation, probation and window membership
//! (spec §1–§2, §4, first half of §8).
//!
//! Each file's rows from the probationary index P_f on become [`ScorableRow`]s, pooled over the
//! corpus in one vector. A row keeps its anomaly score, the corpus-wide index of the window it
//! lies in (if any) and its unweighted value S(y), so any profile can weigh it later without
//! redoing the window walk. Cost: one pass over each file, 24 bytes per scorable row.

use super::sigmoid::RowPlace;
use super::windows::{RowWindow, locate_windows};
use crate::error::{Error, Result};

/// NAB's probationary fraction of each file.
const PROBATION_FRACTION: f64 = 0.15;
/// NAB caps the probationary period at this fraction of 5000 rows, i.e. 750 rows.
const PROBATION_CAP_ROWS: f64 = 5000.0;

/// One data file's detector output, as handed over by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct FileScores {
    /// Path relative to NAB's `data/` directory with `/` separators, as the windows file spells
    /// it, e.g. `realKnownCause/nyc_taxi.csv`.
    pub path: String,
    /// The file's timestamps in row order, exactly as written in the data file.
    pub timestamps: Vec<String>,
    /// One anomaly score in [0, 1] per row, probationary rows included.
    pub scores: Vec<f64>,
}

/// Number of leading rows NAB leaves unscored in a file of `n` rows:
/// P_f = min(floor(0.15·n), 750), computed in floating point as NAB does.
///
/// ```
/// use omen_eval::nab::probation_rows;
/// assert_eq!(probation_rows(1000), 150);
/// assert_eq!(probation_rows(22_695), 750);
/// ```
pub fn probation_rows(n: usize) -> usize {
    let p = (PROBATION_FRACTION * n as f64)
        .floor()
        .min(PROBATION_FRACTION * PROBATION_CAP_ROWS);
    // NAB compares `i >= p` with a float p; the first such integer i is ceil(p).
    p.ceil() as usize
}

/// Marks a row outside every window.
pub(crate) const NO_WINDOW: usize = usize::MAX;

/// A row that takes part in scoring (index ≥ P_f).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScorableRow {
    /// The detector's anomaly score.
    pub(crate) score: f64,
    /// Corpus-wide window index, or [`NO_WINDOW`].
    pub(crate) window: usize,
    /// S(y) before weighting by a profile.
    pub(crate) unweighted: f64,
}

impl ScorableRow {
    pub(crate) fn in_window(&self) -> bool {
        self.window != NO_WINDOW
    }
}

/// The scorable rows of a set of files, plus how many windows they mention.
#[derive(Debug, Default)]
pub(crate) struct Pool {
    pub(crate) rows: Vec<ScorableRow>,
    /// Number of window indices handed out, scorable or not.
    pub(crate) window_slots: usize,
    /// Windows with at least one scorable row. A window lying wholly in the probationary period
    /// vanishes from NAB's score: it cannot even be missed.
    pub(crate) scored_windows: usize,
}

impl Pool {
    pub(crate) fn with_capacity(rows: usize) -> Self {
        Self {
            rows: Vec::with_capacity(rows),
            ..Self::default()
        }
    }

    /// Validates one file's results and appends its scorable rows.
    pub(crate) fn add_file(
        &mut self,
        file: &FileScores,
        bounds: &[(String, String)],
    ) -> Result<()> {
        validate_scores(file)?;
        let windows = locate_windows(&file.path, bounds, &file.timestamps)?;
        let start = probation_rows(file.scores.len());
        let base = self.window_slots;
        self.window_slots += windows.len();
        self.scored_windows += windows.iter().filter(|w| w.last >= start).count();

        let mut next = 0; // index of the first window that has not ended yet
        let mut previous: Option<RowWindow> = None;
        for (i, &score) in file.scores.iter().enumerate() {
            let current = windows.get(next).filter(|w| w.first <= i);
            if i >= start {
                let place = match (current, previous) {
                    (Some(&window), _) => RowPlace::InWindow { row: i, window },
                    (None, None) => RowPlace::BeforeAnyWindow,
                    (None, Some(previous)) => RowPlace::AfterWindow { row: i, previous },
                };
                let window = if current.is_some() {
                    base + next
                } else {
                    NO_WINDOW
                };
                self.rows.push(ScorableRow {
                    score,
                    window,
                    unweighted: place.unweighted(),
                });
            }
            if let Some(&window) = current.filter(|w| w.last == i) {
                previous = Some(window);
                next += 1;
            }
        }
        Ok(())
    }

    /// Sorts the rows by anomaly score, highest first, as the sweep needs.
    pub(crate) fn sort_by_score_descending(&mut self) {
        self.rows
            .sort_unstable_by(|a, b| b.score.total_cmp(&a.score));
    }
}

/// Checks that there is one score per timestamp and every score is in [0, 1] (NaN is not).
fn validate_scores(file: &FileScores) -> Result<()> {
    if file.timestamps.len() != file.scores.len() {
        return Err(Error::LengthMismatch {
            file: file.path.clone(),
            timestamps: file.timestamps.len(),
            scores: file.scores.len(),
        });
    }
    match file.scores.iter().position(|s| !(0.0..=1.0).contains(s)) {
        None => Ok(()),
        Some(row) => Err(Error::ScoreOutOfRange {
            file: file.path.clone(),
            row,
            timestamp: file.timestamps[row].clone(),
            value: file.scores[row],
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (n, P_f): the 15 % rule, its floor and the 750-row cap.
    const PROBATION_CASES: &[(usize, usize)] = &[
        (0, 0),
        (6, 0),
        (7, 1),
        (22, 3),
        (30, 4),
        (1000, 150),
        (5000, 750),
        (22_695, 750),
    ];

    #[test]
    fn probation_is_15_percent_capped_at_750() {
        for &(n, want) in PROBATION_CASES {
            assert_eq!(probation_rows(n), want, "n = {n}");
        }
    }

    #[test]
    fn rows_carry_window_membership_and_skip_probation() {
        // 10 rows, P = 1; windows at rows 3..=4 and 7..=7.
        let file = FileScores {
            path: "f.csv".into(),
            timestamps: (0..10).map(|i| format!("t{i}")).collect(),
            scores: vec![0.5; 10],
        };
        let bounds = [
            ("t3".to_owned(), "t4".to_owned()),
            ("t7".to_owned(), "t7".to_owned()),
        ];
        let mut pool = Pool::with_capacity(0);
        pool.window_slots = 5; // as if another file came first
        pool.add_file(&file, &bounds).unwrap();
        let windows: Vec<_> = pool.rows.iter().map(|r| r.window).collect();
        let n = NO_WINDOW;
        assert_eq!(windows, [n, n, 5, 5, n, n, 6, n, n]);
        assert_eq!((pool.window_slots, pool.scored_windows), (7, 2));
        // Rows 1 and 2 come before any window; row 5 is 1 row after a W = 2 window (y = 1).
        assert_eq!(pool.rows[0].unweighted, -1.0);
        assert_eq!(pool.rows[4].unweighted, super::super::scaled_sigmoid(1.0));
    }
}
