//! Shared helpers: synthetic timestamps and files, the hand-made corpus, the real corpus.

use std::path::{Path, PathBuf};

use omen_eval::nab::{FileScores, Windows};

/// Timestamp of row `i` in the synthetic files: one row per minute from 2020-01-01 00:00.
pub(crate) fn stamp(i: usize) -> String {
    format!("2020-01-01 {:02}:{:02}:00", i / 60, i % 60)
}

/// A window over rows `first..=last`, spelled as NAB's windows file does (`.000000` suffix).
pub(crate) fn window(first: usize, last: usize) -> (String, String) {
    (
        format!("{}.000000", stamp(first)),
        format!("{}.000000", stamp(last)),
    )
}

/// A synthetic file of `n` rows scoring 0 except at the given `(row, score)` hits.
pub(crate) fn file(path: &str, n: usize, hits: &[(usize, f64)]) -> FileScores {
    let mut scores = vec![0.0; n];
    for &(row, score) in hits {
        scores[row] = score;
    }
    FileScores {
        path: path.to_owned(),
        timestamps: (0..n).map(stamp).collect(),
        scores,
    }
}

/// The hand-made corpus's windows, as a list so tests can alter it before collecting.
///
/// | file | rows n | probation P | windows (rows, width) |
/// |---|---|---|---|
/// | `syn/a.csv` | 30 | floor(4.5) = 4 | 10..=19 (W = 10) |
/// | `syn/b.csv` | 22 | floor(3.3) = 3 | 5..=9 (W = 5), 14..=16 (W = 3) |
/// | `syn/c.csv` | 110 | floor(16.5) = 16 | none |
pub(crate) fn handmade_window_list() -> Vec<(String, Vec<(String, String)>)> {
    vec![
        ("syn/a.csv".to_owned(), vec![window(10, 19)]),
        ("syn/b.csv".to_owned(), vec![window(5, 9), window(14, 16)]),
        ("syn/c.csv".to_owned(), vec![]),
    ]
}

/// The hand-made corpus's windows.
pub(crate) fn handmade_windows() -> Windows {
    handmade_window_list().into_iter().collect()
}

/// The hand-made corpus with every row scored by `score(path, row)`.
pub(crate) fn handmade_files(score: impl Fn(&str, usize) -> f64) -> Vec<FileScores> {
    [("syn/a.csv", 30), ("syn/b.csv", 22), ("syn/c.csv", 110)]
        .into_iter()
        .map(|(path, n)| {
            let hits: Vec<_> = (0..n).map(|row| (row, score(path, row))).collect();
            file(path, n, &hits)
        })
        .collect()
}

/// Asserts `got` is within `tol` of `want`.
#[track_caller]
pub(crate) fn assert_close(got: f64, want: f64, tol: f64, what: &str) {
    assert!((got - want).abs() <= tol, "{what}: got {got}, want {want}");
}

/// The NAB corpus at `../../../shared/datasets/nab` from this crate, or `None` after printing
/// why the test is skipped.
pub(crate) fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets/nab");
    if dir.join("labels/combined_windows.json").is_file() {
        Some(dir)
    } else {
        eprintln!("skipping: NAB corpus not found at {}", dir.display());
        None
    }
}

/// The timestamp column of a NAB data file, read with plain std code.
pub(crate) fn read_timestamps(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("timestamp,value"), "{}", path.display());
    lines
        .map(|line| line.split(',').next().unwrap().to_owned())
        .collect()
}
