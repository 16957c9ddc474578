//! `omen detect`, run as a user runs it: the built binary on CSV files in a temporary directory.
//!
//! The checks hold for any reasonable default detector (the model behind it is being replaced),
//! so they assert on the output's shape, the statuses and where the highest score is, never on
//! exact scores.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::support::omen;

/// The output header, in order.
const HEADER: [&str; 7] = [
    "timestamp",
    "value",
    "anomaly_score",
    "expected",
    "lower",
    "upper",
    "status",
];

fn write_file(dir: &TempDir, name: &str, content: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// A CSV text with a `timestamp,value` header and one line per `(timestamp, value)` pair.
fn csv_text(rows: impl IntoIterator<Item = (String, String)>) -> String {
    let mut text = String::from("timestamp,value\n");
    for (timestamp, value) in rows {
        text.push_str(&format!("{timestamp},{value}\n"));
    }
    text
}

/// `n` timestamps one minute apart from 2024-01-01T00:00:00Z, as RFC 3339 text.
fn minute(i: usize) -> String {
    format!("2024-01-01T{:02}:{:02}:00Z", i / 60 % 24, i % 60)
}

/// Deterministic noise in [-1, 1] (xorshift), so the series is the same on every run.
fn noise(n: usize, seed: u64) -> Vec<f64> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect()
}

/// One parsed output row.
#[derive(Debug)]
struct OutRow {
    timestamp: String,
    value: String,
    score: f64,
    expected: String,
    status: String,
}

/// Parse the results CSV, checking the header.
fn parse_output(text: &str) -> Vec<OutRow> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, HEADER, "output header");
    reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            assert_eq!(record.len(), HEADER.len(), "fields in {record:?}");
            OutRow {
                timestamp: record[0].to_owned(),
                value: record[1].to_owned(),
                score: record[2].parse().expect("the score is a number"),
                expected: record[3].to_owned(),
                status: record[6].to_owned(),
            }
        })
        .collect()
}

fn assert_scores_in_unit_interval(rows: &[OutRow]) {
    for row in rows {
        assert!(
            row.score.is_finite() && (0.0..=1.0).contains(&row.score),
            "score out of [0, 1]: {row:?}"
        );
    }
}

fn assert_mentions(text: &str, fragments: &[&str]) {
    for fragment in fragments {
        assert!(
            text.contains(fragment),
            "{text:?} does not mention {fragment:?}"
        );
    }
}

/// The names of the files in `dir`, sorted.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_spike_gets_the_highest_score() {
    const N: usize = 1_000;
    const SPIKE: usize = 800;
    let dir = TempDir::new().unwrap();
    let values: Vec<f64> = noise(N, 42)
        .into_iter()
        .enumerate()
        .map(|(i, e)| 100.0 + 2.0 * e + if i == SPIKE { 60.0 } else { 0.0 })
        .collect();
    let input = csv_text(
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (minute(i), format!("{v:.3}"))),
    );
    let path = write_file(&dir, "latency.csv", &input);

    let run = omen([Path::new("detect"), &path]);

    assert!(run.success, "stderr: {}", run.stderr);
    let rows = parse_output(&run.stdout);
    assert_eq!(rows.len(), N);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.timestamp, minute(i), "timestamp as in the input");
        assert_eq!(
            row.value,
            format!("{:.3}", values[i]),
            "value as in the input"
        );
    }
    assert_scores_in_unit_interval(&rows);
    let top = rows
        .iter()
        .enumerate()
        .max_by(|(_, a), (_, b)| a.score.total_cmp(&b.score))
        .unwrap();
    assert_eq!(top.0, SPIKE, "the spike has the highest score: {:?}", top.1);
    assert!(rows.iter().filter(|r| r.status == "ready").count() > N / 2);
    assert_mentions(
        &run.stderr,
        &[
            &format!("{N} rows"),
            "max score",
            &minute(SPIKE),
            &format!("line {}", SPIKE + 2),
        ],
    );
}

