//! The `[notify]` settings: channels (where and how to send), their retry schedule and safety
//! rails, and the global cap on actions. [`NotifyConfig::validate`] names the first bad key.

mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub(crate) use validate::resolve;

use crate::Result;

/// Every channel, and the rails that hold across channels. Every field has a default.
///
/// ```toml
/// max_actions_per_hour = 20
/// dry_run = false
/// concurrency = 8
/// retention = "7d"
/// synchronous = "full"
///
/// [[channels]]
/// name = "alertmanager"
/// kind = "alertmanager"
/// url = "http://127.0.0.1:9093/api/v2/alerts"
///
/// [[channels]]
/// name = "restart-pod"
/// kind = "action"
/// url = "https://runbooks.example.com/hooks/restart"
/// method = "PUT"
/// headers = { Authorization = "Bearer abc" }
/// timeout = "5s"
/// secret = "an HMAC key"
/// cooldown = "30m"
/// rate_limit = { max = 5, per = "1h" }
/// retry = { initial = "1s", max = "2m", give_up_after = "6h" }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifyConfig {
    /// Where notifications go; each [`Notification`](crate::Notification) names one.
    pub channels: Vec<ChannelConfig>,
    /// The circuit breaker against remediation storms: at most this many notifications to
    /// `kind = "action"` channels are accepted in any sliding hour, over all of them. None: no cap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_actions_per_hour: Option<u32>,
    /// Send nothing on any channel: log what would be sent and mark it done.
    pub dry_run: bool,
    /// Attempts in flight at once, over all channels (one per idempotency key).
    pub concurrency: usize,
    /// How long finished entries (delivered, dead-lettered, suppressed, coalesced) and audit
    /// rows are kept. A key is recognised as a duplicate for this long.
    #[serde(with = "omen_core::human_duration")]
    pub retention: Duration,
    /// SQLite's `synchronous` for the outbox: `full` syncs every commit to disk (an enqueue
    /// that returned survives a power loss; a few milliseconds per commit on a typical disk),
    /// `normal` only survives a crash of Omen, not of the machine (tens of microseconds).
    pub synchronous: Synchronous,
}

/// How hard the outbox pushes each commit to disk (SQLite's `PRAGMA synchronous`, WAL mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Synchronous {
    /// Sync the log at every commit.
    Full,
    /// Sync the log only at checkpoints: the last commits may be lost if the machine fails.
    Normal,
}

impl Synchronous {
    /// The pragma's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        }
    }
}

/// Default `synchronous`: `full`.
pub fn default_synchronous() -> Synchronous {
    Synchronous::Full
}

/// Default `concurrency`: 8 attempts in flight.
pub fn default_concurrency() -> usize {
    8
}

/// Default `retention`: 7 days.
pub fn default_retention() -> Duration {
    Duration::from_secs(7 * 24 * 3600)
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            channels: Vec::new(),
            max_actions_per_hour: None,
            dry_run: false,
            concurrency: default_concurrency(),
            retention: default_retention(),
            synchronous: default_synchronous(),
        }
    }
}

impl NotifyConfig {
    /// Check every setting, and read every `secret_file`. The error names the first bad key,
    /// such as `notify.channels[0].url` or `notify.channels[2].retry.initial`.
    ///
    /// ```
    /// use omen_notify::{ChannelConfig, NotifyConfig};
    ///
    /// let mut config = NotifyConfig::default();
    /// config.channels.push(ChannelConfig::new("hook", "ftp://example.com/"));
    /// let error = config.validate().unwrap_err();
    /// assert_eq!(error.key(), Some("notify.channels[0].url"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        resolve(self).map(|_| ())
    }

    /// The channel called `name`.
    pub fn channel(&self, name: &str) -> Option<&ChannelConfig> {
        self.channels.iter().find(|c| c.name == name)
    }
}

/// One place notifications are sent to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    /// The channel's name, unique; notifications name it.
    pub name: String,
    /// What the channel is; only `action` channels count against `max_actions_per_hour`.
    #[serde(default = "default_kind")]
    pub kind: ChannelKind,
    /// An `http://` or `https://` URL.
    pub url: String,
    /// `POST`, `PUT` or `PATCH`.
    #[serde(default = "default_method")]
    pub method: String,
    /// Headers sent with every delivery (before the notification's own).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// How long one attempt may take, from connecting to the end of the answer's headers.
    #[serde(default = "default_timeout", with = "omen_core::human_duration")]
    pub timeout: Duration,
    /// The HMAC-SHA256 key; when set (here or in `secret_file`), deliveries are signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    /// A file holding the HMAC key (one trailing newline is ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_file: Option<PathBuf>,
    /// Send nothing on this channel: log what would be sent and mark it done.
    #[serde(default)]
    pub dry_run: bool,
    /// When to try again after a retryable failure, and when to give up.
    #[serde(default)]
    pub retry: RetryConfig,
    /// After a notification to a target is accepted, further ones to the same target on this
    /// channel are suppressed for this long. 0: no cooldown.
    #[serde(default = "default_cooldown", with = "omen_core::human_duration")]
    pub cooldown: Duration,
    /// At most `max` notifications accepted on this channel per sliding `per`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
}

/// Default `kind`: `webhook`.
pub fn default_kind() -> ChannelKind {
    ChannelKind::Webhook
}

/// Default `method`: `POST`.
pub fn default_method() -> String {
    "POST".to_owned()
}

