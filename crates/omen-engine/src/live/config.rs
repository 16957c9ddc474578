//! The live engine's settings: shards, queues, limits, expiry, snapshots, and which series are
//! modelled.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};
use omen_core::Selector;

/// How `omen serve` runs its engine. Every field has a default (see each `default_*`); the
/// detector's and the verdict's settings are given beside it (`[detector]`, `[verdict]`), so
/// that live and batch read them from the same tables.
///
/// ```toml
/// shards = 4
/// queue_samples = 100000
/// max_active_series = 1000000
/// series_ttl = "15m"
/// snapshot_interval = "5m"
/// matchers = ['{job="node", mode!~"idle|iowait"}', 'http_requests_total']
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LiveConfig {
    /// Shard threads, each owning the state of the series routed to it.
    pub shards: usize,
    /// Samples that may wait in one shard's queue; past this the receiver answers 503.
    pub queue_samples: usize,
    /// Series modelled at once, over all shards; a new series past this is not modelled.
    pub max_active_series: usize,
    /// A series that received nothing for this long (wall clock) is dropped with its state.
    #[serde(with = "omen_core::human_duration")]
    pub series_ttl: Duration,
    /// How often the state is written to the data directory (it is also written at shutdown).
    #[serde(with = "omen_core::human_duration")]
    pub snapshot_interval: Duration,
    /// Prometheus selectors; a series is modelled when it matches any of them. Empty: all.
    pub matchers: Vec<String>,
}

/// Default `shards`: one per core.
pub fn default_shards() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Default `queue_samples`: 100,000 samples per shard (a fraction of a second of work).
pub fn default_queue_samples() -> usize {
    100_000
}

/// Default `max_active_series`: one million.
pub fn default_max_active_series() -> usize {
    1_000_000
}

/// Default `series_ttl`: 15 minutes.
pub fn default_series_ttl() -> Duration {
    Duration::from_secs(15 * 60)
}

/// Default `snapshot_interval`: 5 minutes.
pub fn default_snapshot_interval() -> Duration {
    Duration::from_secs(5 * 60)
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            shards: default_shards(),
            queue_samples: default_queue_samples(),
            max_active_series: default_max_active_series(),
            series_ttl: default_series_ttl(),
            snapshot_interval: default_snapshot_interval(),
            matchers: Vec::new(),
        }
    }
}

/// Most shards accepted; more threads than this only add overhead.
const MAX_SHARDS: usize = 1024;

impl LiveConfig {
    /// Check every field; the error names the first bad one (`live.<field>`).
    pub fn validate(&self) -> Result<()> {
        self.selectors().map(|_| ())
    }

    /// The parsed `matchers`, after checking every other field too.
    pub(crate) fn selectors(&self) -> Result<Vec<Selector>> {
        let bad = |message: String| Err(Error::InvalidSetting(message));
        if !(1..=MAX_SHARDS).contains(&self.shards) {
            return bad(format!(
                "live.shards must be in 1..={MAX_SHARDS}, got {}",
                self.shards
            ));
        }
        if self.queue_samples == 0 {
            return bad("live.queue_samples must be at least 1".into());
        }
        if self.max_active_series == 0 {
            return bad("live.max_active_series must be at least 1".into());
        }
        if self.series_ttl < Duration::from_secs(1) {
            return bad(format!(
                "live.series_ttl must be at least 1s, got {}",
                humantime::format_duration(self.series_ttl)
            ));
        }
        if self.snapshot_interval < Duration::from_secs(1) {
            return bad(format!(
                "live.snapshot_interval must be at least 1s, got {}",
                humantime::format_duration(self.snapshot_interval)
            ));
        }
        self.matchers
            .iter()
            .enumerate()
            .map(|(i, text)| {
                text.parse::<Selector>().map_err(|err| {
                    Error::InvalidSetting(format!("live.matchers[{i}] `{text}`: {err}"))
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_parse_from_an_empty_table() {
        let parsed: LiveConfig = toml::from_str("").unwrap();
        assert_eq!(parsed, LiveConfig::default());
        parsed.validate().unwrap();
        assert!(parsed.shards >= 1);
    }

    #[test]
    fn the_documented_example_parses() {
        let doc = include_str!("config.rs");
        let example: String = doc
            .lines()
            .skip_while(|l| !l.starts_with("/// ```toml"))
            .skip(1)
            .take_while(|l| !l.starts_with("/// ```"))
            .map(|l| format!("{}\n", l.trim_start_matches("///").trim_start()))
            .collect();
        let config: LiveConfig = toml::from_str(&example).unwrap();
        config.validate().unwrap();
        assert_eq!(config.shards, 4);
        assert_eq!(config.series_ttl, Duration::from_secs(900));
        assert_eq!(config.matchers.len(), 2);
    }

    #[test]
    fn durations_are_human_readable_both_ways() {
        for (text, want) in [
            ("15m", 900),
            ("1h 30m", 5400),
            ("90s", 90),
            ("2days", 172_800),
        ] {
            let config: LiveConfig = toml::from_str(&format!("series_ttl = \"{text}\"")).unwrap();
            assert_eq!(config.series_ttl, Duration::from_secs(want), "{text}");
            let back = toml::to_string(&config).unwrap();
            let again: LiveConfig = toml::from_str(&back).unwrap();
            assert_eq!(again, config, "{back}");
        }
    }

    #[test]
    fn bad_settings_are_named() {
        struct Case {
            name: &'static str,
            toml: &'static str,
            want: &'static str,
        }
        let cases = [
            Case {
                name: "unknown field",
                toml: "shard = 2",
                want: "shard",
            },
            Case {
                name: "duration without a unit",
                toml: "series_ttl = \"15\"",
                want: "not a duration",
            },
            Case {
                name: "duration as a number",
                toml: "snapshot_interval = 300",
                want: "snapshot_interval",
            },
            Case {
                name: "no shards",
                toml: "shards = 0",
                want: "live.shards",
            },
            Case {
                name: "empty queue",
                toml: "queue_samples = 0",
                want: "live.queue_samples",
            },
            Case {
                name: "no series",
                toml: "max_active_series = 0",
                want: "live.max_active_series",
            },
            Case {
                name: "ttl too short",
                toml: "series_ttl = \"10ms\"",
                want: "live.series_ttl",
            },
            Case {
                name: "snapshot interval too short",
                toml: "snapshot_interval = \"0s\"",
                want: "live.snapshot_interval",
            },
            Case {
                name: "bad matcher, with its index",
                toml: "matchers = ['up', '{job=\"node\"']",
                want: "live.matchers[1]",
            },
        ];
        for case in cases {
            let err = match toml::from_str::<LiveConfig>(case.toml) {
                Err(err) => err.to_string(),
                Ok(config) => config.validate().unwrap_err().to_string(),
            };
            assert!(err.contains(case.want), "{}: {err}", case.name);
        }
    }
}
