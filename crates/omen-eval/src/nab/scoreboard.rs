//! NAB's published scoreboard, `results/final_results.json` (spec §10–§11).
//!
//! The file maps each detector to its normalised score under each of the three standard
//! profiles. Loading it lets reports put Omen's numbers next to the published ones.

use std::collections::BTreeMap;
use std::path::Path;

use super::profile::{REWARD_LOW_FN_RATE, REWARD_LOW_FP_RATE, STANDARD};
use crate::error::{self, Error, Result};

/// One detector's published NAB scores (0 = null detector, 100 = perfect).
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreboardEntry {
    /// Detector name as NAB spells it, e.g. `ARTime`.
    pub detector: String,
    /// Score under the `standard` profile.
    pub standard: f64,
    /// Score under `reward_low_FP_rate`.
    pub reward_low_fp: f64,
    /// Score under `reward_low_FN_rate`.
    pub reward_low_fn: f64,
}

/// Loads `final_results.json`, best standard score first (ties by detector name).
///
/// Every detector must have all three standard profiles; other profiles are ignored.
pub fn load_scoreboard(path: &Path) -> Result<Vec<ScoreboardEntry>> {
    let text = error::read_to_string(path)?;
    let raw: BTreeMap<String, BTreeMap<String, f64>> = error::parse_json(path, &text)?;
    let mut entries = raw
        .into_iter()
        .map(|(detector, scores)| {
            let score = |profile: &str| {
                scores.get(profile).copied().ok_or_else(|| Error::Content {
                    path: path.to_owned(),
                    reason: format!("detector `{detector}` has no `{profile}` score"),
                })
            };
            Ok(ScoreboardEntry {
                standard: score(STANDARD)?,
                reward_low_fp: score(REWARD_LOW_FP_RATE)?,
                reward_low_fn: score(REWARD_LOW_FN_RATE)?,
                detector,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    entries.sort_by(|a, b| {
        b.standard
            .total_cmp(&a.standard)
            .then_with(|| a.detector.cmp(&b.detector))
    });
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn load(text: &str) -> Result<Vec<ScoreboardEntry>> {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        load_scoreboard(file.path())
    }

    #[test]
    fn sorts_by_standard_score_descending() {
        let got = load(
            r#"{"low": {"standard": 1.5, "reward_low_FP_rate": 2, "reward_low_FN_rate": 3},
                "high": {"standard": 9, "reward_low_FP_rate": 8, "reward_low_FN_rate": 7,
                         "custom": 1}}"#,
        )
        .unwrap();
        let got: Vec<_> = got
            .iter()
            .map(|e| {
                (
                    e.detector.as_str(),
                    e.standard,
                    e.reward_low_fp,
                    e.reward_low_fn,
                )
            })
            .collect();
        assert_eq!(got, [("high", 9.0, 8.0, 7.0), ("low", 1.5, 2.0, 3.0)]);
    }

    #[test]
    fn missing_profile_is_an_error_naming_detector_and_profile() {
        let err = load(r#"{"d": {"standard": 1, "reward_low_FP_rate": 2}}"#).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("`d`") && text.contains("reward_low_FN_rate"),
            "{text}"
        );
    }

    #[test]
    fn nab_scoreboard_has_artime_on_top_at_74_85() {
        let Some(nab) = crate::nab::tests_support::corpus_dir() else {
            return;
        };
        let board = load_scoreboard(&nab.join("results/final_results.json")).unwrap();
        let top = &board[0];
        assert_eq!(top.detector, "ARTime");
        assert_eq!((top.standard * 100.0).round() / 100.0, 74.85);
        assert_eq!((top.reward_low_fp * 100.0).round() / 100.0, 65.15);
        assert_eq!((top.reward_low_fn * 100.0).round() / 100.0, 80.36);
        let null = board.iter().find(|e| e.detector == "null").unwrap();
        assert_eq!(
            (null.standard, null.reward_low_fp, null.reward_low_fn),
            (0.0, 0.0, 0.0)
        );
    }
}