/// Default `timeout`: 10 seconds.
pub fn default_timeout() -> Duration {
    Duration::from_secs(10)
}

/// Default `cooldown`: none.
pub fn default_cooldown() -> Duration {
    Duration::ZERO
}

impl ChannelConfig {
    /// A channel with every optional setting at its default.
    ///
    /// ```
    /// let channel = omen_notify::ChannelConfig::new("hook", "http://127.0.0.1:8080/hook");
    /// assert_eq!(channel.method, "POST");
    /// assert_eq!(channel.timeout, std::time::Duration::from_secs(10));
    /// ```
    pub fn new(name: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            kind: default_kind(),
            url: url.into(),
            method: default_method(),
            headers: BTreeMap::new(),
            timeout: default_timeout(),
            secret: None,
            secret_file: None,
            dry_run: false,
            retry: RetryConfig::default(),
            cooldown: default_cooldown(),
            rate_limit: None,
        }
    }
}

/// What a channel is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// Alertmanager's `/api/v2/alerts`.
    Alertmanager,
    /// A webhook that tells people (chat, paging).
    Webhook,
    /// A remediation action; these count against `max_actions_per_hour`.
    Action,
}

impl ChannelKind {
    /// The name as written in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Alertmanager => "alertmanager",
            ChannelKind::Webhook => "webhook",
            ChannelKind::Action => "action",
        }
    }
}

/// The retry schedule: exponential from `initial`, doubling up to `max`, each delay drawn
/// uniformly below that (full jitter); no attempt after `give_up_after` from the enqueue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryConfig {
    /// The cap of the first delay.
    #[serde(with = "omen_core::human_duration")]
    pub initial: Duration,
    /// The largest cap a delay doubles up to.
    #[serde(with = "omen_core::human_duration")]
    pub max: Duration,
    /// Past this from the enqueue, a failed entry goes to the dead letters.
    #[serde(with = "omen_core::human_duration")]
    pub give_up_after: Duration,
}

/// Default `retry.initial`: 500 milliseconds.
pub fn default_retry_initial() -> Duration {
    Duration::from_millis(500)
}

/// Default `retry.max`: 5 minutes.
pub fn default_retry_max() -> Duration {
    Duration::from_secs(5 * 60)
}

/// Default `retry.give_up_after`: 24 hours.
pub fn default_give_up_after() -> Duration {
    Duration::from_secs(24 * 3600)
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            initial: default_retry_initial(),
            max: default_retry_max(),
            give_up_after: default_give_up_after(),
        }
    }
}

/// At most `max` notifications per sliding `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Notifications accepted per window.
    pub max: u32,
    /// The window.
    #[serde(with = "omen_core::human_duration")]
    pub per: Duration,
}

/// A secret string that `Debug` does not print.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_from_an_empty_table_and_are_valid() {
        let parsed: NotifyConfig = toml::from_str("").unwrap();
        assert_eq!(parsed, NotifyConfig::default());
        parsed.validate().unwrap();
    }

    #[test]
    fn the_documented_example_parses_and_is_valid() {
        let doc = include_str!("config.rs");
        let example: String = doc
            .lines()
            .skip_while(|l| !l.starts_with("/// ```toml"))
            .skip(1)
            .take_while(|l| !l.starts_with("/// ```"))
            .map(|l| format!("{}\n", l.trim_start_matches("///").trim_start()))
            .collect();
        let config: NotifyConfig = toml::from_str(&example).unwrap();
        config.validate().unwrap();
        assert_eq!(config.channels.len(), 2);
        let action = config.channel("restart-pod").unwrap();
        assert_eq!(action.kind, ChannelKind::Action);
        assert_eq!(action.retry.give_up_after, Duration::from_secs(6 * 3600));
        assert_eq!(action.cooldown, Duration::from_secs(1800));
        assert_eq!(
            action.rate_limit,
            Some(RateLimit {
                max: 5,
                per: Duration::from_secs(3600)
            })
        );
        let alertmanager = config.channel("alertmanager").unwrap();
        assert_eq!(alertmanager.method, "POST");
        assert_eq!(alertmanager.retry, RetryConfig::default());
        assert_eq!(alertmanager.cooldown, Duration::ZERO);
    }

    #[test]
    fn a_config_round_trips_through_toml() {
        let mut channel = ChannelConfig::new("hook", "https://example.com/x");
        channel.secret = Some(Secret::new("s3cret"));
        channel.rate_limit = Some(RateLimit {
            max: 3,
            per: Duration::from_secs(60),
        });
        let config = NotifyConfig {
            channels: vec![channel],
            max_actions_per_hour: Some(10),
            ..NotifyConfig::default()
        };
        let text = toml::to_string(&config).unwrap();
        let back: NotifyConfig = toml::from_str(&text).unwrap();
        assert_eq!(back, config, "{text}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let error = toml::from_str::<NotifyConfig>(
            "[[channels]]\nname = \"a\"\nurl = \"http://x/\"\nretries = 3\n",
        )
        .unwrap_err();
        assert!(error.to_string().contains("retries"), "{error}");
    }

    #[test]
    fn secrets_are_not_printed_by_debug() {
        let mut channel = ChannelConfig::new("hook", "https://example.com/x");
        channel.secret = Some(Secret::new("hunter2"));
        assert!(!format!("{channel:?}").contains("hunter2"));
    }
}
