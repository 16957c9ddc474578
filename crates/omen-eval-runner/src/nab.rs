//! `omen eval nab [--data DIR] [--out DIR] [--json FILE]`: the default detector on the NAB
//! corpus, scored exactly as NAB scores its scoreboard (docs/nab-scoring.md).
//!
//! 1. Load the windows (`labels/combined_windows.json`) and the published scoreboard
//!    (`results/final_results.json`) first, so that a bad corpus fails before minutes of work.
//! 2. Run a fresh default detector over each listed data file, causally, row by row, in file
//!    order, and pass its scores through the escalation gate that alerting uses
//!    ([`EscalationGate`]: a repeat of an alarm within the same episode scores 0), since NAB
//!    scores alerts: a window is caught by its first detection and every further row flagged
//!    outside a window is one more false positive. Files are independent, so they are spread
//!    over the available cores (largest first, so that one big file does not finish alone at
//!    the end); the results keep the windows file's order whatever the scheduling. Each file's scores are written atomically to
//!    `OUT/<same relative path>` as `timestamp,value,anomaly_score`.
//! 3. Score the corpus under NAB's three profiles, with the threshold tuned on the corpus (§6,
//!    what the scoreboard reports) and at the fixed threshold 0.5 (§12: the detector's own
//!    alert threshold, where the score equals the target risk), and report (`report.rs`).
//!    The raw per-sample scores, without the gate, are scored too and reported beside, so the
//!    gate's share of the result is visible.
//!
//! Memory: the timestamps and scores of the whole corpus (about 365,000 rows, ~20 MB), which
//! the threshold sweep needs at once.

mod report;

use std::fs;
use std::io::{self, BufWriter, Write};
use std::num::NonZero;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Instant;

use omen_core::Detector;
use omen_detect::{Ensemble, EscalationGate};
use omen_eval::nab::{
    FileScores, Profile, Windows, load_scoreboard, score_corpus, score_corpus_at_threshold,
};
use omen_ingest::{CsvOptions, CsvReader};

use self::report::Report;
use crate::NabOptions;
use crate::error::{Context, Result, bail};
use omen_ingest::write_atomically;

/// Where the corpus is looked for when `--data` is not given, relative to the current directory.
const DEFAULT_DATA: &str = "../shared/datasets/nab";
/// The windows file, relative to the corpus directory.
pub(crate) const WINDOWS_FILE: &str = "labels/combined_windows.json";
/// The published scoreboard, relative to the corpus directory.
const SCOREBOARD_FILE: &str = "results/final_results.json";
/// The data files' directory, relative to the corpus directory.
pub(crate) const DATA_SUBDIR: &str = "data";
/// The columns of each result file.
const HEADER: [&str; 3] = ["timestamp", "value", "anomaly_score"];
/// The detector's default alert threshold: a score of 0.5 means the tail probability equals
/// the configured target risk (`EnsembleConfig::target_risk`).
const FIXED_THRESHOLD: f64 = 0.5;

/// Run `omen eval nab`.
pub fn run(args: &NabOptions) -> Result<()> {
    let data = corpus_dir(args.data.as_deref())?;
    let windows_path = data.join(WINDOWS_FILE);
    let windows = Windows::load(&windows_path)?;
    let scoreboard = load_scoreboard(&data.join(SCOREBOARD_FILE))?;
    let files = listed_files(&windows, &windows_path)?;

    if let Some(dir) = args.json.as_deref().and_then(Path::parent) {
        // Now rather than after the detection: a bad --json path fails in a second.
        create_dir(dir)?;
    }

    let started = Instant::now();
    let threads = thread::available_parallelism()
        .map_or(1, NonZero::get)
        .min(files.len());
    let detected = detect_all(&data, &args.out, &files, threads)?;
    let detect_time = started.elapsed();
    let (mut scored, raw_scores): (Vec<FileScores>, Vec<Vec<f64>>) =
        detected.into_iter().map(|d| (d.gated, d.raw)).unzip();

    let started = Instant::now();
    let profiles = Profile::standard_set();
    let swept = score_corpus(&scored, &windows, &profiles)?;
    let fixed = score_corpus_at_threshold(&scored, &windows, &profiles, FIXED_THRESHOLD)?;
    let score_time = started.elapsed();
    // The raw scores take the gated ones' place, so the timestamps are not copied.
    for (file, raw) in scored.iter_mut().zip(raw_scores) {
        file.scores = raw;
    }
    let swept_ungated = score_corpus(&scored, &windows, &profiles)?;

    let report = Report {
        data: &data,
        out: &args.out,
        files: scored.len(),
        rows: scored.iter().map(|f| f.scores.len()).sum(),
        threads,
        detect_time,
        score_time,
        swept: &swept,
        fixed: &fixed,
        swept_ungated: &swept_ungated,
        scoreboard: &scoreboard,
    };
    if let Some(json) = &args.json {
        write_json(json, &report)?;
    }
    let mut stdout = io::stdout().lock();
    match write!(stdout, "{report}").and_then(|()| stdout.flush()) {
        // The reader of the report has gone (`| head`); the files are written.
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        result => result.context("cannot write the report to stdout"),
    }
}

