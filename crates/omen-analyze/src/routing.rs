//! Routing rows to workers by series, a run of rows at a time.
//!
//! Metrics files nearly always keep a series' samples together (written series by series, or
//! sorted by series and time), so a batch is a few long runs of one series each. The router
//! finds the runs, hashes the first row of each run only, and hands a worker a zero-copy
//! slice when its runs are adjacent; the worker then looks its series up once per run, not at
//! every row. Input in time order, every row a different series, is runs of one row and is
//! routed row by row as before.

use std::ops::Range;

use arrow::array::{ArrayRef, AsArray, RecordBatch, UInt32Array, make_array};
use arrow::compute::{partition, take, take_record_batch};
use arrow::datatypes::{Float64Type, Int64Type};
use omen_ingest::SeriesBatch;

use crate::error::{Context, Result};

/// Rows of some series, and where each series' run of rows is in them.
pub(crate) struct Routed {
    pub(crate) part: SeriesBatch,
    /// Consecutive rows of one series each, in order, covering every row.
    pub(crate) runs: Vec<Range<usize>>,
}

impl Routed {
    /// The first row of each run, to key its series with.
    pub(crate) fn run_heads(&self) -> Result<RecordBatch> {
        first_rows(&self.part.series, &self.runs)
    }
}

/// Sends every series to the same one of `workers` workers, by a hash of its series columns.
pub(crate) struct Router {
    workers: usize,
    hasher: foldhash::fast::FixedState,
    hashes: Vec<u64>,
}

impl Router {
    pub(crate) fn new(workers: usize) -> Self {
        Self {
            workers: workers.max(1),
            hasher: foldhash::fast::FixedState::with_seed(0x0e11),
            hashes: Vec::new(),
        }
    }

    /// Split `part` by worker: `(worker, its rows)` for every worker that has rows.
    pub(crate) fn route(&mut self, part: SeriesBatch) -> Result<Vec<(usize, Routed)>> {
        let rows = part.timestamp_ms.len();
        let runs = series_runs(&part.series)?;
        if self.workers == 1 || part.series.num_columns() == 0 {
            return Ok(vec![(0, Routed { part, runs })]);
        }

        let heads = first_rows(&part.series, &runs)?;
        self.hashes.clear();
        self.hashes.resize(runs.len(), 0);
        datafusion::common::hash_utils::create_hashes_with_hasher(
            heads.columns(),
            &self.hasher,
            &mut self.hashes,
        )
        .context("cannot hash the series columns")?;

        let mut by_worker: Vec<Vec<Range<usize>>> = vec![Vec::new(); self.workers];
        for (run, hash) in runs.into_iter().zip(&self.hashes) {
            by_worker[(hash % self.workers as u64) as usize].push(run);
        }
        let mut routed = Vec::with_capacity(self.workers);
        for (worker, runs) in by_worker.into_iter().enumerate() {
            let (Some(first), Some(last)) = (runs.first(), runs.last()) else {
                continue;
            };
            let (start, end) = (first.start, last.end);
            let adjacent = runs.windows(2).all(|w| w[0].end == w[1].start);
            let (sub, runs) = if adjacent && start == 0 && end == rows {
                (part.clone(), runs)
            } else if adjacent {
                let sub = slice(&part, start, end - start);
                let runs = runs
                    .iter()
                    .map(|r| r.start - start..r.end - start)
                    .collect();
                (sub, runs)
            } else {
                gather(&part, &runs)?
            };
            routed.push((worker, Routed { part: sub, runs }));
        }
        Ok(routed)
    }
}

/// The runs of consecutive rows with equal series columns (one run without series columns).
fn series_runs(series: &RecordBatch) -> Result<Vec<Range<usize>>> {
    let rows = series.num_rows();
    if series.num_columns() == 0 {
        return Ok((rows > 0).then_some(0..rows).into_iter().collect());
    }
    // A dictionary column is compared by its keys: integers instead of strings. Equal values
    // under two keys (a dictionary with repeats) only split a run in two, which costs the
    // worker one more lookup and changes nothing else.
    let comparable: Vec<ArrayRef> = series
        .columns()
        .iter()
        .map(|column| match column.as_any_dictionary_opt() {
            Some(dictionary) => make_array(dictionary.keys().to_data()),
            None => column.clone(),
        })
        .collect();
    Ok(partition(&comparable)
        .context("cannot compare the series columns")?
        .ranges())
}

/// The first row of each of `runs`; all of `series` when every run is one row.
fn first_rows(series: &RecordBatch, runs: &[Range<usize>]) -> Result<RecordBatch> {
    if runs.len() == series.num_rows() {
        return Ok(series.clone());
    }
    let heads = UInt32Array::from_iter_values(runs.iter().map(|r| r.start as u32));
    take_record_batch(series, &heads).context("cannot select the series' first rows")
}

