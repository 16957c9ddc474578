//! The configuration file: TOML, one table per stage, every field optional.
//!
//! ```toml
//! [detector]        # omen_detect::EnsembleConfig
//! warm_up = 100
//! target_risk = 1e-4
//!
//! [verdict]         # omen_engine::VerdictConfig
//! threshold = 0.5
//! merge_gap = 5
//! ```

use std::path::Path;

use anyhow::{Context, Result};
use omen_detect::EnsembleConfig;
use omen_engine::VerdictConfig;
use serde::Deserialize;

/// Everything a configuration file may set.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct Config {
    /// The detector's settings, for every series.
    pub(crate) detector: EnsembleConfig,
    /// How scores become verdicts and intervals.
    pub(crate) verdict: VerdictConfig,
}

impl Config {
    /// Read and validate `path`, or the defaults when there is none.
    pub(crate) fn load(path: Option<&Path>) -> Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the configuration `{}`", path.display()))?;
        let config = Self::parse(&text)
            .with_context(|| format!("invalid configuration `{}`", path.display()))?;
        Ok(config)
    }

    fn parse(text: &str) -> Result<Self> {
        let config: Self = toml::from_str(text)?;
        config.detector.validate()?;
        config.verdict.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses() {
        let doc = include_str!("config.rs");
        let example: String = doc
            .lines()
            .skip_while(|l| !l.starts_with("//! ```toml"))
            .skip(1)
            .take_while(|l| !l.starts_with("//! ```"))
            .map(|l| l.trim_start_matches("//!").trim_start())
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(example.contains("[verdict]"), "{example}");
        let config = Config::parse(&example).unwrap();
        assert_eq!(config.detector.warm_up, 100);
        assert_eq!(config.verdict.merge_gap, 5);
    }

    #[test]
    fn an_empty_file_is_the_defaults() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
    }

    #[test]
    fn bad_files_are_explained() {
        for (text, want) in [
            ("[detectr]\nwarm_up = 3\n", "detectr"),
            ("[verdict]\nthreshold = 7.0\n", "verdict.threshold"),
            ("[detector]\nwarm_up = \"x\"\n", "warm_up"),
        ] {
            let err = format!("{:#}", Config::parse(text).unwrap_err());
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }
}
