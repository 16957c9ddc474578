//! Errors of the configuration: a file that cannot be read, TOML that does not parse, a
//! setting out of range (with its key and, where it can be found, its line).
//!
//! Each message carries its causes (the field is `cause`, not a `source()`), so that printing
//! the chain does not repeat them.

use std::path::PathBuf;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What is wrong with a configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read the configuration `{}`: {cause}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// The file was read, and what it says is wrong.
    #[error("invalid configuration `{}`: {cause}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        cause: Box<Error>,
    },
    /// Not TOML, an unknown key, or a value of the wrong type (`toml` gives the line).
    #[error(transparent)]
    Syntax(#[from] toml::de::Error),
    /// A setting out of range, found on a line of the file.
    #[error("line {line}, `{key}`: {cause}")]
    AtLine {
        /// The 1-based line.
        line: usize,
        /// The setting's dotted path.
        key: String,
        /// What is wrong with it.
        cause: Box<Error>,
    },
    /// A setting out of range, or settings that contradict each other; the message names
    /// the setting.
    #[error("{0}")]
    Setting(String),
    /// A secret file could not be read, or is empty.
    #[error("{0}")]
    Secret(String),
}
