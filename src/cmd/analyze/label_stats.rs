//! Min/max statistics of the text series columns of `scores.parquet`, kept by hand.
//!
//! Parquet's writer works statistics out row by row: for a text column, two string comparisons
//! per row, which with the dictionary interning was over a tenth of `omen analyze`'s CPU time
//! on the two label columns of a shop history. Yet a label only changes where the series does,
//! once in thousands of rows. So those columns are written without statistics, and the row
//! group's min and max are worked out here, comparing a value only where it differs from the
//! row before, then put into the column chunk's metadata. Readers prune row groups on them
//! as before; only the per-page index of those columns is gone.

use anyhow::{Context, Result};
use arrow::array::{Array, ArrayRef, AsArray, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Int32Type, Schema};
use parquet::arrow::arrow_writer::ArrowColumnChunk;
use parquet::data_type::ByteArray;
use parquet::file::statistics::{Statistics, ValueStatistics};

/// Whether a series column of this type gets its statistics here.
pub(crate) fn is_text(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, value) => {
            matches!(value.as_ref(), DataType::Utf8 | DataType::LargeUtf8)
        }
        _ => false,
    }
}

/// The running min, max and null count of one text column in the current row group.
#[derive(Debug, Default)]
struct Bounds {
    min: Option<String>,
    max: Option<String>,
    nulls: u64,
}

impl Bounds {
    fn observe(&mut self, value: &str) {
        if self.min.as_deref().is_none_or(|min| value < min) {
            self.min = Some(value.to_owned());
        }
        if self.max.as_deref().is_none_or(|max| value > max) {
            self.max = Some(value.to_owned());
        }
    }
}

/// The statistics of a row group's text series columns.
#[derive(Debug)]
pub(crate) struct LabelStats {
    /// `(index in the scores schema, column name, bounds)` of each text series column.
    columns: Vec<(usize, String, Bounds)>,
}

impl LabelStats {
    /// For the text columns of `series` (the first columns of the scores schema).
    pub(crate) fn new(series: &Schema) -> Self {
        let columns = series
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| is_text(f.data_type()))
            .map(|(at, f)| (at, f.name().clone(), Bounds::default()))
            .collect();
        Self { columns }
    }

    /// Take in the series columns of one batch of scores.
    pub(crate) fn observe(&mut self, columns: &[ArrayRef]) -> Result<()> {
        for (at, _, bounds) in &mut self.columns {
            observe_column(bounds, &columns[*at])?;
        }
        Ok(())
    }

    /// Put the statistics into the row group's chunks, and start again.
    pub(crate) fn apply(&mut self, chunks: &mut [ArrowColumnChunk]) -> Result<()> {
        for (_, name, bounds) in &mut self.columns {
            let bounds = std::mem::take(bounds);
            let Some(chunk) = chunks
                .iter_mut()
                .find(|c| c.close().metadata.column_path().parts() == [name.clone()])
            else {
                continue;
            };
            let statistics = Statistics::from(ValueStatistics::new(
                bounds.min.map(|v| ByteArray::from(v.into_bytes())),
                bounds.max.map(|v| ByteArray::from(v.into_bytes())),
                None,
                Some(bounds.nulls),
                false,
            ));
            let close = chunk.close_mut();
            close.metadata = close
                .metadata
                .clone()
                .into_builder()
                .set_statistics(statistics)
                .build()
                .context("cannot set the statistics of a series column")?;
        }
        Ok(())
    }
}

fn observe_column(bounds: &mut Bounds, column: &ArrayRef) -> Result<()> {
    bounds.nulls += column.logical_null_count() as u64;
    if let Some(dictionary) = column.as_any_dictionary_opt() {
        // Compare a value only where the key changes: once per series, not per row.
        let values = strings(dictionary.values())?;
        let nulls = column.logical_nulls();
        let mut previous = None;
        let mut observe = |row: usize, key: usize| {
            if nulls.as_ref().is_some_and(|n| n.is_null(row)) || previous == Some(key) {
                return;
            }
            previous = Some(key);
            bounds.observe(values.value(key));
        };
        // Int32 keys (what Parquet readers give) without copying them; any other key type
        // through the normalised copy.
        match column.as_dictionary_opt::<Int32Type>() {
            Some(typed) => {
                for (row, key) in typed.keys().values().iter().enumerate() {
                    observe(row, *key as usize);
                }
            }
            None => {
                for (row, key) in dictionary.normalized_keys().into_iter().enumerate() {
                    observe(row, key);
                }
            }
        }
        return Ok(());
    }
    let values = strings(column)?;
    let mut previous: Option<&str> = None;
    for value in values.iter().flatten() {
        if previous != Some(value) {
            bounds.observe(value);
            previous = Some(value);
        }
    }
    Ok(())
}

fn strings(array: &ArrayRef) -> Result<StringArray> {
    Ok(cast(array, &DataType::Utf8)
        .context("cannot read a series column as text")?
        .as_string::<i32>()
        .clone())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{DictionaryArray, Int32Array, StringViewArray};
    use arrow::datatypes::Field;

    use super::*;

    fn bounds_of(columns: &[ArrayRef]) -> (Option<String>, Option<String>, u64) {
        let mut bounds = Bounds::default();
        for column in columns {
            observe_column(&mut bounds, column).unwrap();
        }
        (bounds.min, bounds.max, bounds.nulls)
    }

    #[test]
    fn a_dictionary_column_gives_the_min_max_and_nulls_of_its_rows() {
        // The dictionary holds values no row uses ("aaa", "zzz"): they must not count.
        let values = StringArray::from(vec!["zzz", "mid", "aaa", "low", "top"]);
        let keys = Int32Array::from(vec![
            Some(1),
            Some(1),
            None,
            Some(3),
            Some(3),
            Some(4),
            Some(1),
        ]);
        let column: ArrayRef =
            Arc::new(DictionaryArray::<Int32Type>::try_new(keys, Arc::new(values)).unwrap());
        let (min, max, nulls) = bounds_of(&[column]);
        assert_eq!(min.as_deref(), Some("low"));
        assert_eq!(max.as_deref(), Some("top"));
        assert_eq!(nulls, 1);
    }

    #[test]
    fn plain_and_view_strings_over_several_batches() {
        let first: ArrayRef = Arc::new(StringArray::from(vec![Some("b"), Some("b"), None]));
        let second: ArrayRef = Arc::new(StringViewArray::from(vec!["c", "a", "a"]));
        let (min, max, nulls) = bounds_of(&[first, second]);
        assert_eq!(min.as_deref(), Some("a"));
        assert_eq!(max.as_deref(), Some("c"));
        assert_eq!(nulls, 1);
    }

    #[test]
    fn only_text_series_columns_are_taken() {
        let schema = Schema::new(vec![
            Field::new("name", DataType::Utf8, false),
            Field::new("shard", DataType::Int64, false),
            Field::new(
                "instance",
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                true,
            ),
        ]);
        let stats = LabelStats::new(&schema);
        let taken: Vec<usize> = stats.columns.iter().map(|(at, _, _)| *at).collect();
        assert_eq!(taken, vec![0, 2]);
    }
}
