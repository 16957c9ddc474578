//! Errors that stop `omen serve`: at start (a busy port, a data directory that cannot be made,
//! the engine or the alert stage failing to open) or at the end (the final snapshot).

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why `omen serve` could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A socket, directory or runtime operation failed; `context` says which.
    #[error("{context}: {cause}")]
    Io {
        /// What was being done.
        context: String,
        /// The operating system's error.
        cause: std::io::Error,
    },
    /// The alert stage could not open its files or start.
    #[error(transparent)]
    Alerts(#[from] omen_alert_runtime::Error),
    /// The detection engine could not start.
    #[error("cannot start the detection engine: {0}")]
    Engine(omen_engine::Error),
    /// The final snapshot could not be written.
    #[error("the final snapshot failed: {0}")]
    Snapshot(omen_engine::Error),
}

impl Error {
    pub(crate) fn io(context: impl Into<String>, cause: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            cause,
        }
    }
}
