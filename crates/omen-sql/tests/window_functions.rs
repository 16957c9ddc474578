//! The window functions through real SQL: same scores as the engine's own replay, the
//! `ORDER BY` column as the implicit timestamp, and clear errors.

use std::sync::Arc;

use arrow::array::{
    Array, AsArray, Float64Array, Int64Array, RecordBatch, StringArray, TimestampNanosecondArray,
};
use arrow::datatypes::{DataType, Field, Float64Type, Schema, TimeUnit};
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};
use omen_detect::EnsembleConfig;
use omen_engine::{SeriesReplay, Step, VerdictConfig};

const MINUTE_MS: i64 = 60_000;

/// Three series of 600 points each with a spike near the end, rows interleaved and shuffled
/// across series so that the window has to partition and sort them.
fn metrics() -> (Vec<(String, i64, f64)>, RecordBatch) {
    let mut rows = Vec::new();
    for (s, name) in ["a", "b", "c"].into_iter().enumerate() {
        for i in 0..600_i64 {
            let phase = (i as f64) * 0.1 + s as f64;
            let noise = ((i * 7919 + s as i64 * 104_729) % 97) as f64 / 97.0;
            let mut value = 10.0 * (s + 1) as f64 + phase.sin() + noise;
            if i == 550 {
                value += 40.0;
            }
            rows.push((name.to_owned(), 1_700_000_000_000 + i * MINUTE_MS, value));
        }
    }
    // Reverse the row order: SQL must sort, not rely on stored order.
    let mut stored = rows.clone();
    stored.reverse();
    let schema = Arc::new(Schema::new(vec![
        Field::new("series", DataType::Utf8, false),
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            false,
        ),
        Field::new("value", DataType::Float64, true),
        Field::new("ts_ms", DataType::Int64, false),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from_iter_values(stored.iter().map(|r| &r.0))),
            Arc::new(
                TimestampNanosecondArray::from_iter_values(stored.iter().map(|r| r.1 * 1_000_000))
                    .with_timezone("UTC"),
            ),
            Arc::new(Float64Array::from_iter_values(stored.iter().map(|r| r.2))),
            Arc::new(Int64Array::from_iter_values(stored.iter().map(|r| r.1))),
        ],
    )
    .unwrap();
    (rows, batch)
}

fn context(batch: RecordBatch) -> SessionContext {
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(4));
    let table = MemTable::try_new(batch.schema(), vec![vec![batch]]).unwrap();
    ctx.register_table("metrics", Arc::new(table)).unwrap();
    omen_sql::register(&ctx, &EnsembleConfig::default(), &VerdictConfig::default());
    ctx
}

async fn collect(ctx: &SessionContext, sql: &str) -> datafusion::error::Result<Vec<RecordBatch>> {
    ctx.sql(sql).await?.collect().await
}

/// What the engine itself says for each row of `rows`, by series then time.
fn engine_scores(rows: &[(String, i64, f64)]) -> Vec<(f64, f64, f64, f64, bool)> {
    let mut replay =
        SeriesReplay::new(EnsembleConfig::default(), VerdictConfig::default()).unwrap();
    rows.iter()
        .map(
            |(series, ts, value)| match replay.step(series.as_bytes(), *ts, *value) {
                Step::Scored { score, anomaly } => (
                    score.score,
                    score.expected,
                    score.lower,
                    score.upper,
                    anomaly,
                ),
                other => panic!("unexpected {other:?}"),
            },
        )
        .collect()
}

