//! What `omen eval nab` reports: a table on stdout and, with `--json`, the same numbers as JSON.
//!
//! The table has four parts: Omen's scores with the threshold tuned on the corpus (the number
//! NAB's scoreboard reports), Omen at the fixed threshold 0.5, Omen's raw scores without the
//! escalation gate (threshold tuned), and the published scoreboard with Omen's row inserted at
//! its rank by the standard profile's score.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use omen_eval::nab::{NO_DETECTION_THRESHOLD, ProfileResult, ScoreboardEntry};
use serde::{Serialize, Serializer};

use super::FIXED_THRESHOLD;

/// Everything a run of `omen eval nab` found.
#[derive(Debug)]
pub(super) struct Report<'a> {
    /// The corpus directory.
    pub(super) data: &'a Path,
    /// Where the result CSVs went.
    pub(super) out: &'a Path,
    /// Data files scored.
    pub(super) files: usize,
    /// Rows scored, over all files.
    pub(super) rows: usize,
    /// Threads the detection ran on.
    pub(super) threads: usize,
    /// Wall time of reading, detecting and writing the result files.
    pub(super) detect_time: Duration,
    /// Wall time of NAB scoring (all profiles, swept and fixed).
    pub(super) score_time: Duration,
    /// Results with the threshold tuned on the corpus, one per profile.
    pub(super) swept: &'a [ProfileResult],
    /// Results at [`FIXED_THRESHOLD`], one per profile.
    pub(super) fixed: &'a [ProfileResult],
    /// Results with the tuned threshold on the raw scores, without the escalation gate.
    pub(super) swept_ungated: &'a [ProfileResult],
    /// The published scoreboard, best standard score first.
    pub(super) scoreboard: &'a [ScoreboardEntry],
}

/// The JSON written by `--json`.
#[derive(Debug, Serialize)]
pub(super) struct JsonReport<'a> {
    detector: &'static str,
    profiles: Profiles<'a>,
    fixed_threshold_0_5: Profiles<'a>,
    without_escalation_gate: Profiles<'a>,
    files: usize,
    rows: usize,
    detect_seconds: f64,
    score_seconds: f64,
}

/// Results keyed by profile name, in the order they were scored.
#[derive(Debug)]
struct Profiles<'a>(&'a [ProfileResult]);

/// One profile's numbers in the JSON.
#[derive(Debug, Serialize)]
struct ProfileJson {
    score: f64,
    threshold: f64,
    detected_windows: usize,
    missed_windows: usize,
    false_positives: usize,
}

impl Serialize for Profiles<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|r| {
            let json = ProfileJson {
                score: r.normalised_score,
                threshold: r.threshold,
                detected_windows: r.tally.detected_windows,
                missed_windows: r.tally.missed_windows,
                false_positives: r.tally.false_positives,
            };
            (r.profile.as_str(), json)
        }))
    }
}

impl Report<'_> {
    /// The numbers of the report in the shape `--json` writes.
    pub(super) fn to_json(&self) -> JsonReport<'_> {
        JsonReport {
            detector: "omen",
            profiles: Profiles(self.swept),
            fixed_threshold_0_5: Profiles(self.fixed),
            without_escalation_gate: Profiles(self.swept_ungated),
            files: self.files,
            rows: self.rows,
            detect_seconds: self.detect_time.as_secs_f64(),
            score_seconds: self.score_time.as_secs_f64(),
        }
    }

    /// Omen's score under `profile` with the tuned threshold (NaN if it was not scored).
    fn swept_score(&self, profile: &str) -> f64 {
        self.swept
            .iter()
            .find(|r| r.profile == profile)
            .map_or(f64::NAN, |r| r.normalised_score)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let detect = self.detect_time.as_secs_f64();
        writeln!(
            f,
            "omen eval nab: {} files, {} rows from `{}`; results in `{}`",
            self.files,
            self.rows,
            self.data.display(),
            self.out.display()
        )?;
        writeln!(
            f,
            "detection: {detect:.2} s on {} threads ({:.0} rows/s); scoring: {:.2} s",
            self.threads,
            self.rows as f64 / detect.max(1e-9),
            self.score_time.as_secs_f64()
        )?;
        writeln!(
            f,
            "\nOmen, threshold tuned on the corpus (as NAB scores its scoreboard):"
        )?;
        profile_table(f, self.swept)?;
        writeln!(
            f,
            "\nOmen at the fixed threshold {FIXED_THRESHOLD} (its own alert threshold: score \
             0.5 = the target risk):"
        )?;
        profile_table(f, self.fixed)?;
        writeln!(
            f,
            "\nOmen's raw per-sample scores, without the escalation gate, threshold tuned:"
        )?;
        profile_table(f, self.swept_ungated)?;
        writeln!(
            f,
            "\nNAB scoreboard (`{}`), with this run inserted at its rank:",
            self.data.join("results/final_results.json").display()
        )?;
        self.scoreboard_table(f)
    }
}

