//! `omen eval labelled` on CSV and Parquet: the figures equal an independent computation from
//! the engine's replay (CSV) and from `omen analyze`'s verdicts (Parquet).

use std::collections::HashMap;
use std::path::Path;

use crate::support::{generate_shop, omen, read_parquet};
use arrow::array::{AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Int64Type};
use omen_detect::EnsembleConfig;
use omen_engine::{SeriesReplay, Step, VerdictConfig};
use omen_eval::labelled::{LabelledSeries, evaluate};
use serde_json::Value;
use tempfile::TempDir;

const MINUTE_S: i64 = 60;

/// Two KPIs of 1,500 minutes each with labelled spikes and one labelled dip that is too subtle
/// to catch; rows interleaved, one repeated timestamp.
fn kpi_rows() -> Vec<(&'static str, i64, f64, bool)> {
    let mut rows = Vec::new();
    for (k, kpi) in ["kpi-a", "kpi-b"].into_iter().enumerate() {
        for i in 0..1500_i64 {
            let noise = ((i * 7919 + k as i64 * 31) % 101) as f64 / 50.0;
            let mut value = 100.0 + 10.0 * ((i as f64) / 60.0).sin() + noise;
            let mut label = false;
            if (900..905).contains(&i) || (1200..1203).contains(&i) {
                value += 80.0;
                label = true;
            }
            if (1300..1310).contains(&i) {
                value -= 0.5;
                label = true;
            }
            rows.push((kpi, 1_600_000_000 + i * MINUTE_S, value, label));
        }
    }
    // Interleave the two KPIs and repeat one row (same timestamp, other value).
    let (a, b) = rows.split_at(1500);
    let mut mixed: Vec<_> = a.iter().zip(b).flat_map(|(x, y)| [*x, *y]).collect();
    let mut repeated = mixed[10];
    repeated.2 += 1.0;
    mixed.insert(11, repeated);
    mixed
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn csv_figures_equal_the_engine_replay_scored_by_omen_eval() {
    let dir = TempDir::new().unwrap();
    let csv = dir.path().join("kpis.csv");
    let rows = kpi_rows();
    let mut text = String::from("timestamp,value,label,KPI ID\n");
    for (kpi, ts, value, label) in &rows {
        text.push_str(&format!("{ts},{value},{},{kpi}\n", u8::from(*label)));
    }
    std::fs::write(&csv, text).unwrap();

    let out = dir.path().join("figures.json");
    let run = omen([
        "eval",
        "labelled",
        "--input",
        csv.to_str().unwrap(),
        "--label-column",
        "label",
        "--delay",
        "3",
        "--json",
        out.to_str().unwrap(),
    ]);
    assert!(run.success, "{}", run.stderr);
    assert!(
        run.stdout.contains("2 series, 3000 points"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("upper bound"), "{}", run.stdout);
    assert!(run.stdout.contains("dropped: 1 repeated"), "{}", run.stdout);

    // The reference: each KPI in time order (the first of the repeated rows kept), epoch
    // seconds as milliseconds, through the engine, scored by the library.
    let mut reference = Vec::new();
    for kpi in ["kpi-a", "kpi-b"] {
        let mut replay =
            SeriesReplay::new(EnsembleConfig::default(), VerdictConfig::default()).unwrap();
        let (mut labels, mut scores, mut verdicts) = (vec![], vec![], vec![]);
        for (_, ts, value, label) in rows.iter().filter(|r| r.0 == kpi) {
            match replay.step(b"", ts * 1000, *value) {
                Step::Scored { score, anomaly } => {
                    labels.push(*label);
                    scores.push(score.score);
                    verdicts.push(anomaly);
                }
                Step::Duplicate => {}
                other => panic!("{other:?}"),
            }
        }
        reference.push(LabelledSeries::new(labels, scores, verdicts).unwrap());
    }
    let want = serde_json::to_value(evaluate(&reference, 3)).unwrap();
    let got = json(&out);
    for key in [
        "series",
        "points",
        "labelled_points",
        "point",
        "event",
        "best_point_f1",
        "best_event_f1",
    ] {
        assert_eq!(got[key], want[key], "{key}");
    }
    assert_eq!(got["rows_read"], 3001);
    assert_eq!(got["duplicates_dropped"], 1);
    // 3 segments per KPI; the spikes are caught, the subtle dip is not.
    assert_eq!(got["event"]["segments"], 6);
    assert_eq!(got["event"]["caught_segments"], 4, "{got:#}");
}

/// (name, instance, ms) -> the boolean column `column`.
fn flags(batches: &[RecordBatch], column: &str) -> HashMap<(String, String, i64), bool> {
    let mut out = HashMap::new();
    for batch in batches {
        let text = |name: &str| cast(batch.column_by_name(name).unwrap(), &DataType::Utf8).unwrap();
        let (names, instances) = (text("__name__"), text("instance"));
        let ts = cast(batch.column_by_name("timestamp").unwrap(), &DataType::Int64).unwrap();
        let flag = batch.column_by_name(column).unwrap().as_boolean().clone();
        for row in 0..batch.num_rows() {
            out.insert(
                (
                    names.as_string::<i32>().value(row).to_owned(),
                    instances.as_string::<i32>().value(row).to_owned(),
                    ts.as_primitive::<Int64Type>().value(row),
                ),
                flag.value(row),
            );
        }
    }
    out
}

#[test]
fn parquet_point_counts_equal_omen_analyze_verdicts_against_the_labels() {
    let dir = TempDir::new().unwrap();
    let data = generate_shop(dir.path(), 7, 8);
    let input = data.join("metrics-00000.parquet");
    let analysed = dir.path().join("analysed");
    let run = omen([
        "analyze",
        "--input",
        input.to_str().unwrap(),
        "--output",
        analysed.to_str().unwrap(),
    ]);
    assert!(run.success, "{}", run.stderr);

    let out = dir.path().join("figures.json");
    let run = omen([
        "eval",
        "labelled",
        "-i",
        input.to_str().unwrap(),
        "--label-column",
        "label",
        "--json",
        out.to_str().unwrap(),
    ]);
    assert!(run.success, "{}", run.stderr);
    let got = json(&out);

    let labels = flags(&read_parquet(&input), "label");
    let verdicts = flags(&read_parquet(&analysed.join("scores.parquet")), "anomaly");
    assert_eq!(labels.len(), verdicts.len());
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for (key, label) in &labels {
        match (label, verdicts[key]) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fn_ += 1,
            (false, false) => {}
        }
    }
    assert!(tp > 0, "the generated incidents are partly caught");
    assert_eq!(got["series"], 7);
    assert_eq!(got["point"]["true_positives"], tp);
    assert_eq!(got["point"]["false_positives"], fp);
    assert_eq!(got["point"]["false_negatives"], fn_);
    // The event view counts whole segments: at least as many TPs once a segment is caught.
    assert!(got["event"]["caught_segments"].as_u64().unwrap() > 0);
}

#[test]
fn a_missing_or_unusable_label_column_is_named() {
    let dir = TempDir::new().unwrap();
    let csv = dir.path().join("kpis.csv");
    std::fs::write(&csv, "timestamp,value,is_anomaly\n1600000000,1.0,0\n").unwrap();
    let run = omen([
        "eval",
        "labelled",
        "--input",
        csv.to_str().unwrap(),
        "--label-column",
        "label",
    ]);
    assert!(!run.success);
    assert!(
        run.stderr.contains("no label column (label)") && run.stderr.contains("`is_anomaly`"),
        "{}",
        run.stderr
    );

    std::fs::write(&csv, "timestamp,value,label\n1600000000,1.0,maybe\n").unwrap();
    let run = omen([
        "eval",
        "labelled",
        "--input",
        csv.to_str().unwrap(),
        "--label-column",
        "label",
    ]);
    assert!(!run.success);
    assert!(
        run.stderr.contains("line 2: the label `maybe`"),
        "{}",
        run.stderr
    );

    // In Parquet, a string label column is refused with its type.
    let run = omen([
        "eval",
        "labelled",
        "--input",
        "datasets/demo/shop/metrics-00000.parquet",
        "--label-column",
        "instance",
    ]);
    assert!(!run.success);
    assert!(
        run.stderr.contains("must be boolean or integer"),
        "{}",
        run.stderr
    );
}
