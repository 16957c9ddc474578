//! Errors of the evaluation crate.
//!
//! Every variant names the file (and where it helps, the row or timestamp) it is about, so a
//! message read on its own tells the user what to fix.

use std::path::PathBuf;

/// What can go wrong when loading the NAB corpus files or scoring detector output.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {}", path.display())]
    Io {
        /// The file that failed.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A JSON file is not valid JSON or does not have the expected shape.
    #[error("cannot parse {}", path.display())]
    Json {
        /// The file that failed.
        path: PathBuf,
        /// The underlying parse error.
        #[source]
        source: serde_json::Error,
    },

    /// A JSON file parsed but its content is unusable (for example a missing profile).
    #[error("{}: {reason}", path.display())]
    Content {
        /// The file at fault.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },

    /// A scoring profile has weights NAB cannot score with.
    #[error("invalid profile `{name}`: {reason}")]
    InvalidProfile {
        /// The profile's name.
        name: String,
        /// What is wrong and what is accepted.
        reason: String,
    },

    /// A window bound is not the timestamp of any row of its data file.
    #[error("{file}: window bound `{timestamp}` matches no row timestamp")]
    WindowNotFound {
        /// Relative path of the data file.
        file: String,
        /// The window bound as written in the windows file.
        timestamp: String,
    },

    /// A window ends before it starts, or overlaps or precedes the window before it.
    #[error("{file}: invalid window [{start}, {end}]: {reason}")]
    InvalidWindow {
        /// Relative path of the data file.
        file: String,
        /// The window's start as written in the windows file.
        start: String,
        /// The window's end as written in the windows file.
        end: String,
        /// What is wrong.
        reason: String,
    },

    /// A file's results do not have one score per timestamp.
    #[error("{file}: {timestamps} timestamps but {scores} scores")]
    LengthMismatch {
        /// Relative path of the data file.
        file: String,
        /// Number of timestamps given.
        timestamps: usize,
        /// Number of scores given.
        scores: usize,
    },

    /// A labelled series does not have exactly one label, one score and one verdict per point.
    #[error(
        "labelled series has {labels} labels, {scores} scores and {verdicts} verdicts; \
         all three must have one entry per point"
    )]
    LabelledLengthMismatch {
        /// Number of ground-truth labels given.
        labels: usize,
        /// Number of anomaly scores given.
        scores: usize,
        /// Number of verdicts given.
        verdicts: usize,
    },

    /// An anomaly score is NaN or outside [0, 1]; NAB rejects such results.
    #[error("{file}: score {value} at row {row} ({timestamp}) is not in [0, 1]")]
    ScoreOutOfRange {
        /// Relative path of the data file.
        file: String,
        /// Row index, counting data rows from 0 (the CSV header is not a row).
        row: usize,
        /// The row's timestamp.
        timestamp: String,
        /// The offending score.
        value: f64,
    },

    /// The same file was handed in twice.
    #[error("{file}: results given more than once")]
    DuplicateFile {
        /// Relative path of the data file.
        file: String,
    },

    /// Files listed in the windows file have no results; NAB scores the whole corpus or nothing.
    #[error("no results for {} labelled file(s): {}", files.len(), files.join(", "))]
    MissingFiles {
        /// Relative paths of the files without results, sorted.
        files: Vec<String>,
    },

    /// Results were given for files the windows file does not list.
    #[error("no windows entry for {} file(s): {}", files.len(), files.join(", "))]
    UnlabelledFiles {
        /// Relative paths of the files without a windows entry, sorted.
        files: Vec<String>,
    },

    /// The perfect and null scores coincide, so the 0–100 scale is undefined.
    #[error(
        "cannot normalise profile `{profile}`: perfect score {perfect} is not above null score \
         {null} (does the corpus have windows?)"
    )]
    Unnormalisable {
        /// The profile's name.
        profile: String,
        /// Raw score of the perfect detector.
        perfect: f64,
        /// Raw score of the null detector.
        null: f64,
    },
}

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Reads a whole file, naming the path on failure.
pub(crate) fn read_to_string(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

/// Parses JSON text read from `path`, naming the path on failure.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    path: &std::path::Path,
    text: &str,
) -> Result<T> {
    serde_json::from_str(text).map_err(|source| Error::Json {
        path: path.to_owned(),
        source,
    })
}
