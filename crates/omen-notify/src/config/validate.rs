//! Checking a [`NotifyConfig`] and turning it into [`Settings`]: every error names its key.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};

use super::{ChannelConfig, NotifyConfig};
use crate::settings::{Channel, Settings};
use crate::signature::RESERVED_HEADERS;
use crate::{Error, Result};

/// Most attempts in flight accepted.
const MAX_CONCURRENCY: usize = 1024;

/// The methods a channel may use: the ones that carry a body.
const METHODS: [&str; 3] = ["POST", "PUT", "PATCH"];

/// Validate `config` and build the runtime settings (reading every `secret_file`).
pub(crate) fn resolve(config: &NotifyConfig) -> Result<Settings> {
    if !(1..=MAX_CONCURRENCY).contains(&config.concurrency) {
        return Err(Error::config(
            "notify.concurrency",
            format!(
                "must be in 1..={MAX_CONCURRENCY}, got {}",
                config.concurrency
            ),
        ));
    }
    if config.max_actions_per_hour == Some(0) {
        return Err(Error::config(
            "notify.max_actions_per_hour",
            "must be at least 1 (to send no actions, remove them or set dry_run)",
        ));
    }
    let mut channels = HashMap::with_capacity(config.channels.len());
    for (index, channel) in config.channels.iter().enumerate() {
        let key = format!("notify.channels[{index}]");
        let resolved = resolve_channel(&key, channel)?;
        if channels.contains_key(&resolved.name) {
            return Err(Error::config(
                format!("{key}.name"),
                format!("the channel name `{}` is used twice", resolved.name),
            ));
        }
        channels.insert(resolved.name.clone(), Arc::new(resolved));
    }
    check_retention(config)?;
    Ok(Settings {
        channels,
        max_actions_per_hour: config.max_actions_per_hour,
        dry_run: config.dry_run,
        concurrency: config.concurrency,
        retention: config.retention,
        synchronous: config.synchronous,
    })
}

/// The rails look back over finished entries, so these must be kept at least as long as the
/// longest window.
fn check_retention(config: &NotifyConfig) -> Result<()> {
    let hour = Duration::from_secs(3600);
    let mut needed = (Duration::ZERO, "");
    if config.max_actions_per_hour.is_some() {
        needed = (hour, "the hour of max_actions_per_hour");
    }
    for channel in &config.channels {
        if channel.cooldown > needed.0 {
            needed = (channel.cooldown, "a channel's cooldown");
        }
        if let Some(limit) = channel.rate_limit.filter(|l| l.per > needed.0) {
            needed = (limit.per, "a channel's rate_limit.per");
        }
    }
    let floor = Duration::from_secs(60);
    if config.retention < floor.max(needed.0) {
        let why = if needed.0 > floor {
            format!("{} ({})", needed.1, humantime::format_duration(needed.0))
        } else {
            "1m".to_owned()
        };
        return Err(Error::config(
            "notify.retention",
            format!(
                "must be at least {why}, got {}",
                humantime::format_duration(config.retention)
            ),
        ));
    }
    Ok(())
}

fn resolve_channel(key: &str, config: &ChannelConfig) -> Result<Channel> {
    let bad = |field: &str, message: String| Error::config(format!("{key}.{field}"), message);
    if config.name.trim().is_empty() {
        return Err(bad("name", "must not be empty".into()));
    }
    let url = Url::parse(&config.url)
        .map_err(|err| bad("url", format!("`{}` is not a URL: {err}", config.url)))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(bad(
            "url",
            format!(
                "`{}` must be an http:// or https:// URL with a host",
                config.url
            ),
        ));
    }
    let method = config.method.to_ascii_uppercase();
    if !METHODS.contains(&method.as_str()) {
        return Err(bad(
            "method",
            format!("`{}` is not one of {}", config.method, METHODS.join(", ")),
        ));
    }
    let method = Method::from_bytes(method.as_bytes())
        .map_err(|err| bad("method", format!("`{}`: {err}", config.method)))?;
    let headers = resolve_headers(key, config)?;
    if config.timeout.is_zero() {
        return Err(bad("timeout", "must be more than 0".into()));
    }
    let secret = resolve_secret(key, config)?;
    let retry = config.retry;
    if retry.initial.is_zero() {
        return Err(bad("retry.initial", "must be more than 0".into()));
    }
    if retry.max < retry.initial {
        return Err(bad(
            "retry.max",
            format!(
                "must be at least retry.initial ({}), got {}",
                humantime::format_duration(retry.initial),
                humantime::format_duration(retry.max)
            ),
        ));
    }
    if retry.give_up_after.is_zero() {
        return Err(bad("retry.give_up_after", "must be more than 0".into()));
    }
    if let Some(limit) = config.rate_limit {
        if limit.max == 0 {
            return Err(bad("rate_limit.max", "must be at least 1".into()));
        }
        if limit.per.is_zero() {
            return Err(bad("rate_limit.per", "must be more than 0".into()));
        }
    }
    Ok(Channel {
        name: config.name.clone(),
        kind: config.kind,
        url,
        method,
        headers,
        timeout: config.timeout,
        secret: secret.map(|bytes| ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &bytes)),
        dry_run: config.dry_run,
        retry,
        cooldown: config.cooldown,
        rate_limit: config.rate_limit,
    })
}

