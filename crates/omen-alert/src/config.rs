//! The `[alert]` section of `omen.toml`, as written: rules, maintenance windows, grouping of the
//! direct webhook, and actions. [`AlertConfig::validate`] (in `compile.rs`) turns it into the
//! runtime [`CompiledAlerts`](crate::CompiledAlerts).
//!
//! ```toml
//! [[rules]]
//! name = "LatencyAnomaly"
//! match = ['http_request_duration_seconds{job="api"}']
//! sensitivity = 0.6
//! direction = "up"
//! min_relative_deviation = 0.2
//! for = "2m"
//! keep_firing_for = "10m"
//! labels = { team = "payments", severity = "warning" }
//! annotations = { summary = "{{ labels.metric }} on {{ labels.instance }} is {{ value | round(3) }}" }
//! flapping = { window = "1h", max_flips = 4 }
//!
//! [[rules.severity]]
//! min_score = 0.9
//! level = "critical"
//!
//! [[maintenance]]
//! match = ['{env="staging"}']
//! days = ["sun"]
//! from = "02:00"
//! to = "04:00"
//!
//! [[maintenance]]
//! start = "2026-12-24T18:00:00Z"
//! end = "2026-12-27T08:00:00Z"
//!
//! [grouping]
//! group_by = ["alertname", "team"]
//! group_wait = "10s"
//!
//! [[actions]]
//! name = "page-payments"
//! match = ['{team="payments", severity="critical"}']
//! channel = "pagerduty"
//! on = "both"
//! ```

mod duration;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The whole `[alert]` section. Every part may be left out.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertConfig {
    /// `[[alert.rules]]`: which series alert, and how.
    pub rules: Vec<RuleConfig>,
    /// `[[alert.maintenance]]`: windows during which nothing fires.
    pub maintenance: Vec<MaintenanceConfig>,
    /// `[alert.grouping]`: how the direct webhook batches alerts (Alertmanager's route timers).
    pub grouping: GroupingConfig,
    /// `[[alert.actions]]`: which alerts go to which notify channel, with which body.
    pub actions: Vec<ActionConfig>,
}

/// One alert rule: `name` is required, everything else has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Unique; becomes the `alertname` label.
    pub name: String,
    /// Prometheus selectors; a series is covered when it matches any. Empty: every series.
    #[serde(default, rename = "match")]
    pub matchers: Vec<String>,
    /// In (0, 1): a sample breaches when its score is at least `1 − sensitivity`.
    #[serde(default = "default_sensitivity")]
    pub sensitivity: f64,
    /// Which side of the expected value may alert.
    #[serde(default)]
    pub direction: Direction,
    /// Smallest `|value − expected|` that may alert.
    #[serde(default)]
    pub min_deviation: f64,
    /// Smallest `|value − expected| / |expected|` that may alert.
    #[serde(default)]
    pub min_relative_deviation: f64,
    /// How long a breach must last (in sample time) before the alert fires.
    #[serde(
        default,
        rename = "for",
        serialize_with = "omen_core::human_duration::serialize",
        deserialize_with = "duration::de_for"
    )]
    pub for_duration: Duration,
    /// How long a firing alert stays firing after the last breaching sample.
    #[serde(
        default = "default_keep_firing_for",
        serialize_with = "omen_core::human_duration::serialize",
        deserialize_with = "duration::de_keep_firing_for"
    )]
    pub keep_firing_for: Duration,
    /// In [0, 1): while firing, a sample still breaches when its score is at least
    /// `1 − sensitivity − resolve_hysteresis` (but not below half of `1 − sensitivity`).
    #[serde(default = "default_resolve_hysteresis")]
    pub resolve_hysteresis: f64,
    /// Extra alert labels (templates). `severity` here is the default level and must be a
    /// plain string.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Alert annotations (templates), such as `summary`, `description`, `runbook_url`.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Severity levels by score; the highest reached during the episode wins.
    #[serde(default)]
    pub severity: Vec<SeverityLevelConfig>,
    /// When an alert that keeps firing and resolving is held firing instead.
    #[serde(default)]
    pub flapping: FlappingConfig,
}

