//! `omen sql`: Omen's window functions over Parquet, agreeing with `omen analyze`, with output
//! files and clear errors.

use std::collections::HashMap;

use crate::support::{generate_shop, omen, read_parquet};
use arrow::array::{AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use tempfile::TempDir;

/// (series, timestamp ms) -> (score, anomaly), from batches with the columns `__name__`,
/// `instance`, `timestamp`, `score` and `anomaly`.
fn scores_by_row(batches: &[RecordBatch]) -> HashMap<(String, String, i64), (f64, bool)> {
    let mut rows = HashMap::new();
    for batch in batches {
        let text = |name: &str| cast(batch.column_by_name(name).unwrap(), &DataType::Utf8).unwrap();
        let (names, instances) = (text("__name__"), text("instance"));
        let timestamps =
            cast(batch.column_by_name("timestamp").unwrap(), &DataType::Int64).unwrap();
        let score = batch.column_by_name("score").unwrap();
        let anomaly = batch.column_by_name("anomaly").unwrap();
        for row in 0..batch.num_rows() {
            rows.insert(
                (
                    names.as_string::<i32>().value(row).to_owned(),
                    instances.as_string::<i32>().value(row).to_owned(),
                    timestamps.as_primitive::<Int64Type>().value(row),
                ),
                (
                    score.as_primitive::<Float64Type>().value(row),
                    anomaly.as_boolean().value(row),
                ),
            );
        }
    }
    rows
}

fn generate(dir: &TempDir) -> String {
    let data = generate_shop(dir.path(), 5, 6);
    data.join("*.parquet").to_str().unwrap().to_owned()
}

#[test]
fn window_functions_give_the_scores_and_verdicts_of_omen_analyze() {
    let dir = TempDir::new().unwrap();
    let input = generate(&dir);
    let analysed = dir.path().join("analysed");
    let run = omen([
        "analyze",
        "--input",
        &input,
        "--output",
        analysed.to_str().unwrap(),
    ]);
    assert!(run.success, "{}", run.stderr);

    let out = dir.path().join("sql.parquet");
    let run = omen([
        "sql",
        "SELECT __name__, instance, timestamp, value, \
            omen_score(value) OVER w AS score, omen_anomaly(value) OVER w AS anomaly \
         FROM metrics WINDOW w AS (PARTITION BY __name__, instance ORDER BY timestamp)",
        "--input",
        &input,
        "--output",
        out.to_str().unwrap(),
        "--max-rows",
        "3",
    ]);
    assert!(run.success, "{}", run.stderr);
    assert!(run.stdout.contains("| __name__"), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("8640 row(s) from 1 file(s); 8637 not shown"),
        "{}",
        run.stderr
    );

    let from_sql = scores_by_row(&read_parquet(&out));
    let from_analyze = scores_by_row(&read_parquet(&analysed.join("scores.parquet")));
    assert_eq!(from_sql.len(), 5 * 6 * 288);
    assert_eq!(from_sql.len(), from_analyze.len());
    let mut anomalies = 0;
    for (key, (score, anomaly)) in &from_analyze {
        let (sql_score, sql_anomaly) = from_sql[key];
        assert_eq!(score.to_bits(), sql_score.to_bits(), "{key:?}");
        assert_eq!(*anomaly, sql_anomaly, "{key:?}");
        anomalies += usize::from(*anomaly);
    }
    assert!(anomalies > 0, "the generated incidents raise some verdicts");
}

#[test]
fn csv_output_and_errors_that_name_the_problem_and_leave_no_file() {
    let dir = TempDir::new().unwrap();
    let input = generate(&dir);

    let csv = dir.path().join("top.csv");
    let run = omen([
        "sql",
        "SELECT instance, omen_upper(value) OVER (PARTITION BY __name__, instance \
         ORDER BY timestamp) AS upper FROM metrics WHERE __name__ = 'shop_orders_per_minute'",
        "--input",
        &input,
        "--output",
        csv.to_str().unwrap(),
        "--max-rows",
        "0",
    ]);
    assert!(run.success, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("instance,upper"));
    assert_eq!(lines.count(), 6 * 288);

    let cases = [
        (
            "SELECT omen_score(value) OVER (PARTITION BY instance) FROM metrics",
            "omen_score needs the rows in time order",
        ),
        (
            "SELECT omen_score(instance) OVER (ORDER BY timestamp) FROM metrics",
            "the value must be a number",
        ),
        ("SELECT nope FROM metrics", "nope"),
    ];
    for (query, message) in cases {
        let out = dir.path().join("bad.parquet");
        let run = omen(["sql", query, "--input", &input, "-o", out.to_str().unwrap()]);
        assert!(!run.success, "{query}");
        assert!(run.stderr.contains(message), "{query}: {}", run.stderr);
        // The root cause once, not DataFusion's whole chain repeating it.
        assert_eq!(run.stderr.matches(message).count(), 1, "{}", run.stderr);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.contains("bad"))
            .collect();
        assert!(left.is_empty(), "{query}: left {left:?}");
    }

    let run = omen(["sql", "SELECT 1", "--input", &input, "-o", "out.txt"]);
    assert!(!run.success);
    assert!(
        run.stderr.contains("FILE.parquet or FILE.csv"),
        "{}",
        run.stderr
    );
}
