//! The real NAB corpus: the null detector scores 0 and the perfect detector 100 on every
//! profile (spec §7). Skipped, with a message, when the corpus is absent.

use std::path::Path;
use std::time::Instant;

use omen_eval::nab::{
    FileScores, Profile, Tally, Windows, score_corpus, score_corpus_at_threshold,
};

use crate::support::{assert_close, corpus_dir, read_timestamps};

const WINDOWS: usize = 116;

/// Every labelled file of the corpus, scored by `score(timestamps, window_starts)`.
fn score_files(
    nab: &Path,
    windows: &Windows,
    score: impl Fn(&[String], &[usize]) -> Vec<f64>,
) -> Vec<FileScores> {
    windows
        .files()
        .map(|path| {
            let timestamps = read_timestamps(&nab.join("data").join(path));
            // Window starts found with plain string matching, independent of the crate.
            let starts: Vec<usize> = windows
                .get(path)
                .unwrap()
                .iter()
                .map(|(start, _)| {
                    let start = start.trim_end_matches(".000000");
                    timestamps.iter().position(|t| t == start).expect(start)
                })
                .collect();
            let scores = score(&timestamps, &starts);
            FileScores {
                path: path.to_owned(),
                timestamps,
                scores,
            }
        })
        .collect()
}

#[test]
fn null_and_perfect_detectors_on_the_nab_corpus() {
    let Some(nab) = corpus_dir() else { return };
    let windows = Windows::load(&nab.join("labels/combined_windows.json")).unwrap();
    let profiles = Profile::standard_set();

    let null = score_files(&nab, &windows, |t, _| vec![0.5; t.len()]);
    let rows: usize = null.iter().map(|f| f.scores.len()).sum();
    assert_eq!(rows, 365_558);
    let started = Instant::now();
    let results = score_corpus(&null, &windows, &profiles).unwrap();
    eprintln!(
        "scored {rows} rows x {} profiles in {:?}",
        profiles.len(),
        started.elapsed()
    );
    for (result, profile) in results.iter().zip(&profiles) {
        let what = &result.profile;
        // Spec §7: null = -A_FN x 116, perfect = A_TP x 116.
        assert_eq!(
            result.null_raw_score,
            -profile.fn_weight * WINDOWS as f64,
            "{what}"
        );
        assert_eq!(
            result.perfect_raw_score,
            profile.tp_weight * WINDOWS as f64,
            "{what}"
        );
        assert_eq!(result.threshold, 1.1, "{what}");
        assert_eq!(result.raw_score, result.null_raw_score, "{what}");
        assert_eq!(result.normalised_score, 0.0, "{what}");
        assert_eq!(
            result.tally,
            Tally {
                missed_windows: WINDOWS,
                ..Tally::default()
            },
            "{what}"
        );
    }

    let perfect = score_files(&nab, &windows, |t, starts| {
        let mut scores = vec![0.0; t.len()];
        starts.iter().for_each(|&i| scores[i] = 1.0);
        scores
    });
    let fixed = score_corpus_at_threshold(&perfect, &windows, &profiles, 0.5).unwrap();
    let swept = score_corpus(&perfect, &windows, &profiles).unwrap();
    for result in fixed.iter().chain(&swept) {
        let what = &result.profile;
        assert_close(result.raw_score, result.perfect_raw_score, 1e-9, what);
        assert_close(result.normalised_score, 100.0, 1e-9, what);
        let all = Tally {
            detected_windows: WINDOWS,
            ..Tally::default()
        };
        assert_eq!(result.tally, all, "{what}");
    }
    assert!(swept.iter().all(|r| r.threshold == 1.0));
}
