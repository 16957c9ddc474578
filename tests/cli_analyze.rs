//! `omen analyze` end to end: real Parquet files in, the built binary, Parquet out.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::support::{generate_shop, omen, read_parquet};
use arrow::array::{
    ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Field, Float64Type, Schema, TimeUnit, TimestampMillisecondType};
use omen_core::{Detector, Sample, Status};
use omen_detect::{Ensemble, EnsembleConfig};
use omen_eval::shop::{HistoryOptions, generate_series};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use tempfile::TempDir;

/// Rows of a long table: (metric name, instance, timestamp ms, value).
type Rows = Vec<(String, String, i64, f64)>;

/// Three series of the shop history at 5-minute steps over 10 days, in time-major order as a
/// Prometheus export would be (all series at t, then all at t + 1).
fn shop_rows() -> Rows {
    let options = HistoryOptions {
        series: 3,
        days: 10,
        step_ms: 300_000,
        ..HistoryOptions::default()
    };
    let series: Vec<_> = (0..3).map(|i| generate_series(&options, i)).collect();
    let mut rows = Vec::new();
    for t in 0..options.points_per_series() {
        for s in &series {
            rows.push((
                s.kind.metric_name().to_owned(),
                s.instance.clone(),
                options.start_ms + t as i64 * options.step_ms,
                s.values[t],
            ));
        }
    }
    rows
}

fn write_long(path: &Path, rows: &Rows) {
    write_batch(path, long_batch(rows));
}

fn long_batch(rows: &Rows) -> RecordBatch {
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
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.0))),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.1))),
        Arc::new(TimestampMillisecondArray::from_iter_values(
            rows.iter().map(|r| r.2),
        )),
        Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.3))),
    ];
    RecordBatch::try_new(schema, columns).unwrap()
}

fn write_batch(path: &Path, batch: RecordBatch) {
    write_batch_with(path, batch, None);
}

fn write_batch_with(path: &Path, batch: RecordBatch, props: Option<WriterProperties>) {
    let mut writer =
        ArrowWriter::try_new(File::create(path).unwrap(), batch.schema(), props).unwrap();
    // Small batches, so that the reader sees many and the routing is exercised.
    for offset in (0..batch.num_rows()).step_by(1000) {
        writer
            .write(&batch.slice(offset, 1000.min(batch.num_rows() - offset)))
            .unwrap();
    }
    writer.close().unwrap();
}

/// scores.parquet as (series name, instance) -> [(timestamp, value, score, expected, anomaly)].
type Scored = BTreeMap<(String, String), Vec<(i64, f64, f64, f64, bool)>>;

fn read_scores(dir: &Path) -> Scored {
    let mut out = Scored::new();
    for batch in read_parquet(&dir.join("scores.parquet")) {
        let text = |name: &str| {
            arrow::compute::cast(batch.column_by_name(name).unwrap(), &DataType::Utf8).unwrap()
        };
        let names = text("__name__");
        let instances = text("instance");
        let f = |name: &str| {
            batch
                .column_by_name(name)
                .unwrap()
                .as_primitive::<Float64Type>()
                .clone()
        };
        let ts = batch
            .column_by_name("timestamp")
            .unwrap()
            .as_primitive::<TimestampMillisecondType>()
            .clone();
        let (value, score, expected) = (f("value"), f("score"), f("expected"));
        let anomaly = batch
            .column_by_name("anomaly")
            .unwrap()
            .as_boolean()
            .clone();
        for i in 0..batch.num_rows() {
            out.entry((
                names.as_string::<i32>().value(i).to_owned(),
                instances.as_string::<i32>().value(i).to_owned(),
            ))
            .or_default()
            .push((
                ts.value(i),
                value.value(i),
                score.value(i),
                expected.value(i),
                anomaly.value(i),
            ));
        }
    }
    out
}

