//! `omen eval alerts [--data DIR] [--json FILE]`: how many pages Omen's alert stage sends on
//! the NAB corpus, against a static threshold that catches as many incidents.
//!
//! For each file of the corpus:
//! - **Omen**: a fresh default detector scores every row in file order, and the default alert
//!   rule (`[[alert.rules]] name = "omen"`, every setting at its default) turns the scores into
//!   alerts; each `Firing` event is one alert.
//! - **Static**: mean ± k standard deviations, learned on the file's first 15 % of rows, the
//!   rule most hand-written Prometheus alerts amount to. A row outside the band breaches; the
//!   same alert lifecycle (same `keep_firing_for` and hysteresis) turns breaches into alerts,
//!   so both sides are grouped into episodes the same way.
//!
//! Both are judged from the 15 % mark on ([`AlertTally`]): an alert starting outside every
//! labelled window is a false alert, a window with an alert starting inside it is caught.
//! k starts at 3 and is lowered in steps of 0.01 until the static threshold catches at least
//! as many windows as Omen (the smallest change that does); its false alerts at that k are
//! what Omen is compared with.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::num::NonZero;
use std::path::Path;
use std::thread;
use std::time::Instant;

use omen_alert::{AlertConfig, CompiledAlerts, EventKind, Observation};
use omen_core::{Contributions, Detector, Labels, Score, Status};
use omen_detect::Ensemble;
use omen_eval::nab::{AlertTally, Windows, locate_windows};
use omen_ingest::{CsvOptions, CsvReader, write_atomically};
use serde_json::json;

use crate::AlertsOptions;
use crate::error::{Context, Result};
use crate::nab::{DATA_SUBDIR, WINDOWS_FILE, corpus_dir, each_file_in_parallel, listed_files};

/// The static threshold's starting multiplier and its step down.
const START_K: f64 = 3.0;
const STEP_K: f64 = 0.01;
/// The share of each file the static threshold is fitted on, and from which both are judged.
const FIT_FRACTION: f64 = 0.15;

/// One file, read and scored by Omen's detector.
struct Scored {
    windows: Vec<omen_eval::nab::RowWindow>,
    timestamps_ms: Vec<i64>,
    values: Vec<f64>,
    scores: Vec<Score>,
    /// First judged row: the end of the static threshold's fitting period.
    from_row: usize,
}

/// Run `omen eval alerts`.
pub fn run(args: &AlertsOptions) -> Result<()> {
    let data = corpus_dir(args.data.as_deref())?;
    let windows_path = data.join(WINDOWS_FILE);
    let windows = Windows::load(&windows_path)?;
    let files = listed_files(&windows, &windows_path)?;
    let rules = default_rules()?;
    let started = Instant::now();
    let threads = thread::available_parallelism()
        .map_or(1, NonZero::get)
        .min(files.len());
    let scored = each_file_in_parallel(&data, &files, threads, |file| {
        score_file(&data.join(DATA_SUBDIR).join(file), file, &windows)
    })?;
    let omen = scored
        .iter()
        .zip(&files)
        .map(|(s, file)| tally_omen(&rules, file, s))
        .fold(AlertTally::default(), std::ops::Add::add);
    let (k, fixed) = lower_until_caught(&rules, &files, &scored, omen.windows_caught);
    let (equal_k, equal) = raise_while_caught(&rules, &files, &scored, omen.windows_caught);
    let elapsed = started.elapsed();

    let report = render(
        &omen,
        (k, &fixed),
        (equal_k, &equal),
        files.len(),
        elapsed.as_secs_f64(),
    );
    if let Some(path) = &args.json {
        let value = json!({
            "omen": omen,
            "static": { "multiplier": k, "false_alerts": fixed.false_alerts,
                "windows_caught": fixed.windows_caught, "windows_total": fixed.windows_total,
                "true_alerts": fixed.true_alerts },
            "false_alert_ratio": ratio(fixed.false_alerts, omen.false_alerts),
            "static_equal_recall": { "multiplier": equal_k, "false_alerts": equal.false_alerts,
                "windows_caught": equal.windows_caught, "windows_total": equal.windows_total,
                "true_alerts": equal.true_alerts },
            "false_alert_ratio_equal_recall": ratio(equal.false_alerts, omen.false_alerts),
            "files": files.len(),
            "fit_fraction": FIT_FRACTION,
        });
        write_atomically(path, |file| -> Result<_> {
            let mut text = serde_json::to_string_pretty(&value)?;
            text.push('\n');
            file.write_all(text.as_bytes())
                .with_context(|| format!("cannot write `{}`", path.display()))
        })?;
    }
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(report.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        result => result.context("cannot write the report to stdout"),
    }
}

