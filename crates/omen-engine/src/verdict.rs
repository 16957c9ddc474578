//! When a score is an anomaly, and how anomalous points group into intervals.
//!
//! The detectors' scores are calibrated (see `omen_detect::score_from_probability`): 0.5 means
//! "as rare as the target risk" on every series. So one threshold serves all series; what
//! adapts per series is the tail fit behind the score, not the threshold.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// How scores become verdicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerdictConfig {
    /// A ready sample whose score reaches this is anomalous.
    pub threshold: f64,
    /// An interval stays open through up to this many normal samples in a row, so that one
    /// incident whose score dips for a moment is one interval, not several.
    pub merge_gap: u32,
}

/// Default `threshold`: 0.5, a tail probability equal to the target risk.
pub fn default_threshold() -> f64 {
    0.5
}

/// Default `merge_gap`: 5 samples.
pub fn default_merge_gap() -> u32 {
    5
}

impl Default for VerdictConfig {
    fn default() -> Self {
        Self {
            threshold: default_threshold(),
            merge_gap: default_merge_gap(),
        }
    }
}

impl VerdictConfig {
    /// Check every field's range; the error names the field.
    pub fn validate(&self) -> Result<()> {
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return Err(Error::InvalidSetting(format!(
                "verdict.threshold must be in (0, 1], got {}",
                self.threshold
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_parse_from_an_empty_table() {
        let parsed: VerdictConfig = toml::from_str("").unwrap();
        assert_eq!(parsed, VerdictConfig::default());
        parsed.validate().unwrap();
    }

    #[test]
    fn out_of_range_threshold_is_named() {
        for bad in [0.0, -1.0, 1.5, f64::NAN] {
            let config = VerdictConfig {
                threshold: bad,
                ..VerdictConfig::default()
            };
            let err = config.validate().unwrap_err().to_string();
            assert!(err.contains("verdict.threshold"), "{err}");
        }
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = toml::from_str::<VerdictConfig>("treshold = 0.4").unwrap_err();
        assert!(err.to_string().contains("treshold"), "{err}");
    }
}