/// Which side of the expected value a rule alerts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Only values above the expected value.
    Up,
    /// Only values below the expected value.
    Down,
    /// Either side (the default).
    #[default]
    Both,
}

impl Direction {
    /// The name used in the config and in explanations.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
            Direction::Both => "both",
        }
    }
}

/// `[[alert.rules.severity]]`: the level an alert has once its score reached `min_score`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityLevelConfig {
    /// Score in [0, 1] from which this level applies.
    pub min_score: f64,
    /// The `severity` label's value at this level.
    pub level: String,
}

/// `flapping = { window, max_flips }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlappingConfig {
    /// The window in which fire/resolve flips are counted; a flapping alert resolves after
    /// being calm for one whole window.
    #[serde(
        serialize_with = "omen_core::human_duration::serialize",
        deserialize_with = "duration::de_window"
    )]
    pub window: Duration,
    /// More flips than this within the window make the alert flapping.
    pub max_flips: u32,
}

impl Default for FlappingConfig {
    fn default() -> Self {
        Self {
            window: default_flapping_window(),
            max_flips: default_max_flips(),
        }
    }
}

/// `[[alert.maintenance]]`: either a fixed window (`start`, `end`, RFC 3339) or a weekly one
/// (`days`, `from`, `to`, UTC; `days` defaults to every day, and `to` before `from` crosses
/// midnight).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceConfig {
    /// Selectors on the series' labels and `alertname`; empty: every alert.
    #[serde(default, rename = "match")]
    pub matchers: Vec<String>,
    /// Start of a one-off window, RFC 3339 (`2026-12-24T18:00:00Z`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// End of a one-off window, RFC 3339, after `start`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Weekdays of a weekly window (`mon` … `sun`, or full names); empty: every day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days: Vec<String>,
    /// Start of a weekly window, `HH:MM` UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// End of a weekly window, `HH:MM` UTC (`24:00` allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Free text: why the window exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `[alert.grouping]`: Alertmanager's route timers, for the direct webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroupingConfig {
    /// Labels whose values make a group; `["..."]` groups by all labels.
    pub group_by: Vec<String>,
    /// How long a new group waits for more alerts before its first notification.
    #[serde(
        serialize_with = "omen_core::human_duration::serialize",
        deserialize_with = "duration::de_group_wait"
    )]
    pub group_wait: Duration,
    /// How often a group's changes are sent after its first notification.
    #[serde(
        serialize_with = "omen_core::human_duration::serialize",
        deserialize_with = "duration::de_group_interval"
    )]
    pub group_interval: Duration,
    /// After how long an unchanged firing group is sent again.
    #[serde(
        serialize_with = "omen_core::human_duration::serialize",
        deserialize_with = "duration::de_repeat_interval"
    )]
    pub repeat_interval: Duration,
}

impl Default for GroupingConfig {
    fn default() -> Self {
        Self {
            group_by: default_group_by(),
            group_wait: default_group_wait(),
            group_interval: default_group_interval(),
            repeat_interval: default_repeat_interval(),
        }
    }
}

/// `[[alert.actions]]`: send matching alerts to a notify channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionConfig {
    /// Unique name, part of the idempotency key.
    pub name: String,
    /// Selectors on the alert's labels; empty: every alert.
    #[serde(default, rename = "match")]
    pub matchers: Vec<String>,
    /// The notify channel's name.
    pub channel: String,
    /// The body, a template; default: the alert as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Which events: `firing` (also a severity rise), `resolved`, or `both`.
    #[serde(default)]
    pub on: ActionOn,
}

/// Which events an action takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionOn {
    /// `Firing` and `Updated` events (the default).
    #[default]
    Firing,
    /// `Resolved` events.
    Resolved,
    /// All events.
    Both,
}

