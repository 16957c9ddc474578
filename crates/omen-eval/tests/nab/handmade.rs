//! The hand-made corpus (see `support::handmade_window_list`), scored by hand.
//!
//! The detector scores 0 everywhere except:
//!
//! | file | row | score | where the row is | value if flagged |
//! |---|---|---|---|---|
//! | a | 2 | 0.95 | probation (row < 4) | not scored |
//! | a | 15 | 0.9 | 6th row of 10..=19: y = -5/10 | a = S(-0.5)/S(-1) = 0.859793 A_TP |
//! | a | 20 | 0.7 | 1 row after W = 10: y = 1/9 | f = S(1/9) = -0.270847 A_FP |
//! | b | 0 | 0.7 | probation (row < 3) | not scored |
//! | b | 4 | 0.8 | before any window | -A_FP |
//! | b | 9 | 0.8 | last row of 5..=9: y = -1/5 | b = S(-0.2)/S(-1) = 0.468387 A_TP |
//! | b | 14 | 0.6 | first row of 14..=16 | A_TP |
//! | c | 30 | 0.65 | file without windows | -A_FP |
//!
//! Sweep under `standard` (A_TP = 1, A_FP = 0.11, A_FN = 1), three windows:
//!
//! | T | detections added | R(T) |
//! |---|---|---|
//! | 1.1 | none | -3 |
//! | 0.9 | a15 | a - 2 = -1.140207 |
//! | 0.8 | b4, b9 | a + b - 1 - 0.11 = 0.218179 |
//! | 0.7 | a20 (b0 is probation) | 0.218179 + 0.11 f = 0.188386 |
//! | 0.65 | c30 | 0.188386 - 0.11 = 0.078386 |
//! | 0.6 | b14: the last window, -1 becomes +1 | 0.078386 + 2 = 2.078386 |
//! | 0 | every other row | at most 3 - 94·0.11 (c alone has 94 scorable rows), lower |
//!
//! So T* = 0.6 with R* = A_TP(a + b + 1) + A_FP(f - 2), all three windows detected and three
//! false positives, for every profile (a larger A_FP or A_FN only deepens the other rows).
//! The null detector is best off flagging nothing: flagging everything gains at most 3 A_TP but
//! costs at least 94 A_FP = 10.34 on c alone. So null = -3 A_FN and perfect = 3 A_TP.

use omen_eval::nab::{
    Profile, Tally, Windows, score_corpus, score_corpus_at_threshold, score_file_at_threshold,
};

use crate::support::{assert_close, file, handmade_files, handmade_windows, window};

const A: f64 = 0.859793;
const B: f64 = 0.468387;
const F: f64 = -0.270847;
const TOL: f64 = 1e-6;

fn detector(path: &str, row: usize) -> f64 {
    match (path, row) {
        ("syn/a.csv", 2) => 0.95,
        ("syn/a.csv", 15) => 0.9,
        ("syn/a.csv", 20) => 0.7,
        ("syn/b.csv", 0) => 0.7,
        ("syn/b.csv", 4 | 9) => 0.8,
        ("syn/b.csv", 14) => 0.6,
        ("syn/c.csv", 30) => 0.65,
        _ => 0.0,
    }
}

/// (threshold, raw score of a, b, c under `standard`), from the table in the module docs.
const PER_FILE_CASES: &[(f64, [f64; 3])] = &[
    // Nothing detected: each window costs A_FN.
    (1.1, [-1.0, -2.0, 0.0]),
    // a15; b4 and b9; b's second window missed.
    (0.75, [A, B - 1.0 - 0.11, 0.0]),
    // s >= T: a20 (score exactly 0.7) now counts; b0 (0.7) is in probation.
    (0.7, [A + 0.11 * F, B - 1.0 - 0.11, 0.0]),
    (0.6, [A + 0.11 * F, B + 1.0 - 0.11, -0.11]),
];

#[test]
fn raw_file_scores_at_fixed_thresholds() {
    let files = handmade_files(detector);
    let windows = handmade_windows();
    let standard = &Profile::standard_set()[0];
    for &(threshold, want) in PER_FILE_CASES {
        for (file, want) in files.iter().zip(want) {
            let got = score_file_at_threshold(file, &windows, standard, threshold).unwrap();
            assert_close(
                got.raw_score,
                want,
                TOL,
                &format!("{} at T = {threshold}", file.path),
            );
        }
    }
}

