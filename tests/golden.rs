//! Golden check: what a user sees from `omen analyze` on the bundled demo, `omen eval nab` and
//! `omen eval alerts` on the NAB corpus does not change unless someone means it to.
//!
//! Each output is reduced to digests (one per Parquet column, the printed text as it is, less
//! the lines that carry a wall time) and compared with `tests/golden/<name>.txt`. A change to
//! the code's structure must leave them identical; a change to the model changes them on
//! purpose: run with `BLESS=1` to write the new expectations, and say why in the commit.
//!
//! The NAB parts read `../shared/datasets/nab` and skip with a message when it is absent.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Float64Type};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use tempfile::TempDir;

use crate::support::{omen, omen_with_env, read_parquet};

/// FNV-1a, 64 bits: stable across Rust versions and platforms, unlike `DefaultHasher`.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// One line per column of the Parquet file at `path`: its name, type and a digest of every
/// value (floats by their bits, so that -0.0 and NaN payloads count too), in the file's row
/// order, or in sorted row order when `any_order` (`scores.parquet`'s row groups come from
/// parallel workers, so their order is not defined; its rows are).
fn parquet_digest(name: &str, path: &Path, any_order: bool) -> String {
    let batches: Vec<RecordBatch> = read_parquet(path);
    let mut out = String::new();
    let Some(first) = batches.first() else {
        writeln!(out, "{name}: no batches").unwrap();
        return out;
    };
    let schema = first.schema();
    let options = FormatOptions::default().with_null("<null>");
    let mut rows: Vec<Vec<String>> = Vec::new();
    for batch in &batches {
        let columns: Vec<Vec<String>> = batch
            .columns()
            .iter()
            .map(|column| {
                if *column.data_type() == DataType::Float64 {
                    let floats = column.as_primitive::<Float64Type>();
                    (0..floats.len())
                        .map(|row| {
                            if floats.is_null(row) {
                                "<null>".to_string()
                            } else {
                                format!("{:016x}", floats.value(row).to_bits())
                            }
                        })
                        .collect()
                } else {
                    let formatter = ArrayFormatter::try_new(column.as_ref(), &options).unwrap();
                    (0..column.len())
                        .map(|row| formatter.value(row).to_string())
                        .collect()
                }
            })
            .collect();
        for row in 0..batch.num_rows() {
            rows.push(columns.iter().map(|c| c[row].clone()).collect());
        }
    }
    if any_order {
        rows.sort_unstable();
    }
    writeln!(out, "{name}: {} rows", rows.len()).unwrap();
    for (index, field) in schema.fields().iter().enumerate() {
        let mut hash = Fnv::new();
        for row in &rows {
            hash.bytes(row[index].as_bytes());
            hash.bytes(&[0]);
        }
        writeln!(
            out,
            "{name}.{} {:?} {:016x}",
            field.name(),
            field.data_type(),
            hash.0
        )
        .unwrap();
    }
    out
}

/// The printed text less the lines that say how long something took or how fast it went.
fn without_timings(text: &str) -> String {
    const TIMED: [&str; 7] = [" in ", "/s", "elapsed", "seconds", "took", " ms)", " s)"];
    text.lines()
        .filter(|line| !TIMED.iter().any(|t| line.contains(t)))
        .map(|line| format!("{line}\n"))
        .collect()
}

