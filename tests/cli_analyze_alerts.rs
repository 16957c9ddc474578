//! `omen analyze` with `[alert]` rules: the alerts that would have fired, in `alerts.parquet`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::support::{omen, read_parquet};
use arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Field, Float64Type, Schema, TimeUnit, TimestampMillisecondType};
use parquet::arrow::ArrowWriter;
use tempfile::TempDir;

const START_MS: i64 = 1_700_000_000_000;
const STEP_MS: i64 = 60_000;
const POINTS: i64 = 2_000;
/// The incident on instance `a`: samples [INCIDENT.0, INCIDENT.1).
const INCIDENT: (i64, i64) = (1_500, 1_530);

/// Two series of `cpu` at one-minute steps, a daily-free noisy level around 50; instance `a`
/// jumps to 200 during the incident, instance `b` never moves.
fn write_input(path: &Path, incident: (i64, i64)) {
    let mut rows: Vec<(&str, i64, f64)> = Vec::new();
    for i in 0..POINTS {
        for instance in ["a", "b"] {
            // Deterministic noise: a few incommensurate sines.
            let noise = (i as f64 * 0.7).sin() + 0.5 * (i as f64 * 1.3 + 1.0).sin();
            let incident = instance == "a" && (incident.0..incident.1).contains(&i);
            let value = if incident { 200.0 } else { 50.0 + noise };
            rows.push((instance, START_MS + i * STEP_MS, value));
        }
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("__name__", DataType::Utf8, false),
        Field::new("instance", DataType::Utf8, false),
        Field::new(
            "timestamp",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            false,
        ),
        Field::new("value", DataType::Float64, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(rows.iter().map(|_| "cpu"))),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
        Arc::new(TimestampMillisecondArray::from_iter_values(
            rows.iter().map(|r| r.1),
        )),
        Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.2))),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    let mut writer = ArrowWriter::try_new(File::create(path).unwrap(), schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

/// Runs `omen analyze` on the two-series input with `config` (none when empty).
fn analyze(dir: &TempDir, config: &str, extra: &[&str]) -> (crate::support::Run, PathBuf) {
    analyze_with(dir, INCIDENT, config, extra)
}

fn analyze_with(
    dir: &TempDir,
    incident: (i64, i64),
    config: &str,
    extra: &[&str],
) -> (crate::support::Run, PathBuf) {
    let input = dir.path().join("cpu.parquet");
    write_input(&input, incident);
    let out = dir.path().join("out");
    let mut args: Vec<String> = vec![
        "analyze".into(),
        "--input".into(),
        input.display().to_string(),
        "--output".into(),
        out.display().to_string(),
    ];
    if !config.is_empty() {
        let path = dir.path().join("omen.toml");
        std::fs::write(&path, config).unwrap();
        args.extend(["--config".into(), path.display().to_string()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    (omen(&args), out)
}

/// One row of alerts.parquet.
#[derive(Debug)]
struct AlertRow {
    instance: String,
    alertname: String,
    severity: String,
    fired_at: i64,
    resolved_at: Option<i64>,
    peak_score: f64,
    value_at_fire: f64,
    expected_at_fire: f64,
    explanation: serde_json::Value,
}

fn read_alerts(out: &Path) -> Vec<AlertRow> {
    let mut rows = Vec::new();
    for batch in read_parquet(&out.join("alerts.parquet")) {
        let text = |name: &str| {
            // Series columns keep the input's type (a dictionary or not): read them as text.
            arrow::compute::cast(batch.column_by_name(name).unwrap(), &DataType::Utf8)
                .unwrap()
                .as_string::<i32>()
                .clone()
        };
        let float = |name: &str| {
            batch
                .column_by_name(name)
                .unwrap()
                .as_primitive::<Float64Type>()
                .clone()
        };
        let time = |name: &str| {
            batch
                .column_by_name(name)
                .unwrap()
                .as_primitive::<TimestampMillisecondType>()
                .clone()
        };
        let (instance, alertname, severity, explanation) = (
            text("instance"),
            text("alertname"),
            text("severity"),
            text("explanation"),
        );
        let (fired, resolved) = (time("fired_at"), time("resolved_at"));
        let (peak, value, expected) = (
            float("peak_score"),
            float("value_at_fire"),
            float("expected_at_fire"),
        );
        for i in 0..batch.num_rows() {
            rows.push(AlertRow {
                instance: instance.value(i).to_owned(),
                alertname: alertname.value(i).to_owned(),
                severity: severity.value(i).to_owned(),
                fired_at: fired.value(i),
                resolved_at: resolved.is_valid(i).then(|| resolved.value(i)),
                peak_score: peak.value(i),
                value_at_fire: value.value(i),
                expected_at_fire: expected.value(i),
                explanation: serde_json::from_str(explanation.value(i)).unwrap(),
            });
        }
    }
    rows
}

const ONE_RULE: &str = r#"
[[alert.rules]]
name = "CpuJump"
match = ['cpu']
for = "2m"
keep_firing_for = "5m"
"#;

#[test]
fn the_incident_fires_one_alert_on_its_series_and_resolves_after_it() {
    let dir = TempDir::new().unwrap();
    let report = dir.path().join("report.html");
    let (run, out) = analyze(&dir, ONE_RULE, &["--report", report.to_str().unwrap()]);
    assert!(run.success, "{}", run.stderr);

    let alerts = read_alerts(&out);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let alert = &alerts[0];
    assert_eq!(alert.instance, "a");
    assert_eq!(alert.alertname, "CpuJump");
    assert!(!alert.severity.is_empty());
    let at = |i: i64| START_MS + i * STEP_MS;
    assert!(
        alert.fired_at >= at(INCIDENT.0) && alert.fired_at < at(INCIDENT.1),
        "fired at {} outside the incident [{}, {})",
        alert.fired_at,
        at(INCIDENT.0),
        at(INCIDENT.1)
    );
    let resolved = alert.resolved_at.expect("resolved after the incident");
    assert!(
        resolved >= at(INCIDENT.1) && resolved < at(POINTS),
        "resolved at {resolved}, incident ends at {}",
        at(INCIDENT.1)
    );
    assert!(alert.peak_score >= 0.5, "{alert:?}");
    assert_eq!(alert.value_at_fire, 200.0);
    // The level model adapts within `for`: the expected value is the one at the firing sample.
    assert_eq!(alert.explanation["expected"], alert.expected_at_fire);
    assert_eq!(alert.explanation["rule"], "CpuJump");
    assert_eq!(alert.explanation["value"], 200.0);

    assert!(
        run.stdout.contains("alerts that would have fired: 1"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("CpuJump"), "{}", run.stdout);
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(
        html.contains("Alerts that would have fired"),
        "no alert table"
    );
    assert!(html.contains("CpuJump"));
    assert!(
        html.contains("<td>cpu{instance=&quot;a&quot;}</td>"),
        "the series is named"
    );
    // Nothing left behind by the atomic writes.
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
}

#[test]
fn an_alert_firing_when_the_data_ends_stays_firing() {
    let dir = TempDir::new().unwrap();
    let (run, out) = analyze_with(&dir, (POINTS - 20, POINTS), ONE_RULE, &[]);
    assert!(run.success, "{}", run.stderr);
    let alerts = read_alerts(&out);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0].instance, "a");
    assert_eq!(alerts[0].resolved_at, None, "{alerts:#?}");
    assert!(run.stdout.contains("(1 still firing"), "{}", run.stdout);
}

#[test]
fn a_rule_that_selects_no_series_writes_an_empty_alerts_file() {
    let dir = TempDir::new().unwrap();
    let config = r#"
[[alert.rules]]
name = "Memory"
match = ['memory_bytes']
"#;
    let (run, out) = analyze(&dir, config, &[]);
    assert!(run.success, "{}", run.stderr);
    assert!(out.join("alerts.parquet").exists());
    assert!(read_alerts(&out).is_empty());
    let batches = read_parquet(&out.join("alerts.parquet"));
    let schema = batches
        .first()
        .map(|b| b.schema())
        .unwrap_or_else(|| parquet_schema(&out.join("alerts.parquet")));
    for column in ["alertname", "fired_at", "resolved_at", "explanation"] {
        assert!(schema.column_with_name(column).is_some(), "{column}");
    }
    assert!(
        run.stdout.contains("alerts that would have fired: 0"),
        "{}",
        run.stdout
    );
}

fn parquet_schema(path: &Path) -> arrow::datatypes::SchemaRef {
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        File::open(path).unwrap(),
    )
    .unwrap()
    .schema()
    .clone()
}

#[test]
fn without_rules_no_alerts_file_is_written() {
    let dir = TempDir::new().unwrap();
    let (run, out) = analyze(&dir, "", &[]);
    assert!(run.success, "{}", run.stderr);
    assert!(out.join("anomalies.parquet").exists());
    assert!(!out.join("alerts.parquet").exists());
    assert!(!run.stdout.contains("alerts"), "{}", run.stdout);
}

#[test]
fn a_bad_alert_config_fails_before_reading_any_data() {
    let dir = TempDir::new().unwrap();
    let config = "[[alert.rules]]\nname = \"a\"\nfor = \"-5m\"\n";
    std::fs::write(dir.path().join("omen.toml"), config).unwrap();
    let out = dir.path().join("out");
    // The input does not exist: failing on the config means the data was never read.
    let run = omen([
        "analyze",
        "--input",
        dir.path().join("missing.parquet").to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--config",
        dir.path().join("omen.toml").to_str().unwrap(),
    ]);
    assert!(!run.success);
    assert!(run.stderr.contains("for"), "{}", run.stderr);
    assert!(run.stderr.contains("omen.toml"), "{}", run.stderr);
    assert!(!run.stderr.contains("missing.parquet"), "{}", run.stderr);
    assert!(!out.exists());
}
