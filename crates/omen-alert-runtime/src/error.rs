//! Errors of the alert runtime: opening its files, reading and writing `alerts.db`, starting
//! its thread and its HTTP client. Messages carry their causes (the fields are `cause`, not a
//! `source()`), so that printing the chain does not repeat them.

use std::path::PathBuf;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong in the alert runtime.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `alerts.db` could not be opened or its tables created.
    #[error("cannot {action} `{}`: {cause}", path.display())]
    Open {
        /// What was being done: "open the alert store", "create the tables of".
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// SQLite's error.
        cause: rusqlite::Error,
    },
    /// A statement on `alerts.db` failed.
    #[error(transparent)]
    Store(#[from] rusqlite::Error),
    /// A record of `alerts.db` could not be written or read back as JSON.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// The rules or the saved feedback adjustments are invalid.
    #[error("{context}: {cause}")]
    Rules {
        /// What was being read.
        context: &'static str,
        /// The alert stage's error.
        cause: omen_alert::Error,
    },
    /// The notification outbox failed.
    #[error("{context}: {cause}")]
    Outbox {
        /// What was being done.
        context: &'static str,
        /// The outbox's error.
        cause: omen_notify::Error,
    },
    /// A thread or the HTTP client could not be started.
    #[error("{0}")]
    Start(String),
}