impl Report<'_> {
    fn scoreboard_table(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use omen_eval::nab::{REWARD_LOW_FN_RATE, REWARD_LOW_FP_RATE, STANDARD};
        let omen = ScoreboardEntry {
            detector: "Omen (this run)".to_owned(),
            standard: self.swept_score(STANDARD),
            reward_low_fp: self.swept_score(REWARD_LOW_FP_RATE),
            reward_low_fn: self.swept_score(REWARD_LOW_FN_RATE),
        };
        // Below every published entry with a higher standard score; ties rank the others first.
        let at = self
            .scoreboard
            .iter()
            .take_while(|e| e.standard >= omen.standard)
            .count();
        writeln!(
            f,
            "  {:>4}  {:<20} {:>9} {:>9} {:>9}",
            "rank", "detector", "standard", "low FP", "low FN"
        )?;
        let rows = self.scoreboard[..at]
            .iter()
            .chain([&omen])
            .chain(&self.scoreboard[at..]);
        for (rank, entry) in (1..).zip(rows) {
            let mark = if std::ptr::eq(entry, &omen) { '>' } else { ' ' };
            writeln!(
                f,
                "{mark} {rank:>4}  {:<20} {:>9.2} {:>9.2} {:>9.2}",
                entry.detector, entry.standard, entry.reward_low_fp, entry.reward_low_fn
            )?;
        }
        Ok(())
    }
}

/// One line per profile: score, threshold, and what it detected.
fn profile_table(f: &mut fmt::Formatter<'_>, results: &[ProfileResult]) -> fmt::Result {
    writeln!(
        f,
        "  {:<20} {:>8} {:>10} {:>9} {:>7} {:>9}",
        "profile", "score", "threshold", "detected", "missed", "false pos"
    )?;
    for r in results {
        let threshold = if r.threshold == NO_DETECTION_THRESHOLD {
            "none".to_owned()
        } else {
            format!("{:.6}", r.threshold)
        };
        writeln!(
            f,
            "  {:<20} {:>8.2} {:>10} {:>9} {:>7} {:>9}",
            r.profile,
            r.normalised_score,
            threshold,
            r.tally.detected_windows,
            r.tally.missed_windows,
            r.tally.false_positives
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use omen_eval::nab::Tally;

    use super::*;

    fn result(profile: &str, score: f64, threshold: f64) -> ProfileResult {
        ProfileResult {
            profile: profile.to_owned(),
            threshold,
            raw_score: 0.0,
            normalised_score: score,
            null_raw_score: -116.0,
            perfect_raw_score: 116.0,
            tally: Tally {
                detected_windows: 3,
                missed_windows: 1,
                false_positives: 7,
            },
        }
    }

    fn entry(detector: &str, standard: f64) -> ScoreboardEntry {
        ScoreboardEntry {
            detector: detector.to_owned(),
            standard,
            reward_low_fp: standard - 1.0,
            reward_low_fn: standard + 1.0,
        }
    }

    fn report<'a>(
        swept: &'a [ProfileResult],
        fixed: &'a [ProfileResult],
        board: &'a [ScoreboardEntry],
    ) -> Report<'a> {
        Report {
            data: Path::new("nab"),
            out: Path::new("out/nab"),
            files: 2,
            rows: 1000,
            threads: 2,
            detect_time: Duration::from_millis(500),
            score_time: Duration::from_millis(20),
            swept,
            fixed,
            swept_ungated: swept,
            scoreboard: board,
        }
    }

    #[test]
    fn omen_is_ranked_between_the_published_detectors() {
        let swept = [
            result("standard", 50.0, 0.75),
            result("reward_low_FP_rate", 40.0, 0.8),
            result("reward_low_FN_rate", 60.0, 0.7),
        ];
        let fixed = [result("standard", 30.0, 0.5)];
        let board = [entry("best", 70.0), entry("tied", 50.0), entry("null", 0.0)];
        let text = report(&swept, &fixed, &board).to_string();
        let ranks: Vec<String> = text
            .lines()
            .skip_while(|l| !l.trim_start().starts_with("rank"))
            .skip(1)
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .collect();
        assert_eq!(
            ranks,
            ["1 best 70.00", "2 tied 50.00", "> 3 Omen", "4 null 0.00"]
        );
        assert!(text.contains("1000 rows"), "{text}");
        assert!(
            text.contains("0.750000") && text.contains("0.500000"),
            "{text}"
        );
    }

    #[test]
    fn json_keeps_the_profile_order_and_names_the_fields() {
        let swept = [
            result("standard", 50.0, 0.75),
            result("reward_low_FP_rate", 40.0, NO_DETECTION_THRESHOLD),
        ];
        let report = report(&swept, &swept, &[]);
        let text = serde_json::to_string(&report.to_json()).unwrap();
        assert!(
            text.starts_with(
                r#"{"detector":"omen","profiles":{"standard":{"score":50.0,"threshold":0.75,"#
            ),
            "{text}"
        );
        assert!(text.contains(r#""reward_low_FP_rate":{"score":40.0,"threshold":1.1,"detected_windows":3,"missed_windows":1,"false_positives":7}"#), "{text}");
        assert!(
            text.contains(r#""rows":1000,"detect_seconds":0.5,"#),
            "{text}"
        );
    }
}
