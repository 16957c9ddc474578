//! The validated runtime form of [`NotifyConfig`](crate::NotifyConfig): parsed URLs, methods
//! and headers, secrets read and turned into HMAC keys. Built once, shared by the outbox (the
//! rails) and the dispatcher (the requests).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Method, Url};

use crate::config::{ChannelKind, RateLimit, RetryConfig, Synchronous};

/// Everything the outbox and the dispatcher read from the configuration.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) channels: HashMap<String, Arc<Channel>>,
    pub(crate) max_actions_per_hour: Option<u32>,
    pub(crate) dry_run: bool,
    pub(crate) concurrency: usize,
    pub(crate) retention: Duration,
    pub(crate) synchronous: Synchronous,
}

/// One channel, ready to send on.
#[derive(Debug)]
pub(crate) struct Channel {
    pub(crate) name: String,
    pub(crate) kind: ChannelKind,
    pub(crate) url: Url,
    pub(crate) method: Method,
    pub(crate) headers: HeaderMap,
    pub(crate) timeout: Duration,
    /// The HMAC key (ring's `Debug` prints only the algorithm).
    pub(crate) secret: Option<ring::hmac::Key>,
    pub(crate) dry_run: bool,
    pub(crate) retry: RetryConfig,
    pub(crate) cooldown: Duration,
    pub(crate) rate_limit: Option<RateLimit>,
}

impl Settings {
    pub(crate) fn channel(&self, name: &str) -> Option<&Arc<Channel>> {
        self.channels.get(name)
    }

    /// Whether deliveries on `channel` are only logged.
    pub(crate) fn is_dry_run(&self, channel: &Channel) -> bool {
        self.dry_run || channel.dry_run
    }
}
