//! The command line, as clap definitions: one variant of [`Command`] per subcommand, each with
//! its own arguments struct. Adding a subcommand is a variant here and a module in `cmd/`.

mod batch;
mod bench;
mod eval;
mod serve;

use clap::{Parser, Subcommand};

pub(crate) use batch::{AnalyzeArgs, DatasetsCommand, DetectArgs, GenerateArgs, SqlArgs};
pub(crate) use bench::{BenchAlertLatencyArgs, BenchCommand, BenchRemoteWriteArgs};
pub(crate) use eval::{EvalAlertsArgs, EvalCommand, EvalLabelledArgs, EvalNabArgs};
pub(crate) use serve::{AlertsCommand, AlertsExportArgs, CheckConfigArgs, ServeArgs};

/// Omen: anomaly detection for Prometheus-style metrics, with a learned baseline per series.
#[derive(Debug, Parser)]
#[command(name = "omen", version, propagate_version = true)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Score every row of a CSV series with the default detector and write the scores as CSV.
    Detect(DetectArgs),
    /// Analyse historical metrics in Parquet (through DataFusion SQL): scores, verdicts and
    /// anomaly intervals for every series, written as Parquet.
    Analyze(AnalyzeArgs),
    /// Run SQL over Parquet metrics, with Omen's detectors as window functions
    /// (`omen_score(value) OVER (PARTITION BY series ORDER BY ts)`).
    Sql(SqlArgs),
    /// Evaluate the detector: on the NAB corpus, or on any labelled Parquet or CSV file.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Make data sets to try Omen on.
    #[command(subcommand)]
    Datasets(DatasetsCommand),
    /// Receive Prometheus remote-write and detect anomalies live; serve the scores as metrics.
    Serve(ServeArgs),
    /// Check a configuration file: every key known, every value in range. Names the bad key
    /// and its line.
    CheckConfig(CheckConfigArgs),
    /// Load generators.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// The alert history of `omen serve`.
    #[command(subcommand)]
    Alerts(AlertsCommand),
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn clap_definitions_are_consistent() {
        Cli::command().debug_assert();
    }
}
