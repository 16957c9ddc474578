#![doc = include_str!("../README.md")]

mod csv;
mod error;
mod lines;
mod table;
mod timestamp;

pub use crate::csv::{CsvOptions, CsvReader, CsvRow, CsvSeries, ReadStats, read_all};
pub use crate::error::{Error, Result};
pub use crate::table::{
    InputFile, Layout, LayoutKind, MetricsTable, ReadOrder, SORT_MEMORY_LIMIT, SeriesBatch,
    TABLE_NAME, TableOptions, WIDE_SERIES_COLUMN, expand_inputs, find_unreadable, metrics_session,
};
pub use crate::timestamp::{EPOCH_MILLIS_THRESHOLD, parse_timestamp_ms};
