//! The engine's errors.

/// What can go wrong in the engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting is out of its range; the message names it.
    #[error("invalid setting: {0}")]
    InvalidSetting(String),
    /// The detector's own settings were rejected.
    #[error(transparent)]
    Detector(#[from] omen_core::Error),
    /// A file or thread operation failed; the message says which file and what was tried.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, naming the file.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// The engine's result type.
pub type Result<T> = std::result::Result<T, Error>;
