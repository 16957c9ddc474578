//! Ties in the sweep: among thresholds with the same raw score, the highest wins (spec §6).
//!
//! Every case is one file of 30 rows (probation P = 4) scoring 0 except at the listed rows.

use omen_eval::nab::{Profile, Windows, score_corpus};

use crate::support::{file, window};

struct TieCase {
    name: &'static str,
    /// Window rows (inclusive) of the file.
    window: (usize, usize),
    /// (row, score) hits; all other rows score 0.
    hits: &'static [(usize, f64)],
    /// Profile weights (A_TP, A_FP, A_FN).
    weights: (f64, f64, f64),
    /// The threshold the sweep must keep.
    threshold: f64,
    /// Its raw score.
    raw_score: f64,
}

const TIE_CASES: &[TieCase] = &[
    // R(0.9) = 1 (first row of the window). Rows 12 and 15 are later rows of the same window
    // and add nothing, so R(0.8) = R(0.7) = 1 too; R(0) adds every false positive and is lower.
    TieCase {
        name: "later rows of a detected window",
        window: (10, 19),
        hits: &[(10, 0.9), (12, 0.8), (15, 0.7)],
        weights: (1.0, 0.11, 1.0),
        threshold: 0.9,
        raw_score: 1.0,
    },
    // The window (rows 1..=2) lies wholly in probation, so it is never scored, not even as
    // missed, and with A_FP = 0 false positives are free, so every threshold gives R = 0: the
    // sentinel 1.1 is kept. (The window still counts for the perfect score, 1, as in NAB, so
    // the scale stays defined: null = 0.)
    TieCase {
        name: "everything ties with the sentinel",
        window: (1, 2),
        hits: &[(20, 0.9)],
        weights: (1.0, 0.0, 1.0),
        threshold: 1.1,
        raw_score: 0.0,
    },
];

#[test]
fn sweep_keeps_the_highest_threshold_among_equal_scores() {
    for case in TIE_CASES {
        let windows: Windows = [(
            "t/f.csv".to_owned(),
            vec![window(case.window.0, case.window.1)],
        )]
        .into_iter()
        .collect();
        let (tp, fp, fn_) = case.weights;
        let profile = Profile::new("p", tp, fp, fn_);
        let files = [file("t/f.csv", 30, case.hits)];
        let result = &score_corpus(&files, &windows, &[profile]).unwrap()[0];
        assert_eq!(result.threshold, case.threshold, "{}", case.name);
        assert_eq!(result.raw_score, case.raw_score, "{}", case.name);
    }
}
