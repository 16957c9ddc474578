#![doc = include_str!("../README.md")]

mod atomic_write;
mod csv;
mod error;
mod lines;
mod series_keys;
mod table;
mod timestamp;

pub use crate::atomic_write::{temporary_for, write_atomically};
pub use crate::csv::{CsvOptions, CsvReader, CsvRow, CsvSeries, ReadStats, read_all};
pub use crate::error::{Error, Result};
pub use crate::series_keys::SeriesKeys;
pub use crate::table::{
    InputFile, Layout, LayoutKind, MetricsTable, ReadOrder, SORT_MEMORY_LIMIT, SeriesBatch,
    TABLE_NAME, TableOptions, WIDE_SERIES_COLUMN, expand_inputs, find_unreadable, metrics_session,
};
pub use crate::timestamp::{EPOCH_MILLIS_THRESHOLD, parse_timestamp_ms};
