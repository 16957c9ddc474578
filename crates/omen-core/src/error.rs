//! Errors of the core crate: only construction and validation can fail here.

/// What can go wrong when building core types.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value is outside the range it must be in.
    #[error("invalid setting `{name}`: {reason}")]
    InvalidSetting {
        /// The setting's name as a user writes it.
        name: &'static str,
        /// What is wrong and what is accepted.
        reason: String,
    },
}

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
