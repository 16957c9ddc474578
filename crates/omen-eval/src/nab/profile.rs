//! NAB scoring profiles: the cost weights that turn detections into a score (spec §1.4).
//!
//! A profile weights a true positive (`tp`), a false positive (`fp`) and a missed window (`fn`).
//! NAB's `config/profiles.json` also carries a `tnWeight`, which the scorer never reads; it is
//! accepted and ignored here.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::{self, Error, Result};

/// Name of NAB's standard profile.
pub const STANDARD: &str = "standard";
/// Name of NAB's profile that penalises false positives twice as hard.
pub const REWARD_LOW_FP_RATE: &str = "reward_low_FP_rate";
/// Name of NAB's profile that penalises missed windows twice as hard.
pub const REWARD_LOW_FN_RATE: &str = "reward_low_FN_rate";

/// One NAB application profile (cost matrix).
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// Profile name as in `profiles.json`, e.g. `standard`.
    pub name: String,
    /// A_TP: reward for the earliest possible detection in a window.
    pub tp_weight: f64,
    /// A_FP: penalty for a false positive far from any window.
    pub fp_weight: f64,
    /// A_FN: penalty for a window with no detection.
    pub fn_weight: f64,
}

impl Profile {
    /// Builds a profile from its name and weights (A_TP, A_FP, A_FN).
    ///
    /// ```
    /// use omen_eval::nab::Profile;
    /// let p = Profile::new("standard", 1.0, 0.11, 1.0);
    /// assert_eq!(p, Profile::standard_set()[0]);
    /// ```
    pub fn new(name: impl Into<String>, tp_weight: f64, fp_weight: f64, fn_weight: f64) -> Self {
        Self {
            name: name.into(),
            tp_weight,
            fp_weight,
            fn_weight,
        }
    }

    /// NAB's three profiles in scoreboard order: `standard`, `reward_low_FP_rate`,
    /// `reward_low_FN_rate`, with the weights of NAB v1.1.
    pub fn standard_set() -> Vec<Self> {
        vec![
            Self::new(STANDARD, 1.0, 0.11, 1.0),
            Self::new(REWARD_LOW_FP_RATE, 1.0, 0.22, 1.0),
            Self::new(REWARD_LOW_FN_RATE, 1.0, 0.11, 2.0),
        ]
    }

    /// Loads every profile of a NAB `config/profiles.json`, sorted by name.
    pub fn load_all(path: &Path) -> Result<Vec<Self>> {
        let text = error::read_to_string(path)?;
        let raw: BTreeMap<String, RawProfile> = error::parse_json(path, &text)?;
        let profiles: Vec<Self> = raw
            .into_iter()
            .map(|(name, p)| {
                let m = p.cost_matrix;
                Self::new(name, m.tp_weight, m.fp_weight, m.fn_weight)
            })
            .collect();
        for profile in &profiles {
            profile.validate()?;
        }
        Ok(profiles)
    }

    /// Checks that every weight is finite and not negative.
    pub fn validate(&self) -> Result<()> {
        let weights = [
            ("tp", self.tp_weight),
            ("fp", self.fp_weight),
            ("fn", self.fn_weight),
        ];
        for (which, weight) in weights {
            if !weight.is_finite() || weight < 0.0 {
                return Err(Error::InvalidProfile {
                    name: self.name.clone(),
                    reason: format!("{which} weight {weight} must be finite and >= 0"),
                });
            }
        }
        Ok(())
    }
}

/// One entry of `profiles.json` as written on disk.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    #[serde(rename = "CostMatrix")]
    cost_matrix: RawCostMatrix,
}

/// NAB's cost matrix; `tnWeight` is read and ignored, as NAB's scorer ignores it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawCostMatrix {
    tp_weight: f64,
    fp_weight: f64,
    fn_weight: f64,
    #[serde(rename = "tnWeight")]
    _tn_weight: Option<f64>,
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn write_temp(text: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        file
    }

    #[test]
    fn standard_set_has_the_weights_of_the_spec() {
        let set = Profile::standard_set();
        let got: Vec<_> = set
            .iter()
            .map(|p| (p.name.as_str(), p.tp_weight, p.fp_weight, p.fn_weight))
            .collect();
        assert_eq!(
            got,
            [
                ("standard", 1.0, 0.11, 1.0),
                ("reward_low_FP_rate", 1.0, 0.22, 1.0),
                ("reward_low_FN_rate", 1.0, 0.11, 2.0),
            ]
        );
    }

    #[test]
    fn loads_profiles_json_sorted_by_name() {
        let file = write_temp(
            r#"{"b": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 2.0, "fpWeight": 0.5,
                                      "tnWeight": 1.0}},
                "a": {"CostMatrix": {"tpWeight": 3.0, "fnWeight": 0.0, "fpWeight": 0.25}}}"#,
        );
        let got = Profile::load_all(file.path()).unwrap();
        assert_eq!(
            got,
            [
                Profile::new("a", 3.0, 0.25, 0.0),
                Profile::new("b", 1.0, 0.5, 2.0)
            ]
        );
    }

    /// Named cases of `profiles.json` contents that must be rejected.
    const BAD_PROFILE_FILES: &[(&str, &str)] = &[
        ("not json", "{"),
        (
            "missing weight",
            r#"{"p": {"CostMatrix": {"tpWeight": 1.0, "fpWeight": 0.1}}}"#,
        ),
        (
            "unknown weight",
            r#"{"p": {"CostMatrix": {"tpWeight": 1, "fpWeight": 1, "fnWeight": 1, "x": 1}}}"#,
        ),
        (
            "negative weight",
            r#"{"p": {"CostMatrix": {"tpWeight": 1, "fpWeight": -1, "fnWeight": 1}}}"#,
        ),
    ];

    #[test]
    fn rejects_bad_profile_files() {
        for (name, text) in BAD_PROFILE_FILES {
            let file = write_temp(text);
            let err = Profile::load_all(file.path()).expect_err(name);
            assert!(
                matches!(err, Error::Json { .. } | Error::InvalidProfile { .. }),
                "{name}: {err}"
            );
        }
    }

    #[test]
    fn missing_file_error_names_the_path() {
        let err = Profile::load_all(Path::new("/nonexistent/profiles.json")).unwrap_err();
        assert!(matches!(err, Error::Io { .. }));
        assert!(
            err.to_string().contains("/nonexistent/profiles.json"),
            "{err}"
        );
    }

    #[test]
    fn rejects_non_finite_weights() {
        for weight in [f64::NAN, f64::INFINITY, -0.5] {
            let err = Profile::new("p", 1.0, 1.0, weight).validate().unwrap_err();
            assert!(err.to_string().contains("fn weight"), "{err}");
        }
    }

    #[test]
    fn nab_profiles_json_equals_the_standard_set() {
        let Some(nab) = crate::nab::tests_support::corpus_dir() else {
            return;
        };
        let mut loaded = Profile::load_all(&nab.join("config/profiles.json")).unwrap();
        let mut expected = Profile::standard_set();
        loaded.sort_by(|a, b| a.name.cmp(&b.name));
        expected.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(loaded, expected);
    }
}