#[test]
fn corpus_at_a_fixed_threshold() {
    let files = handmade_files(detector);
    let results =
        score_corpus_at_threshold(&files, &handmade_windows(), &Profile::standard_set(), 0.75)
            .unwrap();
    // R(0.75) = a + b - A_FN - A_FP; null = -3 A_FN, perfect = 3.
    let raw = |fp: f64, fn_: f64| A + B - fn_ - fp;
    let want = [
        (raw(0.11, 1.0), 100.0 * (raw(0.11, 1.0) + 3.0) / 6.0),
        (raw(0.22, 1.0), 100.0 * (raw(0.22, 1.0) + 3.0) / 6.0),
        (raw(0.11, 2.0), 100.0 * (raw(0.11, 2.0) + 6.0) / 9.0),
    ];
    for (result, (raw, normalised)) in results.iter().zip(want) {
        assert_eq!(result.threshold, 0.75);
        assert_close(result.raw_score, raw, TOL, &result.profile);
        assert_close(result.normalised_score, normalised, 1e-4, &result.profile);
        let tally = Tally {
            detected_windows: 2,
            missed_windows: 1,
            false_positives: 1,
        };
        assert_eq!(result.tally, tally, "{}", result.profile);
    }
}

#[test]
fn sweep_finds_the_hand_computed_optimum() {
    let files = handmade_files(detector);
    let results = score_corpus(&files, &handmade_windows(), &Profile::standard_set()).unwrap();
    // (profile, R*, null, normalised) with R* = A_TP(a + b + 1) + A_FP(f - 2).
    let want = [
        ("standard", 2.078386, -3.0, 84.63977),
        ("reward_low_FP_rate", 1.828593, -3.0, 80.47655),
        ("reward_low_FN_rate", 2.078386, -6.0, 89.75985),
    ];
    assert_eq!(results.len(), 3);
    for (result, (profile, raw, null, normalised)) in results.iter().zip(want) {
        assert_eq!(result.profile, profile);
        assert_eq!(result.threshold, 0.6, "{profile}");
        assert_close(result.raw_score, raw, TOL, profile);
        assert_close(result.null_raw_score, null, 0.0, profile);
        assert_close(result.perfect_raw_score, 3.0, 0.0, profile);
        assert_close(result.normalised_score, normalised, 1e-4, profile);
        let tally = Tally {
            detected_windows: 3,
            missed_windows: 0,
            false_positives: 3,
        };
        assert_eq!(result.tally, tally, "{profile}");
    }
}

#[test]
fn null_detector_scores_0_and_perfect_detector_100() {
    let windows = handmade_windows();
    let null = handmade_files(|_, _| 0.5);
    // First rows of the windows: a10, b5, b14.
    let perfect = handmade_files(|path, row| match (path, row) {
        ("syn/a.csv", 10) | ("syn/b.csv", 5 | 14) => 1.0,
        _ => 0.0,
    });
    let profiles = Profile::standard_set();
    for result in score_corpus(&null, &windows, &profiles).unwrap() {
        assert_eq!(result.threshold, 1.1, "{}", result.profile);
        assert_eq!(result.normalised_score, 0.0, "{}", result.profile);
        assert_eq!(result.tally.missed_windows, 3);
    }
    for result in score_corpus(&perfect, &windows, &profiles).unwrap() {
        assert_eq!(result.threshold, 1.0, "{}", result.profile);
        assert_close(result.raw_score, 3.0, 1e-12, &result.profile);
        assert_close(result.normalised_score, 100.0, 1e-9, &result.profile);
        assert_eq!(
            result.tally,
            Tally {
                detected_windows: 3,
                missed_windows: 0,
                false_positives: 0
            }
        );
    }
}

#[test]
fn null_score_is_the_null_detectors_best_not_assumed() {
    // One file, n = 20, P = 3, a window over rows 4..=19: row 3 is the only scorable row outside
    // it. The null detector does best flagging everything: A_TP - A_FP = 0.89 > -A_FN = -1
    // under `standard`. So null = 0.89, perfect = 1, and a detector hitting row 4 scores 100.
    let windows: Windows = [("e/x.csv".to_owned(), vec![window(4, 19)])]
        .into_iter()
        .collect();
    let standard = &Profile::standard_set()[..1];
    let null = [file(
        "e/x.csv",
        20,
        &(0..20).map(|row| (row, 0.5)).collect::<Vec<_>>(),
    )];
    let hit = [file("e/x.csv", 20, &[(4, 1.0)])];

    let null = &score_corpus(&null, &windows, standard).unwrap()[0];
    assert_eq!(null.threshold, 0.5);
    assert_close(null.raw_score, 0.89, 1e-12, "null raw");
    assert_close(null.null_raw_score, 0.89, 1e-12, "null of scale");
    assert_eq!(null.normalised_score, 0.0);

    let hit = &score_corpus(&hit, &windows, standard).unwrap()[0];
    assert_close(hit.raw_score, 1.0, 1e-12, "hit raw");
    assert_close(hit.normalised_score, 100.0, 1e-9, "hit normalised");
}
