//! Errors: [`Error`] for the outbox and the configuration, [`DeliveryError`] for one failed
//! attempt, [`VerifyError`] for a signature a receiver refuses.

use std::path::PathBuf;
use std::time::Duration;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong outside of a delivery attempt.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is wrong; `key` is its path, such as `notify.channels[2].retry.initial`.
    #[error("{key}: {message}")]
    Config {
        /// The path of the bad setting.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// The outbox file could not be opened or prepared.
    #[error("cannot open the outbox {}: {source}", path.display())]
    Open {
        /// The outbox file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The outbox was written by a newer Omen, with a schema this one does not know.
    #[error("the outbox {} has schema version {version}; this Omen reads up to 1", path.display())]
    NewerSchema {
        /// The outbox file.
        path: PathBuf,
        /// The version found in the file.
        version: i64,
    },
    /// A statement on the outbox failed.
    #[error("outbox: {context}: {source}")]
    Storage {
        /// What was being done.
        context: &'static str,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// A notification names a channel that is not configured.
    #[error("notification `{key}` names the channel `{channel}`, which is not configured")]
    UnknownChannel {
        /// The notification's idempotency key.
        key: String,
        /// The channel it names.
        channel: String,
    },
    /// A notification cannot be sent as it is (an empty key, a header that is not valid HTTP).
    #[error("notification `{key}`: {message}")]
    InvalidNotification {
        /// The notification's idempotency key.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// The blocking task that ran a statement panicked or was cancelled.
    #[error("outbox task failed: {0}")]
    Task(String),
}

impl Error {
    /// The path of the bad setting, for [`Error::Config`].
    pub fn key(&self) -> Option<&str> {
        match self {
            Error::Config { key, .. } => Some(key),
            _ => None,
        }
    }

    /// Whether the same call may succeed if repeated: only SQLite being busy or locked by
    /// another process. Everything else is not, so that no caller loops on it.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Storage { source, .. } | Error::Open { source, .. } => matches!(
                source.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            ),
            _ => false,
        }
    }

    pub(crate) fn config(key: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Config {
            key: key.into(),
            message: message.into(),
        }
    }

    pub(crate) fn storage(context: &'static str) -> impl FnOnce(rusqlite::Error) -> Error {
        move |source| Error::Storage { context, source }
    }
}

/// Why one delivery attempt failed. [`DeliveryError::is_retryable`] decides between a retry
/// and the dead letters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// The target answered with a status that is not 2xx.
    #[error("HTTP {status}{}: {body}", retry_after.map(|d| format!(" (Retry-After {}s)", d.as_secs())).unwrap_or_default())]
    Status {
        /// The status code.
        status: u16,
        /// `Retry-After` in seconds, when the answer gave one.
        retry_after: Option<Duration>,
        /// The first 512 bytes of the answer's body (lossy UTF-8).
        body: String,
    },
    /// No complete answer within the channel's timeout.
    #[error("timed out after {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    /// The connection could not be made (refused, reset, DNS).
    #[error("connection failed: {0}")]
    Connect(String),
    /// The TLS handshake failed (a bad certificate, or no TLS on the other side).
    #[error("TLS handshake failed: {0}")]
    Tls(String),
    /// The answer was not HTTP, or the connection closed in the middle of it.
    #[error("the answer is not HTTP: {0}")]
    Protocol(String),
    /// Any other transport error.
    #[error("request failed: {0}")]
    Transport(String),
    /// The request could not be built from the notification (never retried).
    #[error("cannot build the request: {0}")]
    Request(String),
    /// The notification's channel is no longer configured (never retried).
    #[error("the channel `{0}` is no longer configured")]
    ChannelGone(String),
}

impl DeliveryError {
    /// Whether another attempt may succeed: 5xx, 408, 429, timeouts, connection and TLS
    /// failures, answers that are not HTTP, and other transport errors. Any other status
    /// (4xx, or a 3xx that was not followed) and requests that cannot be built are final.
    pub fn is_retryable(&self) -> bool {
        match self {
            DeliveryError::Status { status, .. } => {
                *status >= 500 || *status == 408 || *status == 429
            }
            DeliveryError::Timeout(_)
            | DeliveryError::Connect(_)
            | DeliveryError::Tls(_)
            | DeliveryError::Protocol(_)
            | DeliveryError::Transport(_) => true,
            DeliveryError::Request(_) | DeliveryError::ChannelGone(_) => false,
        }
    }

    /// The status code, when the target answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            DeliveryError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// A stable snake_case name of the kind of failure, for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            DeliveryError::Status { .. } => "status",
            DeliveryError::Timeout(_) => "timeout",
            DeliveryError::Connect(_) => "connect",
            DeliveryError::Tls(_) => "tls",
            DeliveryError::Protocol(_) => "protocol",
            DeliveryError::Transport(_) => "transport",
            DeliveryError::Request(_) => "request",
            DeliveryError::ChannelGone(_) => "channel_gone",
        }
    }
}

/// Why [`verify`](crate::verify) refused a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The header does not read `sha256=<64 lowercase hex digits>`.
    #[error("the signature header is not `sha256=<hex>`")]
    Malformed,
    /// The signature does not match the secret, the timestamp and the body.
    #[error("the signature does not match")]
    Mismatch,
    /// The timestamp is further from now than the tolerance (a replay, or a skewed clock).
    #[error("the timestamp is {age_seconds}s from now, more than the {tolerance_seconds}s allowed")]
    Stale {
        /// `now - timestamp`, in seconds (negative: in the future).
        age_seconds: i64,
        /// The tolerance, in seconds.
        tolerance_seconds: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_statuses_are_5xx_408_and_429() {
        let status = |status| DeliveryError::Status {
            status,
            retry_after: None,
            body: String::new(),
        };
        for code in [500, 502, 503, 504, 599, 408, 429] {
            assert!(status(code).is_retryable(), "{code}");
        }
        for code in [300, 304, 400, 401, 403, 404, 409, 410, 413, 422] {
            assert!(!status(code).is_retryable(), "{code}");
        }
        assert!(DeliveryError::Tls("x".into()).is_retryable());
        assert!(!DeliveryError::ChannelGone("x".into()).is_retryable());
        assert!(!Error::config("notify.x", "bad").is_retryable());
    }

    #[test]
    fn status_errors_say_retry_after() {
        let error = DeliveryError::Status {
            status: 429,
            retry_after: Some(Duration::from_secs(7)),
            body: "slow down".into(),
        };
        assert_eq!(error.to_string(), "HTTP 429 (Retry-After 7s): slow down");
    }
}