#[test]
fn out_writes_the_file_and_nothing_else() {
    let dir = TempDir::new().unwrap();
    let input = csv_text((0..200).map(|i| (minute(i), format!("{}", i % 7))));
    let path = write_file(&dir, "in.csv", &input);
    let out = dir.path().join("out.csv");

    let run = omen([Path::new("detect"), &path, Path::new("--out"), &out]);

    assert!(run.success, "stderr: {}", run.stderr);
    assert!(run.stdout.is_empty(), "nothing on stdout with --out");
    let rows = parse_output(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(rows.len(), 200);
    assert_eq!(
        files_in(dir.path()),
        ["in.csv", "out.csv"],
        "no temporary file left"
    );
    assert_mentions(&run.stderr, &["200 rows", "out.csv"]);
}

#[test]
fn a_failed_run_leaves_the_previous_output_untouched() {
    let dir = TempDir::new().unwrap();
    let mut input = csv_text((0..300).map(|i| (minute(i), "1.0".to_owned())));
    input.push_str("2024-01-01T05:00:00Z,oops\n");
    let path = write_file(&dir, "in.csv", &input);
    let out = write_file(&dir, "out.csv", "previous results\n");

    let run = omen([Path::new("detect"), &path, Path::new("--out"), &out]);

    assert!(!run.success);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "previous results\n");
    assert_eq!(
        files_in(dir.path()),
        ["in.csv", "out.csv"],
        "no temporary file left"
    );
}

#[test]
fn a_missing_file_is_named() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("does-not-exist.csv");

    let run = omen([Path::new("detect"), &path]);

    assert!(!run.success);
    assert!(run.stdout.is_empty());
    assert_mentions(
        &run.stderr,
        &[&format!("cannot open `{}`", path.display()), "No such file"],
    );
}

#[test]
fn a_misnamed_column_names_it_and_the_columns_found() {
    let dir = TempDir::new().unwrap();
    let path = write_file(&dir, "in.csv", "timestamp,value,host\n0,1,a\n");

    let run = omen([
        Path::new("detect"),
        &path,
        Path::new("--value-column"),
        Path::new("latency"),
    ]);

    assert!(!run.success);
    assert_mentions(
        &run.stderr,
        &[
            "in.csv",
            "no value column `latency`",
            "columns found: `timestamp`, `value`, `host`",
            "--value-column",
        ],
    );
}

#[test]
fn other_column_names_can_be_chosen() {
    let dir = TempDir::new().unwrap();
    let input = "host,Time,p95\na,1704067200,0.2\na,1704067260,0.3\n";
    let path = write_file(&dir, "in.csv", input);

    let run = omen([
        "detect",
        path.to_str().unwrap(),
        "--timestamp-column",
        "time",
        "--value-column",
        "P95",
    ]);

    assert!(run.success, "stderr: {}", run.stderr);
    let rows = parse_output(&run.stdout);
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.timestamp.as_str(), r.value.as_str()))
        .collect();
    assert_eq!(got, [("1704067200", "0.2"), ("1704067260", "0.3")]);
}

#[test]
fn an_unparsable_number_names_file_line_and_column() {
    let dir = TempDir::new().unwrap();
    let input = "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:01:00,12,5\n\
                 2024-01-01 00:02:00,1O\n";
    let path = write_file(&dir, "in.csv", input);

    let run = omen([Path::new("detect"), &path]);

    assert!(!run.success);
    assert_mentions(
        &run.stderr,
        &[
            &format!("`{}` line 4", path.display()),
            "column `value`",
            "`1O`",
        ],
    );
}

#[test]
fn an_unparsable_timestamp_names_file_line_and_column() {
    let dir = TempDir::new().unwrap();
    let path = write_file(
        &dir,
        "in.csv",
        "timestamp,value\n1704067200,1\n\n01/02/2024,2\n",
    );

    let run = omen([Path::new("detect"), &path]);

    assert!(!run.success);
    assert_mentions(
        &run.stderr,
        &["in.csv` line 4", "column `timestamp`", "`01/02/2024`"],
    );
}

