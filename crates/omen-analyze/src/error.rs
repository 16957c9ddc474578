//! Errors of a batch run. Each says which step failed (`cannot write scores.parquet`); the
//! library's or the operating system's reason is its [`source`](std::error::Error::source),
//! so that printing the chain (as `anyhow`'s `{:#}` does) reads: step: reason.

/// A boxed error of any library the pipeline calls (Arrow, Parquet, I/O, the report).
type Reason = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What can go wrong in `omen analyze`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input could not be opened, read or understood.
    #[error(transparent)]
    Input(#[from] omen_ingest::Error),

    /// The detectors could not be built from their settings.
    #[error(transparent)]
    Detector(#[from] omen_engine::Error),

    /// A step of the run failed for a reason of its own.
    #[error("{step}")]
    Step {
        /// What was being done, such as `cannot write scores.parquet`.
        step: String,
        /// Why it failed.
        source: Reason,
    },

    /// A step of the run failed; its message says why.
    #[error("{0}")]
    Failed(String),

    /// An Arrow computation failed.
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),

    /// Parquet encoding or decoding failed.
    #[error(transparent)]
    Parquet(#[from] parquet::errors::ParquetError),

    /// An operating-system call failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// The result of the pipeline's steps.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Name the step a failure happened in, as `anyhow::Context` does.
pub(crate) trait Context<T> {
    /// The failure, or the absence of a value, as `step`'s error.
    fn context(self, step: &str) -> Result<T>;

    /// The same, with the step's name made only on failure.
    fn with_context(self, step: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: Into<Reason>> Context<T> for std::result::Result<T, E> {
    fn context(self, step: &str) -> Result<T> {
        self.with_context(|| step.to_owned())
    }

    fn with_context(self, step: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Step {
            step: step(),
            source: source.into(),
        })
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, step: &str) -> Result<T> {
        self.ok_or_else(|| Error::Failed(step.to_owned()))
    }

    fn with_context(self, step: impl FnOnce() -> String) -> Result<T> {
        self.ok_or_else(|| Error::Failed(step()))
    }
}

/// Return [`Error::Failed`] with a formatted message, as `anyhow::bail!` does.
macro_rules! bail {
    ($($message:tt)*) => {
        return Err($crate::error::Error::Failed(format!($($message)*)))
    };
}

/// [`bail!`] unless `condition` holds, as `ensure!` does.
macro_rules! ensure {
    ($condition:expr, $($message:tt)*) => {
        if !$condition {
            $crate::error::bail!($($message)*);
        }
    };
}

pub(crate) use {bail, ensure};
