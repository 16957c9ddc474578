//! The raw score at a threshold, and the corpus-wide threshold sweep (spec §5–§6).
//!
//! A row is a detection iff its score s ≥ T. A window earns the best value among its detected
//! rows, or −A_FN if it has none; every detected row outside windows adds its (negative) value.
//!
//! The sweep evaluates R(T) for T = 1.1 (nothing detected) and for every distinct score among
//! the scorable rows, by walking the rows sorted by score (highest first) and updating running
//! sums group by group. It keeps the first maximum, i.e. the highest threshold among equal raw
//! scores, as NAB does. Cost: O(N) per profile after the O(N log N) sort, plus one f64 per window.

use super::profile::Profile;
use super::rows::{Pool, ScorableRow};
use super::sigmoid::Weigher;

/// The sentinel threshold above every valid score: nothing is detected.
pub const NO_DETECTION_THRESHOLD: f64 = 1.1;

/// What the detections at one threshold amount to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    /// Windows with at least one detection.
    pub detected_windows: usize,
    /// Windows without a detection (each costs A_FN).
    pub missed_windows: usize,
    /// Detected rows outside every window (each costs its row value).
    pub false_positives: usize,
}

/// The best threshold of a sweep and what it scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Sweep {
    pub(crate) threshold: f64,
    pub(crate) raw_score: f64,
    pub(crate) tally: Tally,
}

/// Sweeps all thresholds over `pool`, whose rows must be sorted by `score_of`, highest first.
///
/// `score_of` gives each row's anomaly score; the null detector passes a constant.
pub(crate) fn sweep(
    pool: &Pool,
    profile: &Profile,
    score_of: impl Fn(&ScorableRow) -> f64,
) -> Sweep {
    let mut sums = Sums::new(pool, profile);
    let mut best = Sweep {
        threshold: NO_DETECTION_THRESHOLD,
        raw_score: sums.raw_score(),
        tally: sums.tally,
    };
    for group in pool.rows.chunk_by(|a, b| score_of(a) == score_of(b)) {
        group.iter().for_each(|row| sums.add(row));
        let raw_score = sums.raw_score();
        // Strictly greater: among equal scores the earlier, higher threshold wins.
        if raw_score > best.raw_score {
            best = Sweep {
                threshold: score_of(&group[0]),
                raw_score,
                tally: sums.tally,
            };
        }
    }
    best
}

/// The raw score and tally of `pool` at a fixed threshold (rows in any order).
pub(crate) fn at_threshold(pool: &Pool, profile: &Profile, threshold: f64) -> (f64, Tally) {
    let mut sums = Sums::new(pool, profile);
    pool.rows
        .iter()
        .filter(|row| row.score >= threshold)
        .for_each(|row| sums.add(row));
    (sums.raw_score(), sums.tally)
}

/// Running parts of R(T): the false-positive sum and each window's best detection.
#[derive(Debug)]
struct Sums {
    weigher: Weigher,
    fn_weight: f64,
    /// Best value detected in each window; `None` while the window is missed.
    best: Vec<Option<f64>>,
    detected_sum: f64,
    false_positive_sum: f64,
    tally: Tally,
}

impl Sums {
    fn new(pool: &Pool, profile: &Profile) -> Self {
        Self {
            weigher: Weigher::new(profile),
            fn_weight: profile.fn_weight,
            best: vec![None; pool.window_slots],
            detected_sum: 0.0,
            false_positive_sum: 0.0,
            tally: Tally {
                missed_windows: pool.scored_windows,
                ..Tally::default()
            },
        }
    }

    /// Counts `row` as detected.
    fn add(&mut self, row: &ScorableRow) {
        let value = self.weigher.weigh(row.unweighted, row.in_window());
        if !row.in_window() {
            self.false_positive_sum += value;
            self.tally.false_positives += 1;
            return;
        }
        match &mut self.best[row.window] {
            // Values inside a window are >= 0 > -A_FN, so the first detection always replaces
            // the miss penalty, as NAB's max(-A_FN, v) does.
            best @ None => {
                *best = Some(value);
                self.detected_sum += value;
                self.tally.detected_windows += 1;
                self.tally.missed_windows -= 1;
            }
            Some(best) if value > *best => {
                self.detected_sum += value - *best;
                *best = value;
            }
            Some(_) => {}
        }
    }

    fn raw_score(&self) -> f64 {
        self.false_positive_sum + self.detected_sum
            - self.fn_weight * self.tally.missed_windows as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nab::FileScores;

    const WINDOWS: [(usize, usize); 3] = [(70, 99), (150, 180), (300, 340)];

    /// A 400-row file with three windows and pseudo-random scores on a grid of 0.025, so that
    /// many rows share a score (LCG, fixed seed). Rows in windows tend to score higher, so the
    /// best threshold lies inside the range of scores.
    fn pool() -> Pool {
        let mut state: u64 = 0x5eed;
        let scores = (0..400)
            .map(|i| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let level = ((state >> 33) % 21) as f64 / 40.0; // 0 ..= 0.5
                let in_window = WINDOWS.iter().any(|&(a, b)| (a..=b).contains(&i));
                if in_window { level + 0.45 } else { level * 1.9 }
            })
            .collect();
        let file = FileScores {
            path: "f.csv".into(),
            timestamps: (0..400).map(|i| format!("t{i}")).collect(),
            scores,
        };
        let bounds: Vec<_> = WINDOWS
            .iter()
            .map(|(a, b)| (format!("t{a}"), format!("t{b}")))
            .collect();
        let mut pool = Pool::with_capacity(400);
        pool.add_file(&file, &bounds).unwrap();
        pool
    }

    #[test]
    fn sweep_equals_brute_force_over_every_candidate() {
        let mut pool = pool();
        for profile in Profile::standard_set() {
            // Brute force per §6: score every candidate from scratch, keep the first maximum.
            let mut candidates: Vec<f64> = pool.rows.iter().map(|r| r.score).collect();
            candidates.push(NO_DETECTION_THRESHOLD);
            candidates.sort_by(|a, b| b.total_cmp(a));
            candidates.dedup();
            let mut best = (f64::NAN, f64::NEG_INFINITY);
            for &t in &candidates {
                let (raw, _) = at_threshold(&pool, &profile, t);
                if raw > best.1 + 1e-12 {
                    best = (t, raw);
                }
            }
            pool.sort_by_score_descending();
            let swept = sweep(&pool, &profile, |row| row.score);
            assert_eq!(swept.threshold, best.0, "{}", profile.name);
            assert!((swept.raw_score - best.1).abs() < 1e-12, "{}", profile.name);
            let (raw, tally) = at_threshold(&pool, &profile, best.0);
            assert_eq!(swept.tally, tally, "{}", profile.name);
            assert!((swept.raw_score - raw).abs() < 1e-12, "{}", profile.name);
            // Not a vacuous sweep: the optimum is neither the top nor the bottom candidate.
            assert!(
                best.0 < 0.95 && best.0 > 0.0,
                "{}: T* = {}",
                profile.name,
                best.0
            );
        }
    }
}
