//! What a batch run is asked to do: the inputs, where the outputs go, and the detector, verdict
//! and alert settings to score with.

use std::path::PathBuf;
use std::sync::Arc;

use omen_alert::CompiledAlerts;
use omen_detect::EnsembleConfig;
use omen_engine::VerdictConfig;
use omen_ingest::TableOptions;

/// The settings of one [`analyze`](crate::analyze) run.
#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    /// Parquet files, directories or glob patterns to read.
    pub inputs: Vec<String>,
    /// A SQL query over the table `metrics` to read instead of the whole input.
    pub sql: Option<String>,
    /// Which columns hold the timestamp, the value and the series labels.
    pub table: TableOptions,
    /// The directory of `scores.parquet`, `anomalies.parquet` and `alerts.parquet`.
    pub output: PathBuf,
    /// Where to write the HTML report, if anywhere.
    pub report: Option<PathBuf>,
    /// Series listed in the printed summary (and charted in the report).
    pub top: usize,
    /// The detectors every series is scored with.
    pub detector: EnsembleConfig,
    /// How scores become verdicts.
    pub verdict: VerdictConfig,
    /// Alert rules run on every scored sample; their episodes go to `alerts.parquet`.
    pub alerts: Option<Arc<CompiledAlerts>>,
}