/// The data files the windows file lists, each checked to stay inside the corpus; an error
/// when it lists none.
pub(crate) fn listed_files<'a>(windows: &'a Windows, windows_path: &Path) -> Result<Vec<&'a str>> {
    let files: Vec<&str> = windows.files().collect();
    if files.is_empty() {
        bail!("`{}` lists no data files", windows_path.display());
    }
    for file in &files {
        check_relative(file)
            .with_context(|| format!("`{}` lists `{file}`", windows_path.display()))?;
    }
    Ok(files)
}

/// The corpus directory: `--data` if given, else [`DEFAULT_DATA`] if it exists.
pub(crate) fn corpus_dir(data: Option<&Path>) -> Result<PathBuf> {
    match data {
        Some(dir) if dir.is_dir() => Ok(dir.to_owned()),
        Some(dir) => bail!(
            "the NAB corpus directory `{}` does not exist or is not a directory",
            dir.display()
        ),
        None if Path::new(DEFAULT_DATA).is_dir() => Ok(PathBuf::from(DEFAULT_DATA)),
        None => {
            let cwd = std::env::current_dir().unwrap_or_default();
            bail!(
                "no NAB corpus at `{DEFAULT_DATA}` (relative to `{}`); pass --data DIR, the \
                 directory holding data/, labels/ and results/",
                cwd.display()
            )
        }
    }
}

/// Refuses a listed file that would read or write outside the corpus and output directories.
fn check_relative(file: &str) -> Result<()> {
    let path = Path::new(file);
    let plain = path
        .components()
        .all(|part| matches!(part, Component::Normal(_)));
    if !plain || file.is_empty() {
        bail!("which is not a relative path of plain names such as `realKnownCause/nyc_taxi.csv`");
    }
    Ok(())
}

/// Runs [`detect_file`] on every file on `threads` threads; results in the order of `files`.
fn detect_all(data: &Path, out: &Path, files: &[&str], threads: usize) -> Result<Vec<Detected>> {
    each_file_in_parallel(data, files, threads, |file| {
        detect_file(&data.join(DATA_SUBDIR).join(file), out, file)
    })
}

/// Runs `job` on every listed file of the corpus at `data` on `threads` threads, largest file
/// first (a good schedule for independent jobs of uneven size); results in the order of
/// `files`. After a failure no new file is started, and the error of the first failed file
/// (in the order of `files`) is returned.
pub(crate) fn each_file_in_parallel<T: Send>(
    data: &Path,
    files: &[&str],
    threads: usize,
    job: impl Fn(&str) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let input = |file: &str| data.join(DATA_SUBDIR).join(file);
    let mut order: Vec<usize> = (0..files.len()).collect();
    let size = |i: &usize| fs::metadata(input(files[*i])).map_or(0, |m| m.len());
    order.sort_by_cached_key(|i| std::cmp::Reverse(size(i)));

    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let mut results: Vec<Option<Result<T>>> = files.iter().map(|_| None).collect();
    thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    while !failed.load(Ordering::Relaxed) {
                        let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) else {
                            break;
                        };
                        let result = job(files[i]);
                        failed.fetch_or(result.is_err(), Ordering::Relaxed);
                        done.push((i, result));
                    }
                    done
                })
            })
            .collect();
        for worker in workers {
            let done = worker
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            for (i, result) in done {
                results[i] = Some(result);
            }
        }
    });
    // Files never started (after a failure) are `None` and skipped; the first error wins.
    results.into_iter().flatten().collect()
}

