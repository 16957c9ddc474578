#![doc = include_str!("../README.md")]

pub mod alerts;
mod error;
pub mod labelled;
pub mod nab;

use std::path::PathBuf;

use omen_detect::EnsembleConfig;
use omen_engine::VerdictConfig;

pub use error::{Error, Result};

/// What `omen eval nab` runs on and writes.
#[derive(Debug, Clone)]
pub struct NabOptions {
    /// The corpus directory; `../shared/datasets/nab` when it exists, if not given.
    pub data: Option<PathBuf>,
    /// Where each data file's scores are written, under its relative path.
    pub out: PathBuf,
    /// Where the report's numbers go as JSON, if anywhere.
    pub json: Option<PathBuf>,
}

/// What `omen eval alerts` runs on and writes.
#[derive(Debug, Clone)]
pub struct AlertsOptions {
    /// The corpus directory, as for [`NabOptions::data`].
    pub data: Option<PathBuf>,
    /// Where the comparison's numbers go as JSON, if anywhere.
    pub json: Option<PathBuf>,
}

/// What `omen eval labelled` reads, and the detector it runs.
#[derive(Debug, Clone)]
pub struct LabelledOptions {
    /// A Parquet or CSV file with a label column.
    pub input: String,
    /// The column that is true (or 1) on anomalous rows.
    pub label_column: String,
    /// The columns that name a series; none: every column that is not the timestamp, the
    /// value or the label.
    pub series_columns: Vec<String>,
    /// The timestamp column, when it is not found by name.
    pub timestamp_column: Option<String>,
    /// The value column, when it is not `value`.
    pub value_column: Option<String>,
    /// The event F1's delay: an event counts as caught when flagged within this many samples
    /// of its start.
    pub delay: usize,
    /// Where the report's numbers go as JSON, if anywhere.
    pub json: Option<PathBuf>,
    /// The detector's settings.
    pub detector: EnsembleConfig,
    /// How scores become verdicts.
    pub verdict: VerdictConfig,
}