#[test]
fn non_finite_values_are_skipped_and_counted() {
    let dir = TempDir::new().unwrap();
    let odd = ["NaN", "nan", "inf", "-inf", "+Inf", ""];
    let rows = (0..300).map(|i| {
        let value = if i >= 150 && i < 150 + odd.len() {
            odd[i - 150].to_owned()
        } else {
            format!("{}", 10 + i % 3)
        };
        (minute(i), value)
    });
    let path = write_file(&dir, "in.csv", &csv_text(rows));

    let run = omen([Path::new("detect"), &path]);

    assert!(run.success, "stderr: {}", run.stderr);
    let rows = parse_output(&run.stdout);
    assert_eq!(rows.len(), 300);
    assert_scores_in_unit_interval(&rows);
    for (i, value) in odd.iter().enumerate() {
        let row = &rows[150 + i];
        assert_eq!(row.value, *value, "value as in the input");
        assert_eq!(row.status, "skipped_not_finite", "{row:?}");
        assert_eq!(
            row.expected, "",
            "no expected value for a skipped row: {row:?}"
        );
    }
    let skipped = rows.iter().filter(|r| r.status == "skipped_not_finite");
    assert_eq!(skipped.count(), odd.len());
    assert_mentions(
        &run.stderr,
        &["300 rows", "6 skipped (6 not finite, 0 out of order)"],
    );
}

#[test]
fn an_out_of_order_row_is_skipped_and_counted() {
    let dir = TempDir::new().unwrap();
    let mut times: Vec<usize> = (0..200).collect();
    times.swap(120, 121);
    let rows = times.iter().map(|&i| (minute(i), "5".to_owned()));
    let path = write_file(&dir, "in.csv", &csv_text(rows));

    let run = omen([Path::new("detect"), &path]);

    assert!(run.success, "stderr: {}", run.stderr);
    let rows = parse_output(&run.stdout);
    assert_eq!(rows[121].status, "skipped_out_of_order", "{:?}", rows[121]);
    assert_mentions(&run.stderr, &["(0 not finite, 1 out of order)"]);
}

#[test]
fn a_constant_series_has_finite_scores() {
    let dir = TempDir::new().unwrap();
    let rows = (0..500).map(|i| (minute(i), "42".to_owned()));
    let path = write_file(&dir, "in.csv", &csv_text(rows));

    let run = omen([Path::new("detect"), &path]);

    assert!(run.success, "stderr: {}", run.stderr);
    let rows = parse_output(&run.stdout);
    assert_eq!(rows.len(), 500);
    assert_scores_in_unit_interval(&rows);
}

#[test]
fn a_header_only_file_gives_zero_rows() {
    let dir = TempDir::new().unwrap();
    let path = write_file(&dir, "in.csv", "timestamp,value\n");

    let run = omen([Path::new("detect"), &path]);

    assert!(run.success, "stderr: {}", run.stderr);
    assert_eq!(run.stdout, format!("{}\n", HEADER.join(",")));
    assert_mentions(&run.stderr, &["0 rows", "no row was scored"]);
}

#[test]
fn an_empty_file_is_an_error() {
    let dir = TempDir::new().unwrap();
    let path = write_file(&dir, "in.csv", "");

    let run = omen([Path::new("detect"), &path]);

    assert!(!run.success);
    assert_mentions(&run.stderr, &["in.csv", "empty", "header"]);
}

#[test]
fn a_series_shorter_than_the_warm_up_is_all_warming_up() {
    // Ten samples are fewer than any baseline needs before it scores.
    let dir = TempDir::new().unwrap();
    let rows = (0..10).map(|i| (minute(i), format!("{}", i % 2)));
    let path = write_file(&dir, "in.csv", &csv_text(rows));

    let run = omen([Path::new("detect"), &path]);

    assert!(run.success, "stderr: {}", run.stderr);
    let rows = parse_output(&run.stdout);
    assert_eq!(rows.len(), 10);
    assert!(rows.iter().all(|r| r.status == "warming_up"), "{rows:?}");
    assert!(rows.iter().all(|r| r.score == 0.0), "{rows:?}");
    assert_mentions(&run.stderr, &["10 warming up", "no row was scored"]);
}

#[test]
fn help_describes_omen_and_detect() {
    let run = omen(["--help"]);
    assert!(run.success, "stderr: {}", run.stderr);
    assert_mentions(&run.stdout, &["anomaly detection", "detect"]);

    let run = omen(["detect", "--help"]);
    assert!(run.success, "stderr: {}", run.stderr);
    assert_mentions(
        &run.stdout,
        &[
            "--out",
            "--timestamp-column",
            "--value-column",
            "anomaly_score",
        ],
    );
}

#[test]
fn no_subcommand_is_a_usage_error() {
    let run = omen(std::iter::empty::<&str>());
    assert!(!run.success);
    assert_mentions(&run.stderr, &["Usage"]);
}