/// The default rule, as a user gets it from `[[alert.rules]] name = "omen"`.
fn default_rules() -> Result<CompiledAlerts> {
    let config: AlertConfig = toml::from_str("[[rules]]\nname = \"omen\"\n")?;
    Ok(config.validate()?)
}

/// Reads one file, locates its windows and scores every row with a fresh default detector.
fn score_file(input: &Path, file: &str, windows: &Windows) -> Result<Scored> {
    let reader = CsvReader::open(input, &CsvOptions::default())?;
    let mut detector = Ensemble::default();
    let (mut texts, mut timestamps_ms, mut values, mut scores) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for row in reader {
        let row = row?;
        scores.push(detector.update(row.sample));
        timestamps_ms.push(row.sample.timestamp_ms);
        values.push(row.sample.value);
        texts.push(row.timestamp_text);
    }
    let bounds = windows.get(file).unwrap_or_default();
    let windows = locate_windows(file, bounds, &texts)?;
    let from_row = (FIT_FRACTION * values.len() as f64).floor() as usize;
    Ok(Scored {
        windows,
        timestamps_ms,
        values,
        scores,
        from_row,
    })
}

/// The rows at which alerts started, for scores given row by row.
fn alert_rows(
    rules: &CompiledAlerts,
    file: &str,
    s: &Scored,
    score: impl Fn(usize) -> Score,
) -> Vec<usize> {
    let labels = Labels::from_pairs(&[
        ("__name__".to_owned(), "nab".to_owned()),
        ("file".to_owned(), file.to_owned()),
    ]);
    let mut series = rules.for_series(&labels);
    let mut events = Vec::new();
    let mut rows = Vec::new();
    for i in 0..s.values.len() {
        let score = score(i);
        let obs = Observation {
            labels: &labels,
            timestamp_ms: s.timestamps_ms[i],
            value: s.values[i],
            score: &score,
            season_period_ms: None,
            last_change_ms: None,
        };
        series.observe(rules, &obs, &mut events);
        rows.extend(
            events
                .drain(..)
                .filter(|e| e.kind == EventKind::Firing)
                .map(|_| i),
        );
    }
    rows
}

fn tally_omen(rules: &CompiledAlerts, file: &str, s: &Scored) -> AlertTally {
    let rows = alert_rows(rules, file, s, |i| s.scores[i]);
    AlertTally::count(&rows, &s.windows, s.from_row)
}