/// What the detector gives for `rows`' series when called sample by sample, as the live path
/// does.
fn reference_scores(rows: &Rows) -> Scored {
    let mut by_series: BTreeMap<(String, String), Vec<(i64, f64)>> = BTreeMap::new();
    for (name, instance, t, v) in rows {
        by_series
            .entry((name.clone(), instance.clone()))
            .or_default()
            .push((*t, *v));
    }
    by_series
        .into_iter()
        .map(|(key, mut samples)| {
            samples.sort_by_key(|s| s.0);
            samples.dedup_by_key(|s| s.0);
            let mut detector = Ensemble::new(EnsembleConfig::default());
            let scored = samples
                .into_iter()
                .map(|(t, v)| {
                    let s = detector.update(Sample::new(t, v));
                    let anomaly = s.status == Status::Ready && s.score >= 0.5;
                    (t, v, s.score, s.expected, anomaly)
                })
                .collect();
            (key, scored)
        })
        .collect()
}

fn assert_same_scores(got: &Scored, want: &Scored) {
    assert_eq!(got.len(), want.len(), "series");
    for (key, want) in want {
        let got = &got[key];
        assert_eq!(got.len(), want.len(), "{key:?} rows");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            // Bit for bit: NaN equal to NaN, otherwise exact.
            let same = |a: f64, b: f64| a.to_bits() == b.to_bits();
            assert!(
                g.0 == w.0 && same(g.1, w.1) && same(g.2, w.2) && same(g.3, w.3) && g.4 == w.4,
                "{key:?} row {i}: got {g:?}, want {w:?}"
            );
        }
    }
}

/// The min and max of a text column over every row group of a Parquet file, from its footer.
fn label_bounds(path: &Path, column: &str) -> (String, String) {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::file::statistics::Statistics;
    let reader = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
    let (mut min, mut max): (Option<String>, Option<String>) = (None, None);
    for group in reader.metadata().row_groups() {
        let chunk = group
            .columns()
            .iter()
            .find(|c| c.column_path().string() == column)
            .unwrap();
        let Some(Statistics::ByteArray(stats)) = chunk.statistics() else {
            panic!("no statistics for {column}");
        };
        let text = |v: Option<&parquet::data_type::ByteArray>| {
            String::from_utf8(v.unwrap().data().to_vec()).unwrap()
        };
        let (lo, hi) = (text(stats.min_opt()), text(stats.max_opt()));
        min = Some(min.map_or(lo.clone(), |m| m.min(lo)));
        max = Some(max.map_or(hi.clone(), |m| m.max(hi)));
    }
    (min.unwrap(), max.unwrap())
}

