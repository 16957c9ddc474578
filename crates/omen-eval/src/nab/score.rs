//! Corpus scoring entry points: check the file set, pool the rows, sweep or fix the threshold,
//! normalise to NAB's 0–100 scale (spec §6–§7).
//!
//! Normalisation: perfect = A_TP × (windows in the windows file) and null = the raw score of the
//! null detector (a constant 0.5 everywhere) at its own best threshold. On NAB's corpus flagging
//! nothing is that detector's best, so null = −A_FN × 116; the general definition is kept so
//! that the null detector scores exactly 0 on any corpus.

use std::collections::BTreeSet;

use super::profile::Profile;
use super::rows::{FileScores, Pool};
use super::sweep::{self, Tally};
use super::windows::Windows;
use crate::error::{Error, Result};

/// The null detector's constant score.
const NULL_SCORE: f64 = 0.5;

/// A detector's NAB result under one profile.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileResult {
    /// Profile name, e.g. `standard`.
    pub profile: String,
    /// The threshold T scored at: rows with score ≥ T are detections. 1.1 means none.
    pub threshold: f64,
    /// Raw score R(T), the sum over files of §5.
    pub raw_score: f64,
    /// NAB score: 100 · (R − null) / (perfect − null). 0 = null detector, 100 = perfect.
    pub normalised_score: f64,
    /// Raw score of the null detector, the 0 of the scale.
    pub null_raw_score: f64,
    /// Raw score of the perfect detector, the 100 of the scale.
    pub perfect_raw_score: f64,
    /// Detected and missed windows and false positives at `threshold`.
    pub tally: Tally,
}

/// Raw score of one file at a fixed threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FileResult {
    /// The file's raw score (§5).
    pub raw_score: f64,
    /// Detected and missed windows and false positives in the file.
    pub tally: Tally,
}

/// Scores a detector on a whole corpus as NAB's scoreboard does: for each profile, the
/// threshold is tuned on the corpus itself (§6), and the raw score at that threshold is
/// normalised (§7).
///
/// `files` must hold exactly the files listed in `windows`, each once. Results come back in the
/// order of `profiles`.
pub fn score_corpus(
    files: &[FileScores],
    windows: &Windows,
    profiles: &[Profile],
) -> Result<Vec<ProfileResult>> {
    let mut pool = build_pool(files, windows, profiles)?;
    pool.sort_by_score_descending();
    profiles
        .iter()
        .map(|profile| {
            let best = sweep::sweep(&pool, profile, |row| row.score);
            normalise(
                &pool,
                windows,
                profile,
                best.threshold,
                best.raw_score,
                best.tally,
            )
        })
        .collect()
}

/// Scores a detector on a whole corpus at a threshold fixed in advance (spec §12), normalised
/// like [`score_corpus`]. Useful for binary 0/1 output, where the sweep has nothing to tune.
pub fn score_corpus_at_threshold(
    files: &[FileScores],
    windows: &Windows,
    profiles: &[Profile],
    threshold: f64,
) -> Result<Vec<ProfileResult>> {
    let pool = build_pool(files, windows, profiles)?;
    profiles
        .iter()
        .map(|profile| {
            let (raw_score, tally) = sweep::at_threshold(&pool, profile, threshold);
            normalise(&pool, windows, profile, threshold, raw_score, tally)
        })
        .collect()
}

/// Raw score of one file at threshold T (§5): rows with score ≥ T are detections.
///
/// The file must be listed in `windows`.
pub fn score_file_at_threshold(
    file: &FileScores,
    windows: &Windows,
    profile: &Profile,
    threshold: f64,
) -> Result<FileResult> {
    profile.validate()?;
    let bounds = windows
        .get(&file.path)
        .ok_or_else(|| Error::UnlabelledFiles {
            files: vec![file.path.clone()],
        })?;
    let mut pool = Pool::with_capacity(file.scores.len());
    pool.add_file(file, bounds)?;
    let (raw_score, tally) = sweep::at_threshold(&pool, profile, threshold);
    Ok(FileResult { raw_score, tally })
}

/// Validates profiles and the file set, then pools every file's scorable rows.
fn build_pool(files: &[FileScores], windows: &Windows, profiles: &[Profile]) -> Result<Pool> {
    for profile in profiles {
        profile.validate()?;
    }
    check_file_set(files, windows)?;
    let mut pool = Pool::with_capacity(files.iter().map(|f| f.scores.len()).sum());
    for file in files {
        // check_file_set guarantees the entry exists.
        pool.add_file(file, windows.get(&file.path).unwrap_or_default())?;
    }
    Ok(pool)
}

/// Requires each file once, every file labelled, and every labelled file present.
fn check_file_set(files: &[FileScores], windows: &Windows) -> Result<()> {
    let mut given = BTreeSet::new();
    for file in files {
        if !given.insert(file.path.as_str()) {
            return Err(Error::DuplicateFile {
                file: file.path.clone(),
            });
        }
    }
    let unlabelled: Vec<String> = given
        .iter()
        .filter(|f| windows.get(f).is_none())
        .map(|f| f.to_string())
        .collect();
    if !unlabelled.is_empty() {
        return Err(Error::UnlabelledFiles { files: unlabelled });
    }
    let missing: Vec<String> = windows
        .files()
        .filter(|f| !given.contains(f))
        .map(str::to_owned)
        .collect();
    if !missing.is_empty() {
        return Err(Error::MissingFiles { files: missing });
    }
    Ok(())
}

/// Places a raw score on the 0–100 scale between the null and perfect detectors.
fn normalise(
    pool: &Pool,
    windows: &Windows,
    profile: &Profile,
    threshold: f64,
    raw_score: f64,
    tally: Tally,
) -> Result<ProfileResult> {
    let perfect = profile.tp_weight * windows.window_count() as f64;
    let null = sweep::sweep(pool, profile, |_| NULL_SCORE).raw_score;
    if perfect <= null {
        return Err(Error::Unnormalisable {
            profile: profile.name.clone(),
            perfect,
            null,
        });
    }
    Ok(ProfileResult {
        profile: profile.name.clone(),
        threshold,
        raw_score,
        normalised_score: 100.0 * (raw_score - null) / (perfect - null),
        null_raw_score: null,
        perfect_raw_score: perfect,
        tally,
    })
}
