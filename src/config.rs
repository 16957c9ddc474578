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
//!
//! [server]          # omen serve: crate::serve::config::ServerConfig
//! listen = "127.0.0.1:9310"
//! data_dir = "omen-data"
//!
//! [live]            # omen serve's engine: omen_engine::live::LiveConfig
//! series_ttl = "15m"
//! snapshot_interval = "5m"
//! matchers = ['{job="node"}']
//! ```

mod locate;

use std::path::Path;

use anyhow::{Context, Result};
use omen_detect::EnsembleConfig;
use omen_engine::VerdictConfig;
use omen_engine::live::LiveConfig;

use crate::serve::config::ServerConfig;
use serde::Deserialize;

/// Everything a configuration file may set.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct Config {
    /// The detector's settings, for every series.
    pub(crate) detector: EnsembleConfig,
    /// How scores become verdicts and intervals.
    pub(crate) verdict: VerdictConfig,
    /// Where and how `omen serve` serves.
    pub(crate) server: ServerConfig,
    /// `omen serve`'s engine: shards, queues, limits, expiry, snapshots, selectors.
    pub(crate) live: LiveConfig,
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

    /// Parse and validate `text`. A setting that parses but is out of range is reported with
    /// the line it is written on (syntax and type errors from `toml` carry theirs already).
    pub(crate) fn parse(text: &str) -> Result<Self> {
        let config: Self = toml::from_str(text)?;
        config
            .validate()
            .map_err(|err| match locate::line_named_in(text, &err.to_string()) {
                Some((key, line)) => err.context(format!("line {line}, `{key}`")),
                None => err,
            })?;
        Ok(config)
    }

    fn validate(&self) -> Result<()> {
        self.detector.validate().map_err(|err| match err {
            // The detector names its settings without the table they are in.
            omen_core::Error::InvalidSetting { name, reason } => {
                anyhow::anyhow!("invalid setting `detector.{name}`: {reason}")
            }
            other => other.into(),
        })?;
        self.verdict.validate()?;
        self.server.validate()?;
        self.live.validate()?;
        Ok(())
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
    fn the_readme_example_parses() {
        let readme = include_str!("../README.md");
        let example: String = readme
            .split("```toml\n")
            .skip(1)
            .filter_map(|block| block.split("```").next())
            .find(|block| block.contains("[server]"))
            .expect("the README has a TOML example with [server]")
            .to_string();
        let config = Config::parse(&example).unwrap();
        assert_eq!(
            config.live.series_ttl,
            std::time::Duration::from_secs(15 * 60)
        );
        assert_eq!(config.live.matchers.len(), 2);
        assert!(config.server.auth.bearer_token_file.is_some());
    }

    #[test]
    fn an_empty_file_is_the_defaults() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
    }

    #[test]
    fn bad_files_are_explained() {
        for (text, want) in [
            ("[detectr]\nwarm_up = 3\n", "detectr"),
            (
                "[verdict]\nthreshold = 7.0\n",
                "line 2, `verdict.threshold`",
            ),
            ("[detector]\nwarm_up = \"x\"\n", "warm_up"),
            (
                "\n[detector]\ntarget_risk = 0.7\n",
                "line 3, `detector.target_risk`",
            ),
        ] {
            let err = format!("{:#}", Config::parse(text).unwrap_err());
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }
}