/// Default `sensitivity`: 0.5, so a sample breaches at score 0.5, the engine's threshold.
pub fn default_sensitivity() -> f64 {
    0.5
}

/// Default `keep_firing_for`: 5 minutes.
pub fn default_keep_firing_for() -> Duration {
    Duration::from_secs(5 * 60)
}

/// Default `resolve_hysteresis`: 0.1 of score.
pub fn default_resolve_hysteresis() -> f64 {
    0.1
}

/// Default default severity level, when the rule has no `severity` label: `warning`.
pub fn default_severity_level() -> String {
    "warning".to_string()
}

/// Default `flapping.window`: 1 hour.
pub fn default_flapping_window() -> Duration {
    Duration::from_secs(60 * 60)
}

/// Default `flapping.max_flips`: 4.
pub fn default_max_flips() -> u32 {
    4
}

/// Default `group_by`: `["alertname"]`.
pub fn default_group_by() -> Vec<String> {
    vec!["alertname".to_string()]
}

/// Default `group_wait`: 5 seconds.
pub fn default_group_wait() -> Duration {
    Duration::from_secs(5)
}

/// Default `group_interval`: 1 minute.
pub fn default_group_interval() -> Duration {
    Duration::from_secs(60)
}

/// Default `repeat_interval`: 4 hours.
pub fn default_repeat_interval() -> Duration {
    Duration::from_secs(4 * 60 * 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_section_is_the_defaults() {
        let parsed: AlertConfig = toml::from_str("").unwrap();
        assert_eq!(parsed, AlertConfig::default());
        assert_eq!(parsed.grouping.group_by, ["alertname"]);
        parsed.validate().unwrap();
    }

    #[test]
    fn a_rule_with_only_a_name_has_the_documented_defaults() {
        let parsed: AlertConfig = toml::from_str("[[rules]]\nname = \"x\"").unwrap();
        let rule = &parsed.rules[0];
        assert_eq!(rule.sensitivity, 0.5);
        assert_eq!(rule.direction, Direction::Both);
        assert_eq!(rule.for_duration, Duration::ZERO);
        assert_eq!(rule.keep_firing_for, Duration::from_secs(300));
        assert_eq!(rule.resolve_hysteresis, 0.1);
        assert_eq!(rule.flapping, FlappingConfig::default());
        assert_eq!(rule.flapping.max_flips, 4);
    }

    #[test]
    fn the_documented_example_parses_and_round_trips() {
        let doc = include_str!("config.rs");
        let example: String = doc
            .lines()
            .skip_while(|l| !l.starts_with("//! ```toml"))
            .skip(1)
            .take_while(|l| !l.starts_with("//! ```"))
            .map(|l| format!("{}\n", l.trim_start_matches("//!").trim_start()))
            .collect();
        let config: AlertConfig = toml::from_str(&example).unwrap();
        config.validate().unwrap();
        assert_eq!(config.rules[0].for_duration, Duration::from_secs(120));
        assert_eq!(config.rules[0].severity[0].level, "critical");
        assert_eq!(config.maintenance.len(), 2);
        assert_eq!(config.actions[0].on, ActionOn::Both);
        let back = toml::to_string(&config).unwrap();
        let again: AlertConfig = toml::from_str(&back).unwrap();
        assert_eq!(again, config, "{back}");
    }

    #[test]
    fn the_readme_example_parses_and_validates() {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Root {
            alert: AlertConfig,
        }
        let readme = include_str!("../README.md");
        let example: String = readme
            .lines()
            .skip_while(|l| *l != "```toml")
            .skip(1)
            .take_while(|l| *l != "```")
            .map(|l| format!("{l}\n"))
            .collect();
        let root: Root = toml::from_str(&example).unwrap();
        let compiled = root.alert.validate().unwrap();
        assert_eq!(
            compiled.rule_names().collect::<Vec<_>>(),
            ["LatencyAnomaly"]
        );
        assert_eq!(root.alert.maintenance.len(), 2);
        assert_eq!(root.alert.actions[0].channel, "pagerduty");
    }
}
