//! A text series column of `scores.parquet` (a label such as `instance`), encoded as a
//! dictionary of the row group's values and one run-length entry per run of equal rows.
//!
//! A label changes only where the series does, so the work here is per run, not per row: a
//! run's value is looked up in the dictionary once, and the run is one entry of Parquet's
//! run-length encoding. Rows in time order (each row another series) are runs of one row and
//! cost what Arrow's writer did. The row group's min and max label come from the dictionary.

use std::collections::HashMap;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType, Int32Type};
use bytes::Bytes;
use parquet::basic::{Encoding, Type as PhysicalType};
use parquet::column::page::Page;
use parquet::data_type::ByteArray;
use parquet::file::metadata::ColumnIndexBuilder;
use parquet::file::statistics::{Statistics, ValueStatistics};
use parquet::schema::types::ColumnDescPtr;

use super::{OwnChunk, PageSink, write_uleb128};
use crate::error::{Context, Result, bail};

/// One text column's chunk in the making.
#[derive(Debug)]
pub(crate) struct LabelChunk {
    descr: ColumnDescPtr,
    nullable: bool,
    /// The dictionary page's body: each value PLAIN-encoded (4-byte length, then the bytes).
    dictionary: Vec<u8>,
    /// Where each entry's bytes start in `dictionary`.
    starts: Vec<usize>,
    index: HashMap<Box<[u8]>, u32, foldhash::fast::FixedState>,
    /// The smallest and largest entries (byte order, as Parquet compares strings).
    bounds: Option<(u32, u32)>,
    /// `(entry, rows)` for each run of equal non-null rows.
    runs: Vec<(u32, u32)>,
    /// `(has a value, rows)` for each run of rows, when the column is nullable.
    levels: Vec<(bool, u32)>,
    rows: u64,
    nulls: u64,
}

impl LabelChunk {
    /// Whether this encoder writes the column of `data_type` stored as `descr`: text, at the
    /// top level (required or optional).
    pub(crate) fn fits(data_type: &DataType, descr: &ColumnDescPtr) -> bool {
        let text = match data_type {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
            DataType::Dictionary(_, value) => {
                matches!(value.as_ref(), DataType::Utf8 | DataType::LargeUtf8)
            }
            _ => false,
        };
        text && descr.physical_type() == PhysicalType::BYTE_ARRAY
            && descr.max_rep_level() == 0
            && descr.max_def_level() <= 1
    }

    pub(crate) fn new(descr: ColumnDescPtr) -> Self {
        Self {
            nullable: descr.max_def_level() == 1,
            descr,
            dictionary: Vec::new(),
            starts: Vec::new(),
            index: HashMap::default(),
            bounds: None,
            runs: Vec::new(),
            levels: Vec::new(),
            rows: 0,
            nulls: 0,
        }
    }

    /// Append a batch's rows of this column.
    pub(crate) fn push(&mut self, column: &ArrayRef) -> Result<()> {
        let nulls = column.logical_nulls();
        if let Some(dictionary) = column.as_dictionary_opt::<Int32Type>() {
            // The usual case (Parquet labels read back as dictionaries): rows with equal keys
            // are equal without looking at their strings.
            let keys = dictionary.keys().values();
            let values = text(dictionary.values())?;
            self.push_rows(
                keys.len(),
                nulls.as_ref(),
                |i, j| keys[i] == keys[j],
                |i| values(keys[i] as usize),
            );
        } else if let Some(dictionary) = column.as_any_dictionary_opt() {
            let keys = dictionary.normalized_keys();
            let values = text(dictionary.values())?;
            self.push_rows(
                keys.len(),
                nulls.as_ref(),
                |i, j| keys[i] == keys[j],
                |i| values(keys[i]),
            );
        } else {
            let values = text(column)?;
            self.push_rows(
                column.len(),
                nulls.as_ref(),
                |i, j| values(i) == values(j),
                |i| values(i),
            );
        }
        Ok(())
    }