fn slice(part: &SeriesBatch, offset: usize, length: usize) -> SeriesBatch {
    SeriesBatch {
        series: part.series.slice(offset, length),
        timestamp_ms: part.timestamp_ms.slice(offset, length),
        value: part.value.slice(offset, length),
    }
}

/// The rows of `runs`, copied together, and where each run now is.
fn gather(part: &SeriesBatch, runs: &[Range<usize>]) -> Result<(SeriesBatch, Vec<Range<usize>>)> {
    let indices =
        UInt32Array::from_iter_values(runs.iter().flat_map(|r| r.start as u32..r.end as u32));
    let mut at = 0;
    let moved = runs
        .iter()
        .map(|r| {
            let moved = at..at + r.len();
            at += r.len();
            moved
        })
        .collect();
    let sub = SeriesBatch {
        series: take_record_batch(&part.series, &indices)?,
        timestamp_ms: take(&part.timestamp_ms, &indices, None)?
            .as_primitive::<Int64Type>()
            .clone(),
        value: take(&part.value, &indices, None)?
            .as_primitive::<Float64Type>()
            .clone(),
    };
    Ok((sub, moved))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Array, Float64Array, Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn part(names: &[&str]) -> SeriesBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("name", DataType::Utf8, false)]));
        let series =
            RecordBatch::try_new(schema, vec![Arc::new(StringArray::from(names.to_vec()))])
                .unwrap();
        SeriesBatch {
            series,
            timestamp_ms: Int64Array::from_iter_values(0..names.len() as i64),
            value: Float64Array::from_iter_values((0..names.len()).map(|i| i as f64)),
        }
    }

    fn names(routed: &Routed) -> Vec<String> {
        let column = routed.part.series.column(0).as_string::<i32>();
        column.iter().map(|v| v.unwrap().to_owned()).collect()
    }

    #[test]
    fn every_row_reaches_one_worker_with_its_series_runs() {
        let input = ["a", "a", "b", "b", "b", "c", "a", "d", "d"];
        let mut router = Router::new(3);
        let routed = router.route(part(&input)).unwrap();
        let mut seen = Vec::new();
        for (worker, r) in &routed {
            assert!(*worker < 3);
            let names = names(r);
            // The runs cover the rows in order, and each run is one series.
            assert_eq!(r.runs.first().unwrap().start, 0);
            assert_eq!(r.runs.last().unwrap().end, names.len());
            for w in r.runs.windows(2) {
                assert_eq!(w[0].end, w[1].start);
            }
            for run in &r.runs {
                assert!(names[run.clone()].iter().all(|n| *n == names[run.start]));
            }
            // The values came along with their rows.
            for (i, v) in r.part.value.values().iter().enumerate() {
                assert_eq!(input[*v as usize], names[i]);
                assert_eq!(r.part.timestamp_ms.value(i), *v as i64);
            }
            seen.extend(r.part.value.values().iter().map(|v| *v as usize));
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..input.len()).collect::<Vec<_>>());
    }

    #[test]
    fn a_series_goes_to_the_same_worker_in_every_batch() {
        let mut router = Router::new(4);
        let worker_of = |router: &mut Router, input: &[&str], name: &str| {
            router
                .route(part(input))
                .unwrap()
                .into_iter()
                .find(|(_, r)| names(r).iter().any(|n| n == name))
                .map(|(w, _)| w)
                .unwrap()
        };
        // As a long run, as a row among others, and alone in a batch.
        let first = worker_of(&mut router, &["x", "x", "x", "y"], "x");
        assert_eq!(worker_of(&mut router, &["y", "x", "z", "w"], "x"), first);
        assert_eq!(worker_of(&mut router, &["x"], "x"), first);
    }

    #[test]
    fn dictionary_columns_split_where_the_keys_change() {
        use arrow::array::{DictionaryArray, Int32Array};
        use arrow::datatypes::Int32Type;
        // Values 0 and 2 are both "a": rows 1 and 2 are the same series under two keys.
        let values = StringArray::from(vec!["a", "b", "a"]);
        let keys = Int32Array::from(vec![0, 0, 2, 1, 1, 1]);
        let column = DictionaryArray::<Int32Type>::try_new(keys, Arc::new(values)).unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new(
            "name",
            column.data_type().clone(),
            false,
        )]));
        let series = RecordBatch::try_new(schema, vec![Arc::new(column)]).unwrap();
        assert_eq!(series_runs(&series).unwrap(), vec![0..2, 2..3, 3..6]);
    }

    #[test]
    fn one_worker_gets_the_batch_as_it_is() {
        let mut router = Router::new(1);
        let routed = router.route(part(&["a", "a", "b"])).unwrap();
        assert_eq!(routed.len(), 1);
        assert_eq!(routed[0].1.runs, vec![0..2, 2..3]);
    }
}
