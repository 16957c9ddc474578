//! The alert stage's errors: a bad configuration (naming the key path) or a bad adjustment.

/// What can go wrong when building the alert stage or changing its adjustments.
///
/// Nothing on the per-sample path returns an error: a template that fails at run time renders
/// a visible `<template error: …>` text instead, so that an alert is never lost to a typo.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is wrong; `key` is its path, such as `alert.rules[1].for`.
    #[error("{key}: {message}")]
    Config {
        /// The key path, such as `alert.rules[0].match[2]`.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// No adjustment has this id (it was never made, or was undone already).
    #[error("no adjustment with id {0}")]
    UnknownAdjustment(u64),
    /// An adjustment's values are out of range; the message says which.
    #[error("invalid adjustment: {0}")]
    InvalidAdjustment(String),
}

impl Error {
    /// A configuration error at `key`.
    pub(crate) fn config(key: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// The alert stage's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