    /// Split `n` rows into runs: `same(i, j)` says two non-null rows hold the same value.
    fn push_rows<'a>(
        &mut self,
        n: usize,
        nulls: Option<&NullBuffer>,
        same: impl Fn(usize, usize) -> bool,
        value: impl Fn(usize) -> &'a [u8],
    ) {
        let valid = |i: usize| nulls.is_none_or(|n| n.is_valid(i));
        let mut i = 0;
        while i < n {
            let has_value = valid(i);
            let mut j = i + 1;
            if has_value {
                while j < n && valid(j) && same(i, j) {
                    j += 1;
                }
            } else {
                while j < n && !valid(j) {
                    j += 1;
                }
            }
            self.push_run(has_value.then(|| value(i)), (j - i) as u32);
            i = j;
        }
    }

    fn push_run(&mut self, value: Option<&[u8]>, rows: u32) {
        self.rows += rows as u64;
        if self.nullable {
            match self.levels.last_mut() {
                Some((has, n)) if *has == value.is_some() => *n += rows,
                _ => self.levels.push((value.is_some(), rows)),
            }
        }
        let Some(bytes) = value else {
            self.nulls += rows as u64;
            return;
        };
        let entry = match self.runs.last() {
            Some(&(last, _)) if self.entry_bytes(last) == bytes => last,
            _ => self.entry(bytes),
        };
        match self.runs.last_mut() {
            Some((last, n)) if *last == entry => *n += rows,
            _ => self.runs.push((entry, rows)),
        }
    }

    fn entry_bytes(&self, entry: u32) -> &[u8] {
        let start = self.starts[entry as usize];
        let len = u32::from_le_bytes(self.dictionary[start - 4..start].try_into().unwrap());
        &self.dictionary[start..start + len as usize]
    }

    /// The dictionary entry of `bytes`, added if new.
    fn entry(&mut self, bytes: &[u8]) -> u32 {
        if let Some(&entry) = self.index.get(bytes) {
            return entry;
        }
        let entry = self.starts.len() as u32;
        self.dictionary
            .extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        self.starts.push(self.dictionary.len());
        self.dictionary.extend_from_slice(bytes);
        self.index.insert(bytes.into(), entry);
        self.bounds = Some(match self.bounds {
            None => (entry, entry),
            Some((min, max)) => (
                if bytes < self.entry_bytes(min) {
                    entry
                } else {
                    min
                },
                if bytes > self.entry_bytes(max) {
                    entry
                } else {
                    max
                },
            ),
        });
        entry
    }

    /// Encode the chunk (a dictionary page and one data page) and start again.
    pub(crate) fn take(&mut self) -> Result<OwnChunk> {
        let min = self.bounds.map(|(min, _)| self.entry_bytes(min).to_vec());
        let max = self.bounds.map(|(_, max)| self.entry_bytes(max).to_vec());
        // One data page: its bounds are the chunk's (none when every row is null).
        let mut column_index = ColumnIndexBuilder::new(PhysicalType::BYTE_ARRAY);
        column_index.append(
            self.bounds.is_none(),
            min.clone().unwrap_or_default(),
            max.clone().unwrap_or_default(),
            self.nulls as i64,
        );
        let statistics = Statistics::from(ValueStatistics::new(
            min.map(ByteArray::from),
            max.map(ByteArray::from),
            None,
            Some(self.nulls),
            false,
        ));
        let mut body = Vec::with_capacity(16 + 8 * (self.runs.len() + self.levels.len()));
        if self.nullable {
            let mut levels = Vec::with_capacity(6 * self.levels.len());
            for &(has_value, rows) in &self.levels {
                write_rle_run(&mut levels, rows, has_value as u32, 1);
            }
            body.extend_from_slice(&(levels.len() as u32).to_le_bytes());
            body.extend_from_slice(&levels);
        }
        // Indices are written at least one bit wide: some readers take a zero width badly.
        let entries = self.starts.len() as u32;
        let bit_width = (u32::BITS - entries.saturating_sub(1).leading_zeros()).max(1);
        body.push(bit_width as u8);
        for &(entry, rows) in &self.runs {
            write_rle_run(&mut body, rows, entry, bit_width);
        }
        let rows = self.rows;
        let Ok(page_rows) = u32::try_from(rows) else {
            bail!("a row group of {rows} rows is too large for one page");
        };

        let dictionary = Bytes::from(std::mem::take(&mut self.dictionary));
        let mut sink = PageSink::new(Vec::with_capacity(dictionary.len() + body.len() + 64));
        sink.write(
            Page::DictionaryPage {
                buf: dictionary,
                num_values: entries,
                encoding: Encoding::PLAIN,
                is_sorted: false,
            },
            0,
        )?;
        sink.write(
            Page::DataPage {
                buf: Bytes::from(body),
                num_values: page_rows,
                encoding: Encoding::RLE_DICTIONARY,
                def_level_encoding: Encoding::RLE,
                rep_level_encoding: Encoding::RLE,
                statistics: None,
            },
            0,
        )?;
        let chunk = sink
            .finish(
                &self.descr,
                rows,
                &[Encoding::PLAIN, Encoding::RLE, Encoding::RLE_DICTIONARY],
                Some(statistics),
                column_index,
            )
            .with_context(|| format!("cannot encode the column `{}`", self.descr.name()))?;
        self.starts.clear();
        self.index.clear();
        self.bounds = None;
        self.runs.clear();
        self.levels.clear();
        self.rows = 0;
        self.nulls = 0;
        Ok(chunk)
    }
}

/// The bytes of each value of a text array, by index.
fn text<'a>(array: &'a dyn Array) -> Result<Box<dyn Fn(usize) -> &'a [u8] + 'a>> {
    Ok(match array.data_type() {
        DataType::Utf8 => {
            let a = array.as_string::<i32>();
            Box::new(move |i| a.value(i).as_bytes())
        }
        DataType::LargeUtf8 => {
            let a = array.as_string::<i64>();
            Box::new(move |i| a.value(i).as_bytes())
        }
        DataType::Utf8View => {
            let a = array.as_string_view();
            Box::new(move |i| a.value(i).as_bytes())
        }
        other => bail!("a label column of type {other} where text was expected"),
    })
}

/// One run of Parquet's RLE/bit-packing hybrid: `rows` times `value`, `bit_width` bits wide.
fn write_rle_run(out: &mut Vec<u8>, rows: u32, value: u32, bit_width: u32) {
    write_uleb128(out, (rows as u64) << 1);
    let bytes = bit_width.div_ceil(8) as usize;
    out.extend_from_slice(&value.to_le_bytes()[..bytes]);
}
