//! Arguments of the batch commands: `omen analyze`, `omen sql`, `omen detect`, `omen datasets`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// The data sets `omen datasets` makes.
#[derive(Debug, Subcommand)]
pub(crate) enum DatasetsCommand {
    /// Write a labelled metrics history of an online shop as Parquet (long layout).
    Generate(GenerateArgs),
}

/// Arguments of `omen datasets generate`.
#[derive(Debug, Args)]
#[command(after_help = "\
Writes DIR/metrics-NNNNN.parquet (up to 1,000 series per file) with the columns __name__,
instance, timestamp, value and label (true inside an injected incident), sorted by series then
time, and DIR/incidents.csv with one line per incident. Series cycle through seven metrics per
instance: orders per minute, conversion ratio, p95 latency, error ratio, and CPU, memory and
disk of the host; all have daily and weekly seasons, noise and trends. Incidents: spikes, level
shifts, slow memory leaks and disks filling up, about 1.5 per series per week, none in the
first fifth of the history. The same seed gives the same files.")]
pub(crate) struct GenerateArgs {
    /// The directory to write to (created if missing).
    #[arg(long, value_name = "DIR")]
    pub(crate) out: PathBuf,

    /// How many series.
    #[arg(long, value_name = "N", default_value_t = 28)]
    pub(crate) series: usize,

    /// Days of history.
    #[arg(long, value_name = "D", default_value_t = 14)]
    pub(crate) days: u32,

    /// Seconds between samples.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub(crate) step_seconds: u32,

    /// The random seed.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub(crate) seed: u64,
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

/// Arguments of `omen analyze`.
#[derive(Debug, Args)]
#[command(after_help = "\
Layouts, found from the schema:
  long  a timestamp column, a `value` column, and the columns that name the series (by default
        every string, dictionary, map or struct column, such as `__name__` and label columns);
  wide  a timestamp column and one numeric column per series (no `value` column).
The timestamp column is `timestamp`, `ts` or `time`, or the only one of Arrow timestamp type;
it may be an Arrow timestamp of any unit or integer epoch milliseconds.

Rows are read in file order (files sorted by path). If a series goes back in time, the input is
read again sorted by series and time (DataFusion spills to disk past 1 GiB); duplicate
timestamps within a series are dropped and counted.

Output, written only when everything succeeded:
  DIR/scores.parquet     the series columns, timestamp, value, score, expected, lower, upper,
                         anomaly (score >= the verdict threshold, 0.5 by default, once warm)
  DIR/anomalies.parquet  one row per anomalous interval: series columns, start, end, peak score,
                         expected vs actual at the peak and which model said what
and a summary with the most anomalous series on stdout. With --report, an HTML page (one file,
no external resources) charts the top series.

Examples:
  omen analyze --input datasets/demo/*.parquet --output out/
  omen analyze --input 'history/*.parquet' --output out/ \\
      --sql \"SELECT * FROM metrics WHERE __name__ = 'http_request_duration_p95'\"")]
pub(crate) struct AnalyzeArgs {
    /// Parquet files, globs or directories (a directory means its *.parquet files).
    #[arg(long, short, value_name = "PATH_OR_GLOB", num_args = 1.., required = true)]
    pub(crate) input: Vec<String>,

    /// The directory to write scores.parquet and anomalies.parquet to (created if missing).
    #[arg(long, short, value_name = "DIR")]
    pub(crate) output: PathBuf,

    /// A SQL query over the table `metrics` (the input files) that selects or derives the
    /// series to analyse. Default: everything.
    #[arg(long, value_name = "QUERY")]
    pub(crate) sql: Option<String>,

    /// A TOML file with [detector] and [verdict] settings. Default: the built-in settings.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,

    /// The timestamp column, when it is not `timestamp`, `ts` or `time`.
    #[arg(long, value_name = "NAME")]
    pub(crate) timestamp_column: Option<String>,

    /// The value column (long layout), when it is not `value`.
    #[arg(long, value_name = "NAME")]
    pub(crate) value_column: Option<String>,

    /// A column that identifies a series; repeat for several. Default: every string,
    /// dictionary, map or struct column.
    #[arg(long = "series-column", value_name = "NAME")]
    pub(crate) series_columns: Vec<String>,

    /// How many of the most anomalous series the summary lists (and the report charts).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub(crate) top: usize,

    /// Also write an HTML page with a chart of each top series: value, normal band, expected
    /// value, anomalies, and a table of the intervals with their explanations.
    #[arg(long, value_name = "FILE.html")]
    pub(crate) report: Option<PathBuf>,
}

/// Arguments of `omen sql`.
#[derive(Debug, Args)]
#[command(after_help = "\
The input files are the table `metrics`. Omen's window functions, each taking the value and
optionally the timestamp (without it, the window's ORDER BY column is the timestamp):
  omen_score(value)     the anomaly score in [0, 1]
  omen_expected(value)  the expected value
  omen_lower(value)     the lower edge of the normal band
  omen_upper(value)     the upper edge of the normal band
  omen_anomaly(value)   the verdict: warm and at or above the threshold (0.5 by default)
Each window partition is one series, scored by a fresh detector from its oldest row, exactly as
`omen analyze` scores it. A row gets NULL when its value or timestamp is NULL, its value is not
finite or its timestamp repeats the previous row's.

Examples (the query first: --input takes every path after it):
  omen sql \\
    \"SELECT __name__, instance, timestamp, value, omen_score(value) OVER w AS score
     FROM metrics WINDOW w AS (PARTITION BY __name__, instance ORDER BY timestamp)
     ORDER BY score DESC LIMIT 10\" \\
    --input 'datasets/demo/shop/*.parquet'
  omen sql --output anomalies.parquet \\
    \"SELECT * FROM (SELECT *, omen_anomaly(value) OVER (PARTITION BY __name__, instance
     ORDER BY timestamp) AS anomaly FROM metrics) WHERE anomaly\" \\
    --input history/")]
pub(crate) struct SqlArgs {
    /// The query, over the table `metrics`.
    #[arg(value_name = "QUERY")]
    pub(crate) query: String,

    /// Parquet files, globs or directories (a directory means its *.parquet files).
    #[arg(long, short, value_name = "PATH_OR_GLOB", num_args = 1.., required = true)]
    pub(crate) input: Vec<String>,

    /// Also write every row of the result to this file: FILE.parquet or FILE.csv (atomically).
    #[arg(long, short, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,

    /// How many rows to print as a table on stdout (0: none).
    #[arg(long, value_name = "N", default_value_t = 40)]
    pub(crate) max_rows: usize,

    /// A TOML file with [detector] and [verdict] settings. Default: the built-in settings.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
}