/// One file's scores through the escalation gate (what is written and scored), and its raw
/// scores, row for row.
struct Detected {
    gated: FileScores,
    raw: Vec<f64>,
}

/// Scores one data file with a fresh default detector and its escalation gate, and writes
/// `out/<file>` (the gated scores) atomically.
fn detect_file(input: &Path, out: &Path, file: &str) -> Result<Detected> {
    let reader = CsvReader::open(input, &CsvOptions::default())?;
    let output = out.join(file);
    if let Some(dir) = output.parent() {
        create_dir(dir)?;
    }
    let cannot_write = || format!("cannot write `{}`", output.display());
    let mut detector = Ensemble::default();
    let mut gate = EscalationGate::default();
    write_atomically(&output, |sink| -> Result<_> {
        let mut timestamps = Vec::new();
        let mut scores = Vec::new();
        let mut raw_scores = Vec::new();
        let mut writer = csv::Writer::from_writer(sink);
        writer.write_record(HEADER).with_context(cannot_write)?;
        for row in reader {
            let row = row?;
            let raw = nab_score(detector.update(row.sample).score);
            let score = gate.pass(raw);
            writer
                .write_record([&row.timestamp_text, &row.value_text, &score.to_string()])
                .with_context(cannot_write)?;
            timestamps.push(row.timestamp_text);
            scores.push(score);
            raw_scores.push(raw);
        }
        writer.flush().with_context(cannot_write)?;
        Ok(Detected {
            gated: FileScores {
                path: file.to_owned(),
                timestamps,
                scores,
            },
            raw: raw_scores,
        })
    })
}

/// Creates `dir` and its parents, if missing.
fn create_dir(dir: &Path) -> Result<()> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the directory `{}`", dir.display()))
}

/// The score NAB gets: the detector's score in [0, 1], with "no opinion" (NaN) as 0.
fn nab_score(score: f64) -> f64 {
    if score.is_nan() {
        0.0
    } else {
        score.clamp(0.0, 1.0)
    }
}

/// Writes the report's numbers as JSON, atomically.
fn write_json(path: &Path, report: &Report<'_>) -> Result<()> {
    let json = report.to_json();
    write_atomically(path, |file| -> Result<_> {
        let mut writer = BufWriter::new(file);
        let written: Result<()> = (|| {
            serde_json::to_writer_pretty(&mut writer, &json)?;
            writeln!(writer)?;
            Ok(writer.flush()?)
        })();
        written.with_context(|| format!("cannot write `{}`", path.display()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (listed file, accepted).
    const LISTED_FILES: &[(&str, bool)] = &[
        ("realKnownCause/nyc_taxi.csv", true),
        ("nyc_taxi.csv", true),
        ("", false),
        ("/etc/passwd", false),
        ("../x.csv", false),
        ("realKnownCause/../../x.csv", false),
        ("./x.csv", false),
    ];

    #[test]
    fn listed_files_must_stay_inside_the_corpus() {
        for &(file, accepted) in LISTED_FILES {
            assert_eq!(check_relative(file).is_ok(), accepted, "{file:?}");
        }
    }

    #[test]
    fn nab_scores_are_in_the_unit_interval() {
        let cases = [(f64::NAN, 0.0), (-0.1, 0.0), (0.25, 0.25), (1.5, 1.0)];
        for (score, want) in cases {
            assert_eq!(nab_score(score), want, "{score}");
        }
    }

    #[test]
    fn a_missing_data_directory_is_named() {
        let err = corpus_dir(Some(Path::new("/no/such/nab"))).unwrap_err();
        assert!(err.to_string().contains("`/no/such/nab`"), "{err}");
    }
}
