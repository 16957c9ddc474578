//! `scores.parquet` read by another implementation of Parquet than the one omen writes with.
//!
//! omen encodes most columns of `scores.parquet` itself (plain floats, delta-packed
//! timestamps, bit-packed verdicts, run-length label dictionaries), so a reader that only
//! shares omen's own assumptions would not catch a misreading of the format. pyarrow (Arrow's
//! C++ reader) reads the file here and must see every row as arrow-rs does.
//!
//! DuckDB (its own Parquet reader, in C++ too, but not Arrow's) must read the same rows.
//!
//! It needs a Python with pyarrow and duckdb: `OMEN_PYTHON` (default `python3`). Without one
//! the test says so and passes, unless `OMEN_PYARROW_REQUIRED` is set, as `.ci/run` does after
//! installing both.

use std::fmt::Write as _;
use std::process::Command;

use crate::support::{generate_shop, omen, read_parquet};
use arrow::array::AsArray;
use arrow::datatypes::{DataType, Float64Type, TimestampMillisecondType};
use tempfile::TempDir;

/// Prints one line per row of the file, in file order: the labels, the timestamp, the float
/// columns' bits and the verdict; then one line per row group with its row count.
const PRINT_ROWS: &str = r#"
import struct, sys
import pyarrow.parquet as pq
f = pq.ParquetFile(sys.argv[1])
out = sys.stdout
for g in range(f.num_row_groups):
    t = f.read_row_group(g).to_pydict()
    bits = lambda v: struct.unpack("<q", struct.pack("<d", v))[0]
    for i in range(len(t["timestamp"])):
        ts = t["timestamp"][i]
        ms = int(ts.timestamp() * 1000) if hasattr(ts, "timestamp") else ts
        floats = "\t".join(str(bits(t[c][i])) for c in ["value", "score", "expected", "lower", "upper"])
        out.write(f"{t['__name__'][i]}\t{t['instance'][i]}\t{ms}\t{floats}\t{int(t['anomaly'][i])}\n")
    out.write(f"row group {f.metadata.row_group(g).num_rows}\n")
"#;

/// Prints one line per row as `PRINT_ROWS` does (without the row-group lines), read by DuckDB
/// in whatever order its parallel scan gives; the caller sorts.
const DUCKDB_ROWS: &str = r#"
import struct, sys
import duckdb
bits = lambda v: struct.unpack("<q", struct.pack("<d", v))[0]
rows = duckdb.sql(
    "SELECT __name__, instance, epoch_ms(timestamp), value, score, expected, lower, upper, "
    "anomaly FROM read_parquet(?)", params=[sys.argv[1]]
).fetchall()
out = sys.stdout
for r in rows:
    floats = "\t".join(str(bits(v)) for v in r[3:8])
    out.write(f"{r[0]}\t{r[1]}\t{r[2]}\t{floats}\t{int(r[8])}\n")
"#;

fn python() -> String {
    std::env::var("OMEN_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn has_pyarrow() -> bool {
    Command::new(python())
        .args(["-c", "import pyarrow.parquet, duckdb"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The same lines as `PRINT_ROWS`, from arrow-rs.
fn rows_by_arrow_rs(path: &std::path::Path) -> String {
    let metadata = {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        SerializedFileReader::new(std::fs::File::open(path).unwrap())
            .unwrap()
            .metadata()
            .row_groups()
            .iter()
            .map(|g| g.num_rows() as usize)
            .collect::<Vec<_>>()
    };
    let mut out = String::new();
    let mut groups = metadata.into_iter();
    let mut group = groups.next().unwrap();
    let mut left = group;
    for batch in read_parquet(path) {
        let text = |name: &str| {
            arrow::compute::cast(batch.column_by_name(name).unwrap(), &DataType::Utf8).unwrap()
        };
        let (names, instances) = (text("__name__"), text("instance"));
        let (names, instances) = (names.as_string::<i32>(), instances.as_string::<i32>());
        let ts = batch
            .column_by_name("timestamp")
            .unwrap()
            .as_primitive::<TimestampMillisecondType>();
        let floats: Vec<_> = ["value", "score", "expected", "lower", "upper"]
            .iter()
            .map(|c| {
                batch
                    .column_by_name(c)
                    .unwrap()
                    .as_primitive::<Float64Type>()
            })
            .collect();
        let anomaly = batch.column_by_name("anomaly").unwrap().as_boolean();
        for i in 0..batch.num_rows() {
            let floats: Vec<String> = floats
                .iter()
                .map(|c| (c.value(i).to_bits() as i64).to_string())
                .collect();
            writeln!(
                out,
                "{}\t{}\t{}\t{}\t{}",
                names.value(i),
                instances.value(i),
                ts.value(i),
                floats.join("\t"),
                anomaly.value(i) as u8
            )
            .unwrap();
            left -= 1;
            if left == 0 {
                writeln!(out, "row group {group}").unwrap();
                group = groups.next().unwrap_or(usize::MAX);
                left = group;
            }
        }
    }
    out
}

#[test]
fn pyarrow_reads_every_row_of_scores_as_arrow_rs_does() {
    if !has_pyarrow() {
        assert!(
            std::env::var_os("OMEN_PYARROW_REQUIRED").is_none(),
            "OMEN_PYARROW_REQUIRED is set but `{} -c 'import pyarrow, duckdb'` fails",
            python()
        );
        eprintln!("skipped: no Python with pyarrow and duckdb (set OMEN_PYTHON to one)");
        return;
    }
    let dir = TempDir::new().unwrap();
    // 604,800 rows: more than one page of each float column, a row group per worker.
    let data = generate_shop(dir.path(), 210, 10);
    let out = dir.path().join("out");
    let run = omen([
        "analyze",
        "--input",
        &data.join("*.parquet").display().to_string(),
        "--output",
        &out.display().to_string(),
    ]);
    assert!(run.success, "{}", run.stderr);
    let scores = out.join("scores.parquet");
    let printed = Command::new(python())
        .args(["-c", PRINT_ROWS, &scores.display().to_string()])
        .output()
        .unwrap();
    assert!(
        printed.status.success(),
        "pyarrow could not read scores.parquet: {}",
        String::from_utf8_lossy(&printed.stderr)
    );
    let by_pyarrow = String::from_utf8(printed.stdout).unwrap();
    let by_arrow_rs = rows_by_arrow_rs(&scores);
    assert_eq!(by_pyarrow.lines().count(), by_arrow_rs.lines().count());
    for (line, (p, r)) in by_pyarrow.lines().zip(by_arrow_rs.lines()).enumerate() {
        assert_eq!(p, r, "line {line}");
    }

    // DuckDB: the same rows, in any order.
    let printed = Command::new(python())
        .args(["-c", DUCKDB_ROWS, &scores.display().to_string()])
        .output()
        .unwrap();
    assert!(
        printed.status.success(),
        "DuckDB could not read scores.parquet: {}",
        String::from_utf8_lossy(&printed.stderr)
    );
    let mut by_duckdb: Vec<&str> = std::str::from_utf8(&printed.stdout)
        .unwrap()
        .lines()
        .collect();
    let mut rows: Vec<&str> = by_arrow_rs
        .lines()
        .filter(|l| !l.starts_with("row group"))
        .collect();
    by_duckdb.sort_unstable();
    rows.sort_unstable();
    assert_eq!(by_duckdb.len(), rows.len(), "DuckDB's row count");
    for (d, r) in by_duckdb.iter().zip(&rows) {
        assert_eq!(d, r);
    }
}
