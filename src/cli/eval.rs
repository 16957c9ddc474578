//! Arguments of `omen eval`: the evaluations.

use std::path::PathBuf;

use clap::{Args, Subcommand};

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