fn resolve_headers(key: &str, config: &ChannelConfig) -> Result<HeaderMap> {
    let mut headers = HeaderMap::with_capacity(config.headers.len());
    for (name, value) in &config.headers {
        let bad = |message: String| Error::config(format!("{key}.headers.{name}"), message);
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| bad(format!("`{name}` is not a valid header name")))?;
        if RESERVED_HEADERS.contains(&header.as_str()) {
            return Err(bad(format!("`{name}` is set by Omen on every delivery")));
        }
        let value = HeaderValue::from_str(value)
            .map_err(|_| bad("the value is not a valid header value".into()))?;
        headers.insert(header, value);
    }
    Ok(headers)
}

fn resolve_secret(key: &str, config: &ChannelConfig) -> Result<Option<Vec<u8>>> {
    match (&config.secret, &config.secret_file) {
        (Some(_), Some(_)) => Err(Error::config(
            format!("{key}.secret_file"),
            "secret and secret_file are both set; keep one",
        )),
        (Some(secret), None) if secret.expose().is_empty() => {
            Err(Error::config(format!("{key}.secret"), "must not be empty"))
        }
        (Some(secret), None) => Ok(Some(secret.expose().as_bytes().to_vec())),
        (None, Some(path)) => {
            let bad = |message: String| Error::config(format!("{key}.secret_file"), message);
            let mut bytes = std::fs::read(path)
                .map_err(|err| bad(format!("cannot read {}: {err}", path.display())))?;
            if bytes.ends_with(b"\n") {
                bytes.pop();
                if bytes.ends_with(b"\r") {
                    bytes.pop();
                }
            }
            if bytes.is_empty() {
                return Err(bad(format!("{} is empty", path.display())));
            }
            Ok(Some(bytes))
        }
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::config::{RateLimit, Secret};

    fn channel() -> ChannelConfig {
        ChannelConfig::new("hook", "http://127.0.0.1:9/hook")
    }

    fn with_channels(channels: Vec<ChannelConfig>) -> NotifyConfig {
        NotifyConfig {
            channels,
            ..NotifyConfig::default()
        }
    }

    #[test]
    fn bad_settings_name_their_key() {
        let mut secret_file = tempfile::NamedTempFile::new().unwrap();
        writeln!(secret_file, "from-a-file").unwrap();
        let missing = secret_file.path().with_extension("missing");
        type Edit = Box<dyn Fn(&mut NotifyConfig)>;
        let cases: Vec<(&str, Edit, &str)> = vec![
            (
                "ftp url",
                Box::new(|c| c.channels[1].url = "ftp://x/".into()),
                "notify.channels[1].url",
            ),
            (
                "no url",
                Box::new(|c| c.channels[0].url = "not a url".into()),
                "notify.channels[0].url",
            ),
            (
                "no host",
                Box::new(|c| c.channels[0].url = "http://".into()),
                "notify.channels[0].url",
            ),
            (
                "method",
                Box::new(|c| c.channels[0].method = "FETCH".into()),
                "notify.channels[0].method",
            ),
            (
                "get",
                Box::new(|c| c.channels[0].method = "GET".into()),
                "notify.channels[0].method",
            ),
            (
                "timeout",
                Box::new(|c| c.channels[0].timeout = Duration::ZERO),
                "notify.channels[0].timeout",
            ),
            (
                "initial",
                Box::new(|c| c.channels[2].retry.initial = Duration::ZERO),
                "notify.channels[2].retry.initial",
            ),
            (
                "max < initial",
                Box::new(|c| c.channels[0].retry.max = Duration::from_millis(1)),
                "notify.channels[0].retry.max",
            ),
            (
                "give up",
                Box::new(|c| c.channels[0].retry.give_up_after = Duration::ZERO),
                "notify.channels[0].retry.give_up_after",
            ),
            (
                "rate max",
                Box::new(|c| {
                    c.channels[0].rate_limit = Some(RateLimit {
                        max: 0,
                        per: Duration::from_secs(1),
                    })
                }),
                "notify.channels[0].rate_limit.max",
            ),
            (
                "rate per",
                Box::new(|c| {
                    c.channels[0].rate_limit = Some(RateLimit {
                        max: 1,
                        per: Duration::ZERO,
                    })
                }),
                "notify.channels[0].rate_limit.per",
            ),
            (
                "duplicate",
                Box::new(|c| c.channels[2].name = "a".into()),
                "notify.channels[2].name",
            ),
            (
                "empty name",
                Box::new(|c| c.channels[1].name = " ".into()),
                "notify.channels[1].name",
            ),
            (
                "header name",
                Box::new(|c| {
                    c.channels[0]
                        .headers
                        .insert("bad header".into(), "x".into());
                }),
                "notify.channels[0].headers.bad header",
            ),
            (
                "header value",
                Box::new(|c| {
                    c.channels[0].headers.insert("X-A".into(), "a\nb".into());
                }),
                "notify.channels[0].headers.X-A",
            ),
            (
                "reserved header",
                Box::new(|c| {
                    c.channels[0]
                        .headers
                        .insert("Idempotency-Key".into(), "x".into());
                }),
                "notify.channels[0].headers.Idempotency-Key",
            ),
            (
                "empty secret",
                Box::new(|c| c.channels[0].secret = Some(Secret::new(""))),
                "notify.channels[0].secret",
            ),
            (
                "cap",
                Box::new(|c| c.max_actions_per_hour = Some(0)),
                "notify.max_actions_per_hour",
            ),
            (
                "concurrency",
                Box::new(|c| c.concurrency = 0),
                "notify.concurrency",
            ),
            (
                "retention",
                Box::new(|c| {
                    c.channels[0].cooldown = Duration::from_secs(8 * 86400);
                }),
                "notify.retention",
            ),
            (
                "retention cap",
                Box::new(|c| {
                    c.max_actions_per_hour = Some(1);
                    c.retention = Duration::from_secs(600);
                }),
                "notify.retention",
            ),
        ];
        for (name, edit, want) in cases {
            let mut config = with_channels(vec![
                ChannelConfig::new("a", "http://a/"),
                ChannelConfig::new("b", "https://b:8443/x"),
                ChannelConfig::new("c", "http://c/"),
            ]);
            config.validate().unwrap();
            edit(&mut config);
            let error = config.validate().unwrap_err();
            assert_eq!(error.key(), Some(want), "{name}: {error}");
            assert!(error.to_string().starts_with(want), "{name}: {error}");
        }

        let mut both = channel();
        both.secret = Some(Secret::new("x"));
        both.secret_file = Some(secret_file.path().to_owned());
        let error = with_channels(vec![both]).validate().unwrap_err();
        assert_eq!(
            error.key(),
            Some("notify.channels[0].secret_file"),
            "{error}"
        );
        assert!(error.to_string().contains("both"), "{error}");

        let mut unreadable = channel();
        unreadable.secret_file = Some(missing);
        let error = with_channels(vec![unreadable]).validate().unwrap_err();
        assert_eq!(
            error.key(),
            Some("notify.channels[0].secret_file"),
            "{error}"
        );
        assert!(error.to_string().contains("cannot read"), "{error}");
    }

    #[test]
    fn a_secret_file_is_read_without_its_trailing_newline() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "s3cret").unwrap();
        let mut config = channel();
        config.secret_file = Some(file.path().to_owned());
        let settings = resolve(&with_channels(vec![config])).unwrap();
        let key = settings.channel("hook").unwrap().secret.clone().unwrap();
        let want = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"s3cret");
        let tag = ring::hmac::sign(&want, b"1.x");
        ring::hmac::verify(&key, b"1.x", tag.as_ref()).unwrap();
    }

    #[test]
    fn methods_are_case_insensitive() {
        let mut config = channel();
        config.method = "put".into();
        let settings = resolve(&with_channels(vec![config])).unwrap();
        assert_eq!(settings.channel("hook").unwrap().method, Method::PUT);
    }
}