fn analyze(dir: &TempDir, inputs: &[PathBuf], extra: &[&str]) -> (crate::support::Run, PathBuf) {
    let out = dir.path().join("out");
    let mut args: Vec<String> = vec!["analyze".into(), "--input".into()];
    args.extend(inputs.iter().map(|p| p.display().to_string()));
    args.extend(["--output".into(), out.display().to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    (omen(&args), out)
}

#[test]
fn analyze_gives_the_scores_of_the_detector_fed_sample_by_sample() {
    let dir = TempDir::new().unwrap();
    let rows = shop_rows();
    let input = dir.path().join("shop.parquet");
    write_long(&input, &rows);
    let (run, out) = analyze(&dir, &[input], &[]);
    assert!(run.success, "{}", run.stderr);
    assert_same_scores(&read_scores(&out), &reference_scores(&rows));
    // The label columns' statistics (kept by omen, not by Parquet's writer) bound their values.
    let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let instances: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    for (column, values) in [("__name__", names), ("instance", instances)] {
        let (min, max) = label_bounds(&out.join("scores.parquet"), column);
        assert_eq!(min, *values.iter().min().unwrap(), "{column}");
        assert_eq!(max, *values.iter().max().unwrap(), "{column}");
    }
    assert!(
        run.stdout.contains("analysed 3 series, 8640 points"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("long layout"), "{}", run.stderr);
}

#[test]
fn unsorted_input_over_several_files_is_sorted_and_duplicates_are_dropped() {
    let dir = TempDir::new().unwrap();
    let rows = shop_rows();
    // Reverse time, split over two files whose names put the later half first, and repeat
    // some rows with another value (the first one read in time order is kept).
    let mut shuffled: Rows = rows.iter().rev().cloned().collect();
    let half = shuffled.len() / 2;
    let mut first = shuffled.split_off(half);
    for row in rows.iter().step_by(97) {
        first.push((row.0.clone(), row.1.clone(), row.2, row.3));
    }
    let a = dir.path().join("a.parquet");
    let b = dir.path().join("b.parquet");
    write_long(&a, &shuffled);
    write_long(&b, &first);
    let (run, out) = analyze(&dir, &[dir.path().join("*.parquet")], &[]);
    assert!(run.success, "{}", run.stderr);
    assert!(run.stderr.contains("goes back in time"), "{}", run.stderr);
    let duplicates = rows.iter().step_by(97).count();
    assert!(
        run.stdout
            .contains(&format!("{duplicates} duplicate timestamps")),
        "{}",
        run.stdout
    );
    let got = read_scores(&out);
    let want = reference_scores(&rows);
    // A duplicate pair has the same value here, so which one is kept does not matter.
    assert_same_scores(&got, &want);
}

#[test]
fn wide_layout_and_integer_epoch_milliseconds() {
    let dir = TempDir::new().unwrap();
    let rows = shop_rows();
    let by_t: BTreeMap<i64, Vec<f64>> = rows.iter().fold(BTreeMap::new(), |mut m, r| {
        m.entry(r.2).or_insert_with(Vec::new).push(r.3);
        m
    });
    let names: Vec<String> = rows[..3].iter().map(|r| r.0.clone()).collect();
    let mut fields = vec![Field::new("ts", DataType::Int64, false)];
    fields.extend(
        names
            .iter()
            .map(|n| Field::new(n, DataType::Float64, false)),
    );
    let mut columns: Vec<ArrayRef> =
        vec![Arc::new(Int64Array::from_iter_values(by_t.keys().copied()))];
    for k in 0..3 {
        columns.push(Arc::new(Float64Array::from_iter_values(
            by_t.values().map(|v| v[k]),
        )));
    }
    let input = dir.path().join("wide.parquet");
    write_batch(
        &input,
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap(),
    );
    let (run, out) = analyze(&dir, &[input], &[]);
    assert!(run.success, "{}", run.stderr);
    assert!(run.stderr.contains("wide layout"), "{}", run.stderr);
    let batches = read_parquet(&out.join("scores.parquet"));
    let schema = batches[0].schema();
    assert_eq!(schema.field(0).name(), "series");
    let mut per_series: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for batch in &batches {
        let series = batch.column(0).as_string::<i32>();
        let score = batch
            .column_by_name("score")
            .unwrap()
            .as_primitive::<Float64Type>();
        for i in 0..batch.num_rows() {
            per_series
                .entry(series.value(i).to_owned())
                .or_default()
                .push(score.value(i));
        }
    }
    let want = reference_scores(&rows);
    for ((name, _), want) in want {
        let got = &per_series[&name];
        let want: Vec<f64> = want.iter().map(|w| w.2).collect();
        assert_eq!(got, &want, "{name}");
    }
}

#[test]
fn sql_selects_the_series_to_analyse() {
    let dir = TempDir::new().unwrap();
    let rows = shop_rows();
    let input = dir.path().join("shop.parquet");
    write_long(&input, &rows);
    let (run, out) = analyze(
        &dir,
        &[input],
        &[
            "--sql",
            "SELECT timestamp, __name__, instance, value * 2 AS value FROM metrics \
             WHERE __name__ = 'shop_orders_per_minute'",
        ],
    );
    assert!(run.success, "{}", run.stderr);
    let got = read_scores(&out);
    assert_eq!(got.len(), 1);
    let doubled: Rows = rows
        .iter()
        .filter(|r| r.0 == "shop_orders_per_minute")
        .map(|r| (r.0.clone(), r.1.clone(), r.2, r.3 * 2.0))
        .collect();
    assert_same_scores(&got, &reference_scores(&doubled));
}

#[test]
fn an_injected_spike_becomes_an_explained_anomaly_interval() {
    let dir = TempDir::new().unwrap();
    let mut rows: Rows = shop_rows()
        .into_iter()
        .filter(|r| r.0 == "http_request_duration_seconds_p95")
        .collect();
    let spike_at = rows.len() * 3 / 4;
    rows[spike_at].3 = 30.0;
    let spike_ms = rows[spike_at].2;
    let input = dir.path().join("latency.parquet");
    write_long(&input, &rows);
    let report = dir.path().join("report.html");
    let (run, out) = analyze(&dir, &[input], &["--report", report.to_str().unwrap()]);
    assert!(run.success, "{}", run.stderr);
    let batches = read_parquet(&out.join("anomalies.parquet"));
    let mut found = false;
    for batch in &batches {
        let start = batch
            .column_by_name("start")
            .unwrap()
            .as_primitive::<TimestampMillisecondType>();
        let end = batch
            .column_by_name("end")
            .unwrap()
            .as_primitive::<TimestampMillisecondType>();
        let explanation = batch
            .column_by_name("explanation")
            .unwrap()
            .as_string::<i32>();
        let peak = batch
            .column_by_name("peak_value")
            .unwrap()
            .as_primitive::<Float64Type>();
        for i in 0..batch.num_rows() {
            if start.value(i) <= spike_ms && spike_ms <= end.value(i) {
                found = true;
                assert_eq!(peak.value(i), 30.0);
                assert!(
                    explanation.value(i).starts_with("value 30 above the band"),
                    "{}",
                    explanation.value(i)
                );
            }
        }
    }
    assert!(found, "no interval covers the spike; {}", run.stdout);
    assert!(
        run.stdout.contains("top anomalous series"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("__name__=http_request_duration_seconds_p95, instance=shop-001"),
        "{}",
        run.stdout
    );

    // The report charts the one series, names it as Prometheus does and explains the spike.
    let html = std::fs::read_to_string(&report).unwrap();
    assert_eq!(html.matches("<svg").count(), 1, "one chart");
    assert!(
        html.contains("http_request_duration_seconds_p95{instance=&quot;shop-001&quot;}"),
        "series title missing"
    );
    assert!(
        html.contains("value 30 above the band"),
        "explanation missing"
    );
    assert!(!html.contains("NaN"));
}

/// A report path inside the output directory `analyze` uses, so that the no-output check
/// covers it too.
fn out_report(dir: &TempDir) -> String {
    dir.path()
        .join("out")
        .join("report.html")
        .to_str()
        .unwrap()
        .to_owned()
}

/// Files in `dir`, or none when it does not exist.
fn listing(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn bad_input_is_named_and_leaves_no_output() {
    let dir = TempDir::new().unwrap();
    let good = dir.path().join("good.parquet");
    write_long(&good, &shop_rows()[..300].to_vec());
    let corrupt = dir.path().join("corrupt.parquet");
    std::fs::write(&corrupt, b"PAR1 this is not really parquet").unwrap();
    // A readable footer over a corrupt middle: found only when the pages are decoded. Many
    // small pages, so that the damage hits page headers: without page checksums, damaged
    // values inside a page decode as other numbers and nothing can tell.
    let corrupt_page = dir.path().join("corrupt_page.parquet");
    let snappy = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_dictionary_enabled(false)
        .set_write_batch_size(64)
        .set_data_page_size_limit(512)
        .build();
    write_batch_with(&corrupt_page, long_batch(&shop_rows()), Some(snappy));
    let mut bytes = std::fs::read(&corrupt_page).unwrap();
    let n = bytes.len();
    bytes[n * 2 / 5..n * 3 / 5].fill(0xA5);
    std::fs::write(&corrupt_page, bytes).unwrap();
    let no_ts = dir.path().join("no_ts.parquet");
    write_batch(
        &no_ts,
        RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new(
                "value",
                DataType::Float64,
                false,
            )])),
            vec![Arc::new(Float64Array::from(vec![1.0, 2.0]))],
        )
        .unwrap(),
    );
    let text_value = dir.path().join("text_value.parquet");
    write_batch(
        &text_value,
        RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("ts", DataType::Int64, false),
                Field::new("value", DataType::Utf8, false),
            ])),
            vec![
                Arc::new(Int64Array::from(vec![1, 2])),
                Arc::new(StringArray::from(vec!["1", "x"])),
            ],
        )
        .unwrap(),
    );
    let missing = dir.path().join("missing.parquet");
    // (name, inputs, extra arguments, what stderr must say)
    type Case<'a> = (&'a str, Vec<PathBuf>, Vec<&'a str>, Vec<String>);
    let cases: Vec<Case> = vec![
        (
            "missing file",
            vec![missing.clone()],
            vec![],
            vec![format!("cannot open `{}`", missing.display())],
        ),
        (
            "corrupt file",
            vec![corrupt.clone()],
            vec![],
            vec![format!(
                "`{}` is not a readable Parquet file",
                corrupt.display()
            )],
        ),
        (
            "corrupt page mid-file",
            vec![good.clone(), corrupt_page.clone()],
            vec![],
            vec![format!(
                "`{}` is not a readable Parquet file",
                corrupt_page.display()
            )],
        ),
        (
            "no timestamp",
            vec![no_ts],
            vec![],
            vec!["no timestamp column".into(), "`value: Float64`".into()],
        ),
        (
            "text value",
            vec![text_value],
            vec![],
            vec!["the value column `value` has type Utf8".into()],
        ),
        (
            "sql error",
            vec![good.clone()],
            vec!["--sql", "SELECT nope FROM metrics"],
            vec!["SQL error".into(), "nope".into()],
        ),
        (
            "empty result",
            vec![good.clone()],
            vec!["--sql", "SELECT * FROM metrics WHERE value < -1"],
            vec!["the input has no rows after the SQL query".into()],
        ),
        (
            "bad config",
            vec![good.clone()],
            vec!["--config", "/no/such/omen.toml"],
            vec!["cannot read the configuration `/no/such/omen.toml`".into()],
        ),
    ];
    for (name, inputs, extra, wants) in cases {
        let case_dir = TempDir::new().unwrap();
        let report = out_report(&case_dir);
        let mut extra = extra;
        extra.extend(["--report", &report]);
        let (run, out) = analyze(&case_dir, &inputs, &extra);
        assert!(!run.success, "{name}: succeeded\n{}", run.stdout);
        for want in wants {
            assert!(
                run.stderr.contains(&want),
                "{name}: want {want:?} in\n{}",
                run.stderr
            );
        }
        assert_eq!(
            listing(&out),
            Vec::<String>::new(),
            "{name}: output left behind"
        );
    }
}

#[test]
fn a_glob_over_generated_files_and_the_label_column_is_not_a_series() {
    let dir = TempDir::new().unwrap();
    let data = generate_shop(dir.path(), 7, 8);
    assert!(data.join("metrics-00000.parquet").exists());
    let incidents = std::fs::read_to_string(data.join("incidents.csv")).unwrap();
    assert!(
        incidents.starts_with("__name__,instance,kind,start,end\n"),
        "{incidents}"
    );
    let (run, out) = analyze(&dir, &[data.join("*.parquet")], &[]);
    assert!(run.success, "{}", run.stderr);
    // 7 series: the boolean `label` column does not split series.
    assert!(
        run.stdout.contains("analysed 7 series, 16128 points"),
        "{}",
        run.stdout
    );
    let first = &read_parquet(&out.join("scores.parquet"))[0];
    let names: Vec<_> = first
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        [
            "__name__",
            "instance",
            "timestamp",
            "value",
            "score",
            "expected",
            "lower",
            "upper",
            "anomaly"
        ]
    );
    // The generator writes dictionary-encoded labels; they come back as they went in.
    assert!(matches!(
        first.column(0).data_type(),
        DataType::Dictionary(_, _)
    ));
}
