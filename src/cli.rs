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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn clap_definitions_are_consistent() {
        Cli::command().debug_assert();
    }
}
