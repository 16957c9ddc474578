#![doc = include_str!("../README.md")]
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
//! [server]          # omen serve: ServerConfig
//! listen = "127.0.0.1:9310"
//! data_dir = "omen-data"
//!
//! [live]            # omen serve's engine: omen_engine::live::LiveConfig
//! series_ttl = "15m"
//! snapshot_interval = "5m"
//! matchers = ['{job="node"}']
//! ```

mod error;
mod locate;
mod server;

use std::path::Path;

use omen_alert::AlertConfig;
use omen_detect::EnsembleConfig;
use omen_engine::VerdictConfig;
use omen_engine::live::LiveConfig;
use omen_notify::{ChannelKind, NotifyConfig};
use serde::Deserialize;

pub use error::{Error, Result};
pub use server::{
    AuthConfig, ServerConfig, default_alert_resend_interval, default_data_dir, default_listen,
    default_max_body_bytes, default_max_decoded_bytes,
};

/// Everything a configuration file may set.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The detector's settings, for every series.
    pub detector: EnsembleConfig,
    /// How scores become verdicts and intervals.
    pub verdict: VerdictConfig,
    /// Where and how `omen serve` serves.
    pub server: ServerConfig,
    /// `omen serve`'s engine: shards, queues, limits, expiry, snapshots, selectors.
    pub live: LiveConfig,
    /// Alert rules, maintenance windows, webhook grouping and remediation actions.
    pub alert: AlertConfig,
    /// Where notifications go (Alertmanager, webhooks, actions), and their safety rails.
    pub notify: NotifyConfig,
}

impl Config {
    /// Read and validate `path`, or the defaults when there is none.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path).map_err(|cause| Error::Read {
            path: path.to_path_buf(),
            cause,
        })?;
        Self::parse(&text).map_err(|cause| Error::Invalid {
            path: path.to_path_buf(),
            cause: Box::new(cause),
        })
    }

    /// Parse and validate `text`. A setting that parses but is out of range is reported with
    /// the line it is written on (syntax and type errors from `toml` carry theirs already).
    pub fn parse(text: &str) -> Result<Self> {
        let config: Self = toml::from_str(text)?;
        config
            .validate()
            .map_err(|err| match locate::line_named_in(text, &err.to_string()) {
                Some((key, line)) => Error::AtLine {
                    line,
                    key,
                    cause: Box::new(err),
                },
                None => err,
            })?;
        Ok(config)
    }

    fn validate(&self) -> Result<()> {
        let setting = |err: &dyn std::fmt::Display| Error::Setting(err.to_string());
        self.detector.validate().map_err(|err| match err {
            // The detector names its settings without the table they are in.
            omen_core::Error::InvalidSetting { name, reason } => {
                Error::Setting(format!("invalid setting `detector.{name}`: {reason}"))
            }
            other => setting(&other),
        })?;
        self.verdict.validate().map_err(|e| setting(&e))?;
        self.server.validate()?;
        self.live.validate().map_err(|e| setting(&e))?;
        let alerts = self
            .alert
            .validate()
            .map_err(|err| Error::Setting(format!("invalid setting {err}")))?;
        self.notify
            .validate()
            .map_err(|err| Error::Setting(format!("invalid setting {err}")))?;
        for (channel, actions) in alerts.channels() {
            match self.notify.channel(channel) {
                Some(c) if c.kind == ChannelKind::Action => {}
                Some(c) => {
                    return Err(Error::Setting(format!(
                        "invalid setting `alert.actions`: action `{}` sends to channel `{channel}`, \
                     which is of kind `{}`, not `action`",
                        actions.join("`, `"),
                        c.kind.as_str()
                    )));
                }
                None => {
                    return Err(Error::Setting(format!(
                        "invalid setting `alert.actions`: action `{}` sends to channel \
                         `{channel}`, which [[notify.channels]] does not define",
                        actions.join("`, `")
                    )));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses() {
        let doc = include_str!("lib.rs");
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
        let readme = include_str!("../../../README.md");
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
    fn the_readme_alert_example_parses() {
        let readme = include_str!("../../../README.md");
        let example = readme
            .split("```toml\n")
            .skip(1)
            .filter_map(|block| block.split("```").next())
            .find(|block| block.contains("[[alert.rules]]"))
            .expect("the README has a TOML example with [[alert.rules]]");
        // The example reads its secret from a file; give it one.
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("remediate.key");
        std::fs::write(&key, "k").unwrap();
        let example = example.replace("/etc/omen/remediate.key", key.to_str().unwrap());
        let config = Config::parse(&example).unwrap();
        assert_eq!(config.alert.rules[0].name, "CheckoutLatency");
        assert_eq!(config.notify.channels.len(), 3);
    }

    #[test]
    fn the_alert_latency_bench_config_parses() {
        let config =
            Config::parse(include_str!("../../../benches/config/alert-latency.toml")).unwrap();
        assert_eq!(config.alert.grouping.group_wait, std::time::Duration::ZERO);
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
            // The alert stage: unknown key, negative duration, bad matcher, bad template.
            (
                "[[alert.rules]]\nname = \"a\"\nsensitivty = 0.3\n",
                "sensitivty",
            ),
            ("[[alert.rules]]\nname = \"a\"\nfor = \"-5m\"\n", "for"),
            (
                "[[alert.rules]]\nname = \"a\"\n\n[[alert.rules]]\nname = \"b\"\nmatch = ['up{job=']\n",
                "line 6, `alert.rules[1].match[0]`",
            ),
            (
                "[[alert.rules]]\nname = \"a\"\nannotations = { summary = \"{{ labels.x \" }\n",
                "line 3, `alert.rules[0].annotations.summary`",
            ),
            (
                "[[alert.actions]]\nname = \"r\"\nchannel = \"nowhere\"\n",
                "does not define",
            ),
            (
                "[[notify.channels]]\nname = \"n\"\nurl = \"ftp://x\"\n",
                "line 3, `notify.channels[0].url`",
            ),
        ] {
            let err = format!("{:#}", Config::parse(text).unwrap_err());
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }
}