/// Compare `actual` with `tests/golden/<name>.txt`, or write it there under `BLESS=1`.
fn check(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.txt"));
    if std::env::var_os("BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {} ({e}); run with BLESS=1", path.display()));
    if expected != actual {
        let diff: Vec<String> = expected
            .lines()
            .zip(actual.lines())
            .filter(|(e, a)| e != a)
            .take(20)
            .map(|(e, a)| format!("- {e}\n+ {a}"))
            .collect();
        panic!(
            "{name} differs from {} ({} vs {} lines); first differing lines:\n{}\n\
             If the change is meant, run with BLESS=1 and say why in the commit.",
            path.display(),
            expected.lines().count(),
            actual.lines().count(),
            diff.join("\n")
        );
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The NAB corpus next to the repository, or `None` after printing why the test is skipped.
fn nab() -> Option<PathBuf> {
    let dir = repo().join("../shared/datasets/nab");
    if dir.join("labels/combined_windows.json").is_file() {
        Some(dir)
    } else {
        eprintln!("skipping: NAB corpus not found at {}", dir.display());
        None
    }
}

/// Alert rules for the demo: the default anomaly rule on every series, so that the batch
/// alert lifecycle and `alerts.parquet` are pinned too.
const DEMO_ALERTS: &str = r#"
[[alert.rules]]
name = "ShopAnomaly"
match = ['{__name__=~".+"}']
for = "10m"
keep_firing_for = "15m"
"#;

#[test]
fn analyze_on_the_demo_is_unchanged() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("out");
    let config = dir.path().join("omen.toml");
    std::fs::write(&config, DEMO_ALERTS).unwrap();
    let input = repo().join("datasets/demo/shop/*.parquet");
    let run = omen([
        "analyze".as_ref(),
        "--input".as_ref(),
        input.as_os_str(),
        "--output".as_ref(),
        out.as_os_str(),
        "--config".as_ref(),
        config.as_os_str(),
    ]);
    assert!(run.success, "analyze failed: {}", run.stderr);
    let mut digest = String::new();
    for (file, any_order) in [
        ("scores.parquet", true),
        ("anomalies.parquet", false),
        ("alerts.parquet", false),
    ] {
        digest.push_str(&parquet_digest(file, &out.join(file), any_order));
    }
    digest.push_str("--- stdout\n");
    digest.push_str(&without_timings(&run.stdout).replace(&*out.to_string_lossy(), "OUT"));
    check("analyze-demo", &digest);
}

#[test]
fn eval_nab_is_unchanged() {
    let Some(data) = nab() else { return };
    let dir = TempDir::new().unwrap();
    let run = omen([
        "eval".as_ref(),
        "nab".as_ref(),
        "--data".as_ref(),
        data.as_os_str(),
        "--out".as_ref(),
        dir.path().join("nab").as_os_str(),
    ]);
    assert!(run.success, "eval nab failed: {}", run.stderr);
    let text = without_timings(&run.stdout).replace(&*dir.path().to_string_lossy(), "OUT");
    check("eval-nab", &text);
}

#[test]
fn eval_alerts_is_unchanged() {
    let Some(data) = nab() else { return };
    let run = omen([
        "eval".as_ref(),
        "alerts".as_ref(),
        "--data".as_ref(),
        data.as_os_str(),
    ]);
    assert!(run.success, "eval alerts failed: {}", run.stderr);
    check("eval-alerts", &without_timings(&run.stdout));
}

/// The same demo through the writer that uses only the parquet crate's public API
/// (`OMEN_SCORES_WRITER=arrow`, kept beside omen's own page encoders until the side-by-side
/// measurement decides between them): every row and column of `scores.parquet` the same.
#[test]
fn the_public_api_writer_writes_the_same_scores() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("out");
    let input = repo().join("datasets/demo/shop/*.parquet");
    let run = omen_with_env(
        [
            "analyze".as_ref(),
            "--input".as_ref(),
            input.as_os_str(),
            "--output".as_ref(),
            out.as_os_str(),
        ],
        ("OMEN_SCORES_WRITER", "arrow"),
    );
    assert!(run.success, "analyze failed: {}", run.stderr);
    let expected = std::fs::read_to_string(repo().join("tests/golden/analyze-demo.txt")).unwrap();
    let expected: String = expected
        .lines()
        .filter(|line| line.starts_with("scores.parquet"))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(
        parquet_digest("scores.parquet", &out.join("scores.parquet"), true),
        expected
    );
}
