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

/// The load generators of `omen bench`.
#[derive(Debug, Subcommand)]
pub(crate) enum BenchCommand {
    /// Send remote-write traffic to a receiver (Omen, or Prometheus started with
    /// --web.enable-remote-write-receiver) and print samples/s and latency percentiles.
    RemoteWrite(BenchRemoteWriteArgs),
    /// Time the alert path: from an anomalous sample's request to its webhook, for a server
    /// run with benches/config/alert-latency.toml.
    AlertLatency(BenchAlertLatencyArgs),
}

/// Arguments of `omen bench alert-latency`.
#[derive(Debug, Args)]
pub(crate) struct BenchAlertLatencyArgs {
    /// The server's remote-write URL.
    #[arg(long, value_name = "URL")]
    pub(crate) url: String,

    /// Where to listen for the webhooks (the channel `probe` of the configuration).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9399")]
    pub(crate) hook_listen: std::net::SocketAddr,

    /// How many probes (alerts) to time.
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub(crate) probes: usize,
}

/// Arguments of `omen bench remote-write`.
#[derive(Debug, Args)]
#[command(after_help = "\
Every series gets one sample per round, at 15-second steps of event time, in round order, like
a Prometheus scraping every target at once. Values follow a daily cycle with noise, and a few
series carry counters, so that the receiver does the work it does for real traffic. Each
request holds --batch-series series with --batch-samples samples each, as Prometheus batches
them. A 429 or 5xx answer is retried after its Retry-After and counted.")]
pub(crate) struct BenchRemoteWriteArgs {
    /// The receiver's remote-write URL.
    #[arg(long, value_name = "URL")]
    pub(crate) url: String,

    /// How many series.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub(crate) series: usize,

    /// Samples per series.
    #[arg(long, value_name = "M", default_value_t = 100)]
    pub(crate) samples_per_series: usize,

    /// Requests in flight at once.
    #[arg(long, value_name = "C", default_value_t = 4)]
    pub(crate) concurrency: usize,

    /// The protocol: 1 (prometheus.WriteRequest) or 2 (io.prometheus.write.v2.Request).
    #[arg(long, value_name = "1|2", default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub(crate) protocol: u8,

    /// Series per request.
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub(crate) batch_series: usize,

    /// Samples per series in one request.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub(crate) batch_samples: usize,

    /// Send at most this many samples per second (0: as fast as the receiver takes them), to
    /// measure latency at a given load.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(crate) rate: u64,

    /// A bearer token to send.
    #[arg(long, value_name = "TOKEN")]
    pub(crate) bearer_token: Option<String>,

    /// Noise without any period. The default noise repeats every 1,000 samples, and Omen
    /// finds a short season in it after about 265 samples, which ends each series' season
    /// search; with this one series keep searching, as series without a season do for
    /// detector.season_search_ms: the most memory a series takes.
    #[arg(long)]
    pub(crate) aperiodic_noise: bool,
}

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

/// The benchmarks `omen eval` knows.
#[derive(Debug, Subcommand)]
pub(crate) enum EvalCommand {
    /// Run a fresh default detector over every file of the NAB corpus and score the results as
    /// NAB's scoreboard does, next to the published scoreboard.
    Nab(EvalNabArgs),
    /// Score the engine's own verdicts against the labels of any point-labelled Parquet or
    /// CSV file in the long layout: point-wise and delay-k event precision, recall and F1.
    Labelled(EvalLabelledArgs),
    /// Count the alerts Omen's default alert rule sends on the NAB corpus, outside and inside
    /// the labelled windows, beside a static mean ± k·sd threshold lowered until it catches as
    /// many windows.
    Alerts(EvalAlertsArgs),
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

/// Arguments of `omen eval labelled`.
#[derive(Debug, Args)]
#[command(after_help = "\
Input: one Parquet or CSV file (by extension) in the long layout: a timestamp, a value, the
label (boolean, or an integer or 0/1 text where non-zero is anomalous) and the series columns.
Parquet is read as `omen analyze` reads it; in CSV, the timestamp may be RFC 3339,
`YYYY-MM-DD HH:MM:SS`, or epoch seconds or milliseconds, and every column other than the
timestamp, value and label names the series unless --series-column says which.

Each series is replayed in time order through a fresh detector, as `omen analyze` does, and its
verdicts (warm and score >= the threshold) are compared with the labels, pooled over series:
  point-wise   every flagged point is a TP or FP, every missed labelled point a FN;
  event        (AIOps Challenge 2018) a labelled segment is caught when any of its first K+1
               points is flagged, and then all its points are TPs; otherwise all are FNs;
               flags outside segments are FPs.
The best F1 over every threshold on the score is printed too, marked as an upper bound: it is
tuned on the labels, so it is what a perfectly tuned threshold would reach, not what the engine
does out of the box.")]
pub(crate) struct EvalLabelledArgs {
    /// The labelled file: FILE.parquet or FILE.csv.
    #[arg(long, short, value_name = "FILE")]
    pub(crate) input: String,

    /// The column that marks anomalous points.
    #[arg(long, value_name = "COL")]
    pub(crate) label_column: String,

    /// A column that identifies a series; repeat for several. Default: in Parquet, every
    /// string, dictionary, map or struct column; in CSV, every other column.
    #[arg(long = "series-column", value_name = "COL")]
    pub(crate) series_columns: Vec<String>,

    /// The timestamp column, when it is not `timestamp`, `ts` or `time`.
    #[arg(long, value_name = "COL")]
    pub(crate) timestamp_column: Option<String>,

    /// The value column, when it is not `value`.
    #[arg(long, value_name = "COL")]
    pub(crate) value_column: Option<String>,

    /// K: how many points after a segment starts a detection still counts (AIOps 2018 used 7
    /// for minute data).
    #[arg(long, value_name = "K", default_value_t = 7)]
    pub(crate) delay: usize,

    /// Also write the figures as JSON to this file (atomically).
    #[arg(long, value_name = "FILE")]
    pub(crate) json: Option<PathBuf>,

    /// A TOML file with [detector] and [verdict] settings. Default: the built-in settings.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
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

/// Arguments of `omen eval alerts`.
#[derive(Debug, Args)]
#[command(after_help = "\
Omen: a fresh default detector per file and the default alert rule ([[alert.rules]] with every
setting at its default); each time an alert starts firing is one alert. Static: mean ± k standard
deviations learned on each file's first 15 % of rows, through the same alert lifecycle. Both are
judged after the first 15 %: an alert starting outside every labelled window is a false alert, a
window with an alert starting inside it is caught. k starts at 3 and is lowered by 0.01 until the
static threshold catches at least as many windows as Omen.")]
pub(crate) struct EvalAlertsArgs {
    /// The NAB corpus (the directory holding data/ and labels/). Default:
    /// ../shared/datasets/nab, when it exists.
    #[arg(long, value_name = "DIR")]
    pub(crate) data: Option<PathBuf>,

    /// Also write both tallies as JSON to this file (atomically): for each of `omen` and
    /// `static`, `false_alerts`, `windows_caught` and `windows_total`.
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
