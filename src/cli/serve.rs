//! Arguments of `omen serve`, `omen check-config` and `omen alerts`: the live side.

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// What `omen alerts` does.
#[derive(Debug, Subcommand)]
pub(crate) enum AlertsCommand {
    /// Write the alert events (and optionally the feedback) of `omen serve`'s data directory to
    /// Parquet.
    Export(AlertsExportArgs),
}

/// Arguments of `omen alerts export`.
#[derive(Debug, Args)]
pub(crate) struct AlertsExportArgs {
    /// `omen serve`'s data directory (holding `alerts.db`).
    #[arg(long, value_name = "DIR", default_value = "omen-data")]
    pub(crate) data_dir: PathBuf,

    /// Where to write the alert events, one row each, oldest first.
    #[arg(long, value_name = "FILE.parquet")]
    pub(crate) events: PathBuf,

    /// Where to write the feedback, one row each, oldest first.
    #[arg(long, value_name = "FILE.parquet")]
    pub(crate) feedback: Option<PathBuf>,
}

/// Arguments of `omen serve`.
#[derive(Debug, Args)]
#[command(after_help = "\
Endpoints: POST /api/v1/write (remote-write 1.0 and 2.0), GET /metrics (Omen's own metrics and,
per modelled series, omen_anomaly_score, omen_expected, omen_lower and omen_upper with the
series' labels), GET /api/v1/series?match[]=SELECTOR and /api/v1/series/state?match[]=SELECTOR
(JSON), GET /-/healthy and /-/ready.

Point Prometheus at it with:

  remote_write:
    - url: http://127.0.0.1:9310/api/v1/write

SIGTERM or SIGINT stops it cleanly: it stops accepting, scores what is queued, and writes a
snapshot of every series' learned state to the data directory, which the next start restores.")]
pub(crate) struct ServeArgs {
    /// The configuration file (TOML); the defaults without one.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,

    /// The address to listen on [default: 127.0.0.1:9310, or server.listen].
    #[arg(long, value_name = "ADDR")]
    pub(crate) listen: Option<std::net::SocketAddr>,

    /// Where snapshots are kept [default: ./omen-data, or server.data_dir].
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
}

/// Arguments of `omen check-config`.
#[derive(Debug, Args)]
pub(crate) struct CheckConfigArgs {
    /// The configuration file to check.
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
}
