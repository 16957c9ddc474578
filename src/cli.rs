//! The command line, as clap definitions: one variant of [`Command`] per subcommand, each with
//! its own arguments struct. Adding a subcommand is a variant here and a module in `cmd/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
    /// Evaluate the default detector on a benchmark corpus.
    #[command(subcommand)]
    Eval(EvalCommand),
}

/// The benchmarks `omen eval` knows.
#[derive(Debug, Subcommand)]
pub(crate) enum EvalCommand {
    /// Run a fresh default detector over every file of the NAB corpus and score the results as
    /// NAB's scoreboard does, next to the published scoreboard.
    Nab(EvalNabArgs),
}

/// Arguments of `omen detect`.
#[derive(Debug, Args)]
#[command(after_help = "\
Input: a CSV file with a header line; timestamps as `YYYY-MM-DD HH:MM:SS[.fff]`, RFC 3339, or
Unix epoch seconds (milliseconds when the number is at least 1e11). NaN, inf and empty values are
skipped and counted, not errors.

Output columns: timestamp,value,anomaly_score,expected,lower,upper,status, one line per input
row, with the timestamp and value as in the input. Status is warming_up, ready,
skipped_not_finite or skipped_out_of_order. A summary goes to stderr.")]
pub(crate) struct DetectArgs {
    /// The CSV file to read.
    #[arg(value_name = "FILE.csv")]
    pub(crate) file: PathBuf,

    /// Write the results to this file (atomically: all or nothing) instead of stdout.
    #[arg(long, short, value_name = "OUT.csv")]
    pub(crate) out: Option<PathBuf>,

    /// The name of the timestamp column (matched ignoring case).
    #[arg(long, value_name = "NAME", default_value = "timestamp")]
    pub(crate) timestamp_column: String,

    /// The name of the value column (matched ignoring case).
    #[arg(long, value_name = "NAME", default_value = "value")]
    pub(crate) value_column: String,
}

/// Arguments of `omen eval nab`.
#[derive(Debug, Args)]
#[command(after_help = "\
Reads DIR/labels/combined_windows.json, runs a fresh default detector over each data file it
lists (DIR/data/<file>, row by row, in order; files in parallel), passes its scores through the
escalation gate that alerting uses (a repeat within the same episode scores 0, since NAB scores
alerts), and writes one CSV per file to OUT/<file> with columns timestamp,value,anomaly_score.
Then scores all files under NAB's three profiles, once with the threshold tuned on the corpus (as
NAB's scoreboard does) and once at the fixed threshold 0.5 (the detector's own alert threshold),
scores the raw ungated scores for comparison, and prints the results next to the published
scoreboard in DIR/results/final_results.json.")]
pub(crate) struct EvalNabArgs {
    /// The NAB corpus (the directory holding data/, labels/ and results/). Default:
    /// ../shared/datasets/nab, when it exists.
    #[arg(long, value_name = "DIR")]
    pub(crate) data: Option<PathBuf>,

    /// Where to write the per-file result CSVs, at the same relative paths as the data files.
    #[arg(long, value_name = "DIR", default_value = "out/nab")]
    pub(crate) out: PathBuf,

    /// Also write the scores, tallies and timings as JSON to this file (atomically).
    #[arg(long, value_name = "FILE")]
    pub(crate) json: Option<PathBuf>,
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
