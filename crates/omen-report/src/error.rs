//! The report's errors.

/// What can go wrong while rendering a report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A per-point vector of a series is neither as long as its timestamps nor empty.
    #[error(
        "series {series}: `{field}` has {got} entries, expected {expected} (one per timestamp) or none"
    )]
    LengthMismatch {
        /// The series' title.
        series: String,
        /// Which vector: `values`, `expected`, `lower`, `upper` or `anomaly`.
        field: &'static str,
        /// How many timestamps the series has.
        expected: usize,
        /// How many entries the vector has.
        got: usize,
    },
    /// The timestamps of a series go backwards.
    #[error("series {series}: timestamps go backwards at index {index}")]
    Unordered {
        /// The series' title.
        series: String,
        /// The first index whose timestamp is before the one before it.
        index: usize,
    },
    /// Plotters failed to draw a chart.
    #[error("series {series}: drawing the chart failed: {message}")]
    Drawing {
        /// The series' title.
        series: String,
        /// Plotters' message.
        message: String,
    },
    /// Writing the page failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// The report's result type.
pub type Result<T> = std::result::Result<T, Error>;