/// Mean and population standard deviation of the finite values of the fitting period.
fn fit(s: &Scored) -> (f64, f64) {
    let fitted: Vec<f64> = s.values[..s.from_row]
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let n = fitted.len().max(1) as f64;
    let mean = fitted.iter().sum::<f64>() / n;
    let var = fitted.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// The static threshold's alerts at multiplier `k`, summed over the corpus.
fn tally_static(rules: &CompiledAlerts, files: &[&str], scored: &[Scored], k: f64) -> AlertTally {
    files
        .iter()
        .zip(scored)
        .map(|(file, s)| {
            let (mean, sd) = fit(s);
            let (lower, upper) = (mean - k * sd, mean + k * sd);
            let rows = alert_rows(rules, file, s, |i| {
                let v = s.values[i];
                if !v.is_finite() {
                    return Score::unscored(Status::SkippedNotFinite);
                }
                let breach = v < lower || v > upper;
                Score {
                    score: if breach { 1.0 } else { 0.0 },
                    expected: mean,
                    lower,
                    upper,
                    status: Status::Ready,
                    contributions: Contributions::default(),
                }
            });
            AlertTally::count(&rows, &s.windows, s.from_row)
        })
        .fold(AlertTally::default(), std::ops::Add::add)
}

/// Lowers k from 3 until the static threshold catches at least `caught` windows; the k
/// reached and its tally (at k = 0.01 at the lowest, if even that does not catch enough).
fn lower_until_caught(
    rules: &CompiledAlerts,
    files: &[&str],
    scored: &[Scored],
    caught: u64,
) -> (f64, AlertTally) {
    let mut step = 0;
    loop {
        let k = START_K - STEP_K * f64::from(step);
        let tally = tally_static(rules, files, scored, k);
        if tally.windows_caught >= caught || k <= STEP_K * 1.5 {
            return ((k * 100.0).round() / 100.0, tally);
        }
        step += 1;
    }
}

/// When the static threshold at k = 3 already catches more windows than Omen, the lowering
/// above stops at once and compares at unequal recall. This is the other side: the largest k
/// (from 3 up, in steps of 0.05, up to 50) at which it still catches at least `caught`.
fn raise_while_caught(
    rules: &CompiledAlerts,
    files: &[&str],
    scored: &[Scored],
    caught: u64,
) -> (f64, AlertTally) {
    let mut best = (START_K, tally_static(rules, files, scored, START_K));
    if best.1.windows_caught < caught {
        return best;
    }
    for step in 1..=940 {
        let k = START_K + 0.05 * f64::from(step);
        let tally = tally_static(rules, files, scored, k);
        if tally.windows_caught < caught {
            break;
        }
        best = ((k * 100.0).round() / 100.0, tally);
    }
    best
}

/// How many times more false alerts the static threshold sends (null in JSON when Omen sent
/// none).
fn ratio(static_false: u64, omen_false: u64) -> Option<f64> {
    (omen_false > 0).then(|| static_false as f64 / omen_false as f64)
}

fn render(
    omen: &AlertTally,
    lowered: (f64, &AlertTally),
    equal: (f64, &AlertTally),
    files: usize,
    seconds: f64,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "NAB corpus, {files} files, judged after each file's first 15 % ({seconds:.1} s)\n"
    );
    let _ = writeln!(
        out,
        "{:<26} {:>12} {:>15} {:>12}",
        "", "false alerts", "windows caught", "true alerts"
    );
    let rows = [
        ("omen (default rule)".to_owned(), omen),
        (format!("static (mean ± {:.2} sd)", lowered.0), lowered.1),
        (format!("static, equal recall ({:.2})", equal.0), equal.1),
    ];
    for (name, t) in rows {
        let caught = format!("{} / {}", t.windows_caught, t.windows_total);
        let _ = writeln!(
            out,
            "{name:<26} {:>12} {caught:>15} {:>12}",
            t.false_alerts, t.true_alerts
        );
    }
    let _ = writeln!(out);
    for (what, t) in [
        (
            "k lowered from 3 until it catches as many windows",
            lowered.1,
        ),
        ("k raised from 3 while it catches as many windows", equal.1),
    ] {
        match ratio(t.false_alerts, omen.false_alerts) {
            Some(r) => {
                let _ = writeln!(out, "static, {what}: {r:.1} times Omen's false alerts");
            }
            None => {
                let _ = writeln!(
                    out,
                    "static, {what}: {} false alerts, Omen none",
                    t.false_alerts
                );
            }
        }
    }
    if lowered.1.windows_caught < omen.windows_caught {
        let _ = writeln!(
            out,
            "(even at k = {:.2} the static threshold catches fewer windows than Omen)",
            lowered.0
        );
    }
    if lowered.1.windows_caught > omen.windows_caught {
        let _ = writeln!(
            out,
            "(at k = 3 the static threshold already catches more windows than Omen: its recall is higher)"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_rule_is_valid() {
        let rules = default_rules().unwrap();
        assert_eq!(rules.rule_names().collect::<Vec<_>>(), ["omen"]);
    }

    /// A flat series with one labelled excursion: the static threshold catches it and sends no
    /// false alert; k is not lowered when nothing needs catching.
    #[test]
    fn static_threshold_on_a_clean_excursion() {
        let n = 400;
        let mut values: Vec<f64> = (0..n).map(|i| 10.0 + f64::from(i % 3)).collect();
        for v in &mut values[300..305] {
            *v = 100.0;
        }
        let s = Scored {
            windows: vec![omen_eval::nab::RowWindow {
                first: 295,
                last: 310,
            }],
            timestamps_ms: (0..n).map(|i| i64::from(i) * 300_000).collect(),
            values,
            scores: Vec::new(),
            from_row: 60,
        };
        let rules = default_rules().unwrap();
        let t = tally_static(&rules, &["f.csv"], std::slice::from_ref(&s), 3.0);
        assert_eq!(
            (t.false_alerts, t.windows_caught, t.windows_total),
            (0, 1, 1)
        );
        let (k, t) = lower_until_caught(&rules, &["f.csv"], std::slice::from_ref(&s), 1);
        assert_eq!((k, t.windows_caught), (3.0, 1));
        // Catching a second, impossible window lowers k to the floor and says so.
        let (k, _) = lower_until_caught(&rules, &["f.csv"], std::slice::from_ref(&s), 2);
        assert!(k <= 0.02, "{k}");
        let text = render(
            &AlertTally {
                windows_caught: 2,
                ..t
            },
            (k, &t),
            (k, &t),
            1,
            0.0,
        );
        assert!(text.contains("catches fewer windows"), "{text}");
    }

    #[test]
    fn a_missing_corpus_is_named() {
        let args = AlertsOptions {
            data: Some("/nonexistent/nab".into()),
            json: None,
        };
        let err = run(&args).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/nab"), "{err}");
    }
}
