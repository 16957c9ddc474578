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
}

/// The engine's result type.
pub type Result<T> = std::result::Result<T, Error>;
