#![doc = include_str!("../README.md")]

mod config;
mod dispatcher;
mod error;
mod notification;
mod outbox;
mod settings;
mod signature;
mod stats;

pub use config::{
    ChannelConfig, ChannelKind, NotifyConfig, RateLimit, RetryConfig, Secret, Synchronous,
    default_concurrency, default_cooldown, default_give_up_after, default_kind, default_method,
    default_retention, default_retry_initial, default_retry_max, default_synchronous,
    default_timeout,
};
pub use dispatcher::{BODY_PREFIX, Dispatcher, DispatcherHandle};
pub use error::{DeliveryError, Error, Result, VerifyError};
pub use notification::{Enqueued, Notification, SuppressReason};
pub use outbox::{AuditEntry, AuditOutcome, Counts, EntryState, Outbox, OutboxEntry};
pub use signature::{IDEMPOTENCY_KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify};
pub use stats::{ChannelCounts, FAILURE_KINDS, NotifyStats, NotifyStatsSnapshot};

/// The wall clock in Unix milliseconds (0 before 1970), the time [`Outbox::enqueue`] expects.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A `reqwest` client builder with what deliveries need: no redirects followed (a 3xx answer
/// is a final failure, see [`DeliveryError::is_retryable`]), and Omen's `User-Agent`. A TLS
/// crypto provider must be installed first (the binary installs rustls' ring provider).
pub fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Omen/", env!("CARGO_PKG_VERSION")))
}
