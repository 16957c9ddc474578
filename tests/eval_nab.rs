//! `omen eval nab`, run as a user runs it: the built binary on a small NAB-layout corpus made
//! of four real NAB files in a temporary directory.
//!
//! The corpus comes from `<manifest>/../shared/datasets/nab`; when it is absent the corpus test
//! prints why it is skipped and passes. The checks hold for any reasonable default detector
//! (its internals are being tuned), so they assert on the output's shape, never on the scores.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::support::omen_in as omen;

/// The subset: one file of each kind (real with windows, artificial with and without).
const FILES: [&str; 4] = [
    "realKnownCause/nyc_taxi.csv",
    "artificialWithAnomaly/art_daily_jumpsup.csv",
    "realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv",
    "artificialNoAnomaly/art_daily_no_noise.csv",
];

/// Runs `omen eval nab --data DATA` in `cwd`.
fn eval_nab_with_data(data: &Path, cwd: &Path) -> crate::support::Run {
    omen(
        [
            "eval".as_ref(),
            "nab".as_ref(),
            "--data".as_ref(),
            data.as_os_str(),
        ],
        cwd,
    )
}

/// NAB's three profiles, as named in the JSON.
const PROFILES: [&str; 3] = ["standard", "reward_low_FP_rate", "reward_low_FN_rate"];

/// The NAB corpus next to the repository, or `None` after printing why the test is skipped.
fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/nab");
    if dir.join("labels/combined_windows.json").is_file() {
        Some(dir)
    } else {
        eprintln!("skipping: NAB corpus not found at {}", dir.display());
        None
    }
}

/// A NAB-layout corpus in `dir` with only [`FILES`]: their windows, their data, the scoreboard.
fn make_subset(nab: &Path, dir: &Path) {
    let text = std::fs::read_to_string(nab.join("labels/combined_windows.json")).unwrap();
    let all: BTreeMap<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
    let subset: BTreeMap<&str, &serde_json::Value> =
        FILES.iter().map(|&file| (file, &all[file])).collect();
    std::fs::create_dir_all(dir.join("labels")).unwrap();
    std::fs::write(
        dir.join("labels/combined_windows.json"),
        serde_json::to_string_pretty(&subset).unwrap(),
    )
    .unwrap();
    for file in FILES {
        let to = dir.join("data").join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(nab.join("data").join(file), to).unwrap();
    }
    std::fs::create_dir_all(dir.join("results")).unwrap();
    std::fs::copy(
        nab.join("results/final_results.json"),
        dir.join("results/final_results.json"),
    )
    .unwrap();
}

/// The `(timestamp, value)` text of each row of a NAB data file.
fn read_data(path: &Path) -> Vec<(String, String)> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_owned(), r[1].to_owned())
        })
        .collect()
}

/// The `(timestamp, value, score)` rows of a result file, checking its header.
fn read_result(path: &Path) -> Vec<(String, String, f64)> {
    let mut reader = csv::Reader::from_path(path)
        .unwrap_or_else(|e| panic!("result file {}: {e}", path.display()));
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        ["timestamp", "value", "anomaly_score"],
        "{}",
        path.display()
    );
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let score = r[2].parse().expect("the score is a number");
            (r[0].to_owned(), r[1].to_owned(), score)
        })
        .collect()
}

/// Each profile's result in a block of the JSON report, checked for its fields.
fn check_profiles(block: &serde_json::Value, what: &str) {
    for profile in PROFILES {
        let result = &block[profile];
        let score = result["score"]
            .as_f64()
            .unwrap_or_else(|| panic!("{what}.{profile}.score in {block}"));
        assert!(
            score.is_finite() && (-100.0..=100.0).contains(&score),
            "{what}.{profile}.score = {score}"
        );
        assert!(result["threshold"].as_f64().is_some(), "{what}.{profile}");
        for tally in ["detected_windows", "missed_windows", "false_positives"] {
            assert!(result[tally].as_u64().is_some(), "{what}.{profile}.{tally}");
        }
    }
}