#[tokio::test]
async fn sql_scores_equal_the_engine_replay_in_every_column() {
    let (rows, batch) = metrics();
    let ctx = context(batch);
    let batches = collect(
        &ctx,
        "SELECT series, ts_ms, \
            omen_score(value) OVER w AS score, omen_expected(value) OVER w AS expected, \
            omen_lower(value) OVER w AS lower, omen_upper(value) OVER w AS upper, \
            omen_anomaly(value) OVER w AS anomaly \
         FROM metrics WINDOW w AS (PARTITION BY series ORDER BY ts) \
         ORDER BY series, ts_ms",
    )
    .await
    .unwrap();
    let expected = engine_scores(&rows);
    let mut got = Vec::new();
    for batch in &batches {
        let column = |name: &str| batch.column_by_name(name).unwrap().clone();
        let (score, exp, lower, upper) = (
            column("score"),
            column("expected"),
            column("lower"),
            column("upper"),
        );
        let anomaly = column("anomaly");
        for row in 0..batch.num_rows() {
            got.push((
                score.as_primitive::<Float64Type>().value(row),
                exp.as_primitive::<Float64Type>().value(row),
                lower.as_primitive::<Float64Type>().value(row),
                upper.as_primitive::<Float64Type>().value(row),
                anomaly.as_boolean().value(row),
            ));
        }
    }
    assert_eq!(got.len(), expected.len());
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        // Bit-exact: the same detector fed the same samples in the same order.
        assert!(
            g.0.to_bits() == e.0.to_bits()
                && g.1.to_bits() == e.1.to_bits()
                && g.2.to_bits() == e.2.to_bits()
                && g.3.to_bits() == e.3.to_bits()
                && g.4 == e.4,
            "row {i}: sql {g:?} engine {e:?}"
        );
    }
    // The spikes are found: one flagged row per series at least.
    assert!(expected.iter().filter(|r| r.4).count() >= 3);
}

#[tokio::test]
async fn an_explicit_integer_timestamp_gives_the_same_scores_as_the_order_by_column() {
    let (_, batch) = metrics();
    let ctx = context(batch);
    let implicit = collect(
        &ctx,
        "SELECT omen_score(value) OVER (PARTITION BY series ORDER BY ts) AS s \
         FROM metrics ORDER BY series, ts",
    )
    .await
    .unwrap();
    let explicit = collect(
        &ctx,
        "SELECT omen_score(value, ts_ms) OVER (PARTITION BY series ORDER BY ts) AS s \
         FROM metrics ORDER BY series, ts",
    )
    .await
    .unwrap();
    assert_eq!(implicit, explicit);
}

#[tokio::test]
async fn null_values_and_repeated_timestamps_get_null_scores() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("ts", DataType::Int64, false),
        Field::new("value", DataType::Float64, true),
    ]));
    let ts: Vec<i64> = (0..200)
        .map(|i| i * MINUTE_MS)
        .chain([199 * MINUTE_MS])
        .collect();
    let values: Vec<Option<f64>> = (0..201)
        .map(|i| match i {
            50 => None,
            60 => Some(f64::NAN),
            _ => Some(i as f64 % 7.0),
        })
        .collect();
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(ts)),
            Arc::new(Float64Array::from(values)),
        ],
    )
    .unwrap();
    let ctx = context(batch);
    let batches = collect(
        &ctx,
        "SELECT omen_score(value) OVER (ORDER BY ts) AS s FROM metrics",
    )
    .await
    .unwrap();
    let nulls: usize = batches.iter().map(|b| b.column(0).null_count()).sum();
    // Row 50 (NULL), row 60 (NaN) and the repeated last timestamp.
    assert_eq!(nulls, 3);
}

#[tokio::test]
async fn a_window_without_order_by_or_in_reverse_order_is_refused_with_the_fix() {
    let (_, batch) = metrics();
    let ctx = context(batch);
    let err = collect(
        &ctx,
        "SELECT omen_score(value) OVER (PARTITION BY series) FROM metrics",
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("ORDER BY ts"), "{err}");

    let err = collect(
        &ctx,
        "SELECT omen_score(value) OVER (PARTITION BY series ORDER BY ts DESC) FROM metrics",
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("ascending"), "{err}");

    // An explicit timestamp with the window ordered by something else goes back in time.
    let err = collect(
        &ctx,
        "SELECT omen_score(value, ts_ms) OVER (PARTITION BY series ORDER BY value) FROM metrics",
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("goes back in time"), "{err}");

    let err = collect(
        &ctx,
        "SELECT omen_score(series) OVER (ORDER BY ts) FROM metrics",
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("the value must be a number"), "{err}");
}
