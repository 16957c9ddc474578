//! Inputs NAB would reject are errors that name the file (and row or timestamp) at fault.

use omen_eval::Error;
use omen_eval::nab::{FileScores, Profile, Windows, score_corpus, score_file_at_threshold};

use crate::support::{handmade_files, handmade_window_list, stamp};

type WindowList = Vec<(String, Vec<(String, String)>)>;

struct ErrorCase {
    name: &'static str,
    /// Spoils the hand-made corpus (null detector scores, hand-made windows).
    spoil: fn(&mut Vec<FileScores>, &mut WindowList),
    /// Whether the error has the expected variant.
    is_expected: fn(&Error) -> bool,
    /// Texts the error message must contain.
    needles: &'static [&'static str],
}

const ERROR_CASES: &[ErrorCase] = &[
    ErrorCase {
        name: "score above 1",
        spoil: |files, _| files[1].scores[7] = 1.5,
        is_expected: |e| matches!(e, Error::ScoreOutOfRange { row: 7, .. }),
        needles: &["syn/b.csv", "1.5", "row 7", "2020-01-01 00:07:00"],
    },
    ErrorCase {
        name: "negative score",
        spoil: |files, _| files[0].scores[20] = -0.25,
        is_expected: |e| matches!(e, Error::ScoreOutOfRange { row: 20, .. }),
        needles: &["syn/a.csv", "-0.25", "row 20"],
    },
    ErrorCase {
        // Probationary rows are not scored but must still be valid.
        name: "NaN score in probation",
        spoil: |files, _| files[2].scores[0] = f64::NAN,
        is_expected: |e| matches!(e, Error::ScoreOutOfRange { row: 0, .. }),
        needles: &["syn/c.csv", "NaN", "row 0"],
    },
    ErrorCase {
        name: "window timestamp not found",
        spoil: |_, windows| windows[0].1[0].1 = "2020-01-01 05:00:00.000000".to_owned(),
        is_expected: |e| matches!(e, Error::WindowNotFound { .. }),
        needles: &["syn/a.csv", "2020-01-01 05:00:00.000000"],
    },
    ErrorCase {
        name: "missing file",
        spoil: |files, _| {
            files.remove(2);
        },
        is_expected: |e| matches!(e, Error::MissingFiles { .. }),
        needles: &["syn/c.csv"],
    },
    ErrorCase {
        name: "file without windows entry",
        spoil: |files, windows| {
            windows.remove(1);
            files.push(FileScores {
                path: "syn/d.csv".into(),
                timestamps: vec![],
                scores: vec![],
            });
        },
        is_expected: |e| matches!(e, Error::UnlabelledFiles { .. }),
        needles: &["syn/b.csv", "syn/d.csv"],
    },
    ErrorCase {
        name: "duplicate file",
        spoil: |files, _| files.push(files[0].clone()),
        is_expected: |e| matches!(e, Error::DuplicateFile { .. }),
        needles: &["syn/a.csv"],
    },
    ErrorCase {
        name: "one score short",
        spoil: |files, _| {
            files[1].scores.pop();
        },
        is_expected: |e| {
            matches!(
                e,
                Error::LengthMismatch {
                    timestamps: 22,
                    scores: 21,
                    ..
                }
            )
        },
        needles: &["syn/b.csv", "22 timestamps", "21 scores"],
    },
];

#[test]
fn bad_inputs_are_errors_naming_what_is_wrong() {
    for case in ERROR_CASES {
        let mut files = handmade_files(|_, _| 0.5);
        let mut window_list = handmade_window_list();
        (case.spoil)(&mut files, &mut window_list);
        let windows: Windows = window_list.into_iter().collect();
        let err = score_corpus(&files, &windows, &Profile::standard_set()).expect_err(case.name);
        assert!(
            (case.is_expected)(&err),
            "{}: unexpected {err:?}",
            case.name
        );
        let text = err.to_string();
        for needle in case.needles {
            assert!(
                text.contains(needle),
                "{}: `{text}` lacks `{needle}`",
                case.name
            );
        }
    }
}

#[test]
fn the_untouched_corpus_is_accepted() {
    // Guards the table above: each case fails because of its spoiling, not on its own.
    let windows: Windows = handmade_window_list().into_iter().collect();
    score_corpus(
        &handmade_files(|_, _| 0.5),
        &windows,
        &Profile::standard_set(),
    )
    .unwrap();
}

#[test]
fn single_file_scoring_rejects_an_unlabelled_file() {
    let windows: Windows = handmade_window_list().into_iter().collect();
    let file = FileScores {
        path: "x/y.csv".into(),
        timestamps: vec![stamp(0)],
        scores: vec![0.0],
    };
    let err = score_file_at_threshold(&file, &windows, &Profile::standard_set()[0], 0.5)
        .expect_err("unlabelled");
    assert!(matches!(err, Error::UnlabelledFiles { .. }) && err.to_string().contains("x/y.csv"));
}

#[test]
fn invalid_profile_is_rejected() {
    let windows: Windows = handmade_window_list().into_iter().collect();
    let profile = Profile::new("broken", 1.0, f64::NAN, 1.0);
    let err = score_corpus(&handmade_files(|_, _| 0.5), &windows, &[profile]).unwrap_err();
    assert!(matches!(err, Error::InvalidProfile { .. }) && err.to_string().contains("broken"));
}
