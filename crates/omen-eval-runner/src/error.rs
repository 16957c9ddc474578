//! Errors of the evaluation runs: a corpus or input that cannot be read or makes no sense, a
//! result that cannot be written. Each is a message with what was being done, and its cause.
//!
//! The cause is kept in the message (the field is `cause`, not a `source()`), so that printing
//! the chain does not repeat it.

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong in an evaluation run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Something failed while doing `context`.
    #[error("{context}: {cause}")]
    Context {
        /// What was being done, for people.
        context: String,
        /// What failed, with its own causes.
        cause: String,
    },
    /// The input or the corpus is not what an evaluation needs; the message says what.
    #[error("{0}")]
    Invalid(String),
}

/// An error and its causes in one line, `outer: cause: cause`, as the binary prints chains.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(err) = cause {
        text.push_str(": ");
        text.push_str(&err.to_string());
        cause = err.source();
    }
    text
}

/// `?` on the errors of the crates the runs call: the message and its causes, as they are.
macro_rules! from_errors {
    ($($error:ty),* $(,)?) => {$(
        impl From<$error> for Error {
            fn from(err: $error) -> Self {
                Self::Invalid(chain(&err))
            }
        }
    )*};
}

from_errors!(
    std::io::Error,
    serde_json::Error,
    toml::de::Error,
    arrow::error::ArrowError,
    datafusion::error::DataFusionError,
    omen_alert::Error,
    omen_core::Error,
    omen_engine::Error,
    omen_eval::Error,
    omen_ingest::Error,
);

/// What was being done when an error happened: `.context("...")` and
/// `.with_context(|| ...)` on any `Result` whose error is a standard error.
pub(crate) trait Context<T> {
    /// The error, with `context` before it.
    fn context(self, context: impl Into<String>) -> Result<T>;
    /// The error, with the context `f` makes before it (made only on error).
    fn with_context<C: Into<String>>(self, f: impl FnOnce() -> C) -> Result<T>;
}

impl<T, E: std::error::Error> Context<T> for Result<T, E> {
    fn context(self, context: impl Into<String>) -> Result<T> {
        self.map_err(|err| Error::Context {
            context: context.into(),
            cause: chain(&err),
        })
    }

    fn with_context<C: Into<String>>(self, f: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|err| Error::Context {
            context: f().into(),
            cause: chain(&err),
        })
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, context: impl Into<String>) -> Result<T> {
        self.ok_or_else(|| Error::Invalid(context.into()))
    }

    fn with_context<C: Into<String>>(self, f: impl FnOnce() -> C) -> Result<T> {
        self.ok_or_else(|| Error::Invalid(f().into()))
    }
}

/// Return an [`Error::Invalid`] with a formatted message.
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err($crate::error::Error::Invalid(format!($($arg)*)))
    };
}
pub(crate) use bail;