#[test]
fn scores_a_nab_subset_and_shows_the_scoreboard() {
    let Some(nab) = corpus_dir() else { return };
    let dir = TempDir::new().unwrap();
    let corpus = dir.path().join("nab");
    make_subset(&nab, &corpus);
    let out = dir.path().join("results");
    let json = dir.path().join("report/nab.json");

    let run = omen(
        [
            "eval".as_ref(),
            "nab".as_ref(),
            "--data".as_ref(),
            corpus.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
            "--json".as_ref(),
            json.as_os_str(),
        ],
        dir.path(),
    );

    assert!(
        run.success,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    let mut rows = 0;
    for file in FILES {
        let data = read_data(&corpus.join("data").join(file));
        let result = read_result(&out.join(file));
        assert_eq!(
            result.len(),
            data.len(),
            "{file}: one result row per data row"
        );
        for ((timestamp, value, score), (want_timestamp, want_value)) in result.iter().zip(&data) {
            assert_eq!(
                (timestamp, value),
                (want_timestamp, want_value),
                "{file}: timestamp and value as in the data"
            );
            assert!(
                (0.0..=1.0).contains(score),
                "{file} {timestamp}: score {score}"
            );
        }
        rows += data.len();
    }

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["detector"], "omen");
    check_profiles(&report["profiles"], "profiles");
    check_profiles(&report["fixed_threshold_0_5"], "fixed_threshold_0_5");
    check_profiles(
        &report["without_escalation_gate"],
        "without_escalation_gate",
    );
    for profile in PROFILES {
        assert_eq!(report["fixed_threshold_0_5"][profile]["threshold"], 0.5);
    }
    assert_eq!(report["rows"].as_u64(), Some(rows as u64));
    for timing in ["detect_seconds", "score_seconds"] {
        assert!(
            report[timing].as_f64().is_some_and(|s| s >= 0.0),
            "{timing}"
        );
    }

    for fragment in [
        "ARTime",
        "Omen (this run)",
        "reward_low_FN_rate",
        "without the escalation gate",
        &rows.to_string(),
    ] {
        assert!(
            run.stdout.contains(fragment),
            "stdout lacks {fragment:?}:\n{}",
            run.stdout
        );
    }
}

#[test]
fn a_missing_data_directory_is_an_error_naming_it() {
    let dir = TempDir::new().unwrap();
    let missing = dir.path().join("no-such-nab");

    let run = eval_nab_with_data(&missing, dir.path());

    assert!(!run.success, "stdout: {}", run.stdout);
    assert!(
        run.stderr.contains(&missing.display().to_string()),
        "stderr does not name {}: {}",
        missing.display(),
        run.stderr
    );
    assert!(!dir.path().join("out").exists(), "nothing is written");
}

#[test]
fn without_data_and_no_default_corpus_it_asks_for_data() {
    // In an empty directory, `../shared/datasets/nab` does not exist.
    let dir = TempDir::new().unwrap();
    let cwd = dir.path().join("empty");
    std::fs::create_dir(&cwd).unwrap();

    let run = omen(["eval", "nab"], &cwd);

    assert!(!run.success, "stdout: {}", run.stdout);
    assert!(
        run.stderr.contains("--data") && run.stderr.contains("../shared/datasets/nab"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_data_file_missing_from_the_corpus_is_named() {
    let dir = TempDir::new().unwrap();
    let corpus = dir.path().join("nab");
    std::fs::create_dir_all(corpus.join("labels")).unwrap();
    std::fs::create_dir_all(corpus.join("results")).unwrap();
    std::fs::write(
        corpus.join("labels/combined_windows.json"),
        r#"{"cat/gone.csv": []}"#,
    )
    .unwrap();
    std::fs::write(
        corpus.join("results/final_results.json"),
        r#"{"null": {"standard": 0, "reward_low_FP_rate": 0, "reward_low_FN_rate": 0}}"#,
    )
    .unwrap();

    let run = eval_nab_with_data(&corpus, dir.path());

    assert!(!run.success, "stdout: {}", run.stdout);
    assert!(run.stderr.contains("gone.csv"), "{}", run.stderr);
}

#[test]
fn a_windows_file_that_does_not_parse_is_named() {
    let dir = TempDir::new().unwrap();
    let corpus = dir.path().join("nab");
    std::fs::create_dir_all(corpus.join("labels")).unwrap();
    std::fs::write(corpus.join("labels/combined_windows.json"), "{not json").unwrap();

    let run = eval_nab_with_data(&corpus, dir.path());

    assert!(!run.success, "stdout: {}", run.stdout);
    assert!(
        run.stderr.contains("combined_windows.json"),
        "{}",
        run.stderr
    );
}
