//! Errors of the sources. Each message names the file, and where it applies the line, the
//! column and the offending text, so that an operator can find and fix the input.
//!
//! The operating system's reason for an I/O failure is the error's
//! [`source`](std::error::Error::source), not part of its own message, so that printing the
//! chain (as `anyhow`'s `{:#}` does) shows it once, as in: cannot open \`x.csv\`: No such
//! file or directory (os error 2).

use std::io;
use std::path::PathBuf;

/// What can go wrong when reading a source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be opened (missing, a directory, no permission...).
    #[error("cannot open `{path}`")]
    Open {
        /// The file as given.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },

    /// The file could not be read part way through.
    #[error("cannot read `{path}`")]
    Read {
        /// The file as given.
        path: PathBuf,
        /// The CSV reader's reason.
        source: csv::Error,
    },

    /// The file has no header line at all.
    #[error(
        "`{path}` is empty: expected a header line naming the columns, such as `timestamp,value`"
    )]
    Empty {
        /// The file as given.
        path: PathBuf,
    },

    /// A required column is not in the header.
    #[error(
        "`{path}` has no {role} column `{column}` (names are matched ignoring case); \
         columns found: {}",
        quoted_list(found)
    )]
    MissingColumn {
        /// The file as given.
        path: PathBuf,
        /// What the column is for: `timestamp` or `value`.
        role: &'static str,
        /// The column name that was looked for.
        column: String,
        /// The column names in the header, in order.
        found: Vec<String>,
    },

    /// Two header columns match a required name (ignoring case), so the choice is ambiguous.
    #[error(
        "`{path}` has {count} columns named `{column}` (ignoring case), so the {role} column is \
         ambiguous; columns found: {}",
        quoted_list(found)
    )]
    AmbiguousColumn {
        /// The file as given.
        path: PathBuf,
        /// What the column is for: `timestamp` or `value`.
        role: &'static str,
        /// The column name that was looked for.
        column: String,
        /// How many header columns match it.
        count: usize,
        /// The column names in the header, in order.
        found: Vec<String>,
    },

    /// A timestamp cell is in none of the accepted forms.
    #[error(
        "`{path}` line {line}, column `{column}`: cannot parse timestamp `{text}`; expected \
         `YYYY-MM-DD HH:MM:SS[.fff]`, RFC 3339 (`2024-01-01T12:00:00Z`) or Unix epoch seconds \
         or milliseconds"
    )]
    InvalidTimestamp {
        /// The file as given.
        path: PathBuf,
        /// The 1-based line of the row.
        line: u64,
        /// The column's name as written in the header.
        column: String,
        /// The cell as written.
        text: String,
    },

    /// A value cell is not a number (NaN, infinities and empty cells are accepted).
    #[error(
        "`{path}` line {line}, column `{column}`: cannot parse number `{text}`; expected a \
         decimal number such as `12.5`, `NaN`, `inf`, or an empty cell"
    )]
    InvalidValue {
        /// The file as given.
        path: PathBuf,
        /// The 1-based line of the row.
        line: u64,
        /// The column's name as written in the header.
        column: String,
        /// The cell as written.
        text: String,
    },

    /// A row has fewer fields than the header.
    #[error("`{path}` line {line}: the row has {found} fields but the header has {expected}")]
    TooFewFields {
        /// The file as given.
        path: PathBuf,
        /// The 1-based line of the row.
        line: u64,
        /// The number of header columns.
        expected: usize,
        /// The number of fields in the row.
        found: usize,
    },

    /// An input pattern matched no file.
    #[error("no file matches `{pattern}`")]
    NoMatch {
        /// The path or glob as given.
        pattern: String,
    },

    /// An input pattern is not a valid glob.
    #[error("`{pattern}` is not a valid path or glob: {message}")]
    BadPattern {
        /// The pattern as given.
        pattern: String,
        /// The glob parser's reason.
        message: String,
    },

    /// A file is not readable Parquet (corrupt, truncated, or another format).
    #[error("`{path}` is not a readable Parquet file: {message}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The Parquet reader's reason.
        message: String,
    },

    /// DataFusion refused or failed the SQL query; its message says why.
    #[error("SQL error: {message}")]
    Sql {
        /// DataFusion's message.
        message: String,
    },

    /// DataFusion failed while reading the input.
    #[error("cannot read the input: {message}")]
    Query {
        /// DataFusion's message.
        message: String,
    },

    /// No column can serve as the timestamp.
    #[error(
        "no timestamp column: expected a column named `timestamp`, `ts` or `time`, or exactly \
         one column of Arrow timestamp type (or name one with --timestamp-column); columns \
         found: {}",
        quoted_list(found)
    )]
    NoTimestampColumn {
        /// The columns with their types, as `name: type`.
        found: Vec<String>,
    },

    /// A column named in the options is not in the input.
    #[error(
        "the {role} column `{column}` is not in the input; columns found: {}",
        quoted_list(found)
    )]
    UnknownColumn {
        /// What the column was for: `timestamp`, `value` or `series`.
        role: &'static str,
        /// The name given.
        column: String,
        /// The columns of the input.
        found: Vec<String>,
    },

    /// A column has a type that cannot serve its role.
    #[error("the {role} column `{column}` has type {found}; expected {expected}")]
    WrongType {
        /// What the column is for: `timestamp`, `value` or `series`.
        role: &'static str,
        /// The column's name.
        column: String,
        /// Its Arrow type.
        found: String,
        /// What would do.
        expected: &'static str,
    },

    /// Series columns could not be keyed, decoded or formatted.
    #[error("{context}: {cause}")]
    SeriesKeys {
        /// What was being done.
        context: &'static str,
        /// Arrow's error.
        cause: arrow::error::ArrowError,
    },

    /// An output file could not be written, synced or renamed into place.
    #[error("cannot write `{}`: {cause}", path.display())]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// The operating system's error.
        cause: std::io::Error,
    },

    /// No temporary file could be made beside an output file.
    #[error(
        "cannot create a temporary file in `{}` to write `{}`: {cause}",
        dir.display(),
        path.display()
    )]
    TemporaryFile {
        /// The directory.
        dir: std::path::PathBuf,
        /// The output file.
        path: std::path::PathBuf,
        /// The operating system's error.
        cause: std::io::Error,
    },

    /// Neither a value column nor any numeric column to treat as one series each.
    #[error(
        "no value column: expected a column named `value` (long layout; or name one with \
         --value-column) or numeric columns, one per series (wide layout); columns found: {}",
        quoted_list(found)
    )]
    NoValueColumn {
        /// The columns with their types, as `name: type`.
        found: Vec<String>,
    },

    /// The query returned no rows.
    #[error("the input has no rows{}", if *with_sql { " after the SQL query" } else { "" })]
    EmptyResult {
        /// Whether a `--sql` query ran (an empty result then often means a filter matched nothing).
        with_sql: bool,
    },
}

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn quoted_list(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_owned();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
