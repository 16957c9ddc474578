//! What is handed to the outbox ([`Notification`]) and what the outbox did with it
//! ([`Enqueued`], [`SuppressReason`]).

use std::fmt;

/// One HTTP delivery to make, rendered by the caller. The outbox owns it until it is
/// delivered, dead-lettered, suppressed or replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The idempotency key: unique per notification, sent as `Idempotency-Key` on every
    /// attempt. Enqueueing a key seen before (within `retention`) does nothing.
    pub key: String,
    /// Notifications on the same channel with the same coalesce key replace each other while
    /// undelivered: only the newest is sent (for example the latest state of one alert).
    pub coalesce_key: Option<String>,
    /// The name of a configured channel.
    pub channel: String,
    /// What cooldowns are per, such as an alert's fingerprint.
    pub target: String,
    /// The body, sent as is.
    pub body: Vec<u8>,
    /// Extra headers from the renderer; they override the channel's, and a `Content-Type`
    /// here replaces the default `application/json`.
    pub headers: Vec<(String, String)>,
    /// When the caller made it (Unix milliseconds); kept for the record.
    pub created_at_ms: i64,
}

impl Notification {
    /// A notification with no coalesce key and no extra headers.
    ///
    /// ```
    /// let n = omen_notify::Notification::new("alert-1-firing", "pager", "alert-1", b"{}".to_vec(), 0);
    /// assert_eq!(n.coalesce_key, None);
    /// ```
    pub fn new(
        key: impl Into<String>,
        channel: impl Into<String>,
        target: impl Into<String>,
        body: Vec<u8>,
        created_at_ms: i64,
    ) -> Self {
        Self {
            key: key.into(),
            coalesce_key: None,
            channel: channel.into(),
            target: target.into(),
            body,
            headers: Vec::new(),
            created_at_ms,
        }
    }

    /// The same notification with a coalesce key.
    pub fn with_coalesce_key(mut self, coalesce_key: impl Into<String>) -> Self {
        self.coalesce_key = Some(coalesce_key.into());
        self
    }

    /// The same notification with one more header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// What [`Outbox::enqueue`](crate::Outbox::enqueue) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    /// Stored; it will be sent.
    Queued,
    /// The key was seen before (in any state): nothing was done.
    Duplicate,
    /// An undelivered notification with the same channel and coalesce key was replaced by this
    /// one: the old one is kept as `coalesced` (its key stays taken) and is not sent; this one
    /// is sent under its own key. It takes the old one's place in the rails, so it is not
    /// checked against them again.
    Coalesced,
    /// Refused by a safety rail; recorded as `suppressed` in the outbox and the audit log.
    Suppressed(SuppressReason),
}

/// Which safety rail refused a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SuppressReason {
    /// A notification to the same target on the same channel was accepted within `cooldown`.
    Cooldown,
    /// The channel accepted `rate_limit.max` notifications within `rate_limit.per`.
    RateLimit,
    /// `max_actions_per_hour` action notifications were accepted within the last hour (the
    /// circuit breaker is open).
    GlobalCap,
}

impl SuppressReason {
    /// The number of reasons.
    pub const COUNT: usize = 3;

    /// Every reason, in declaration order.
    pub const ALL: [SuppressReason; SuppressReason::COUNT] = [
        SuppressReason::Cooldown,
        SuppressReason::RateLimit,
        SuppressReason::GlobalCap,
    ];

    /// A stable snake_case name, for the audit log and a metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressReason::Cooldown => "cooldown",
            SuppressReason::RateLimit => "rate_limit",
            SuppressReason::GlobalCap => "global_cap",
        }
    }

    /// The reason named by [`SuppressReason::as_str`].
    pub fn from_name(name: &str) -> Option<SuppressReason> {
        SuppressReason::ALL.into_iter().find(|r| r.as_str() == name)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for SuppressReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
