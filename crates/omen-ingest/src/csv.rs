//! A series from a CSV file: one timestamp column and one value column.
//!
//! The header line is required; columns are found by name, ignoring case and surrounding
//! spaces, and any other columns are ignored. Rows are read one at a time ([`CsvReader`] is an
//! iterator), so a large file is never held in memory unless the caller collects it
//! ([`read_all`]).
//!
//! Per row the reader keeps the timestamp and value exactly as written (so results can be
//! written back with the data file's own timestamps), the parsed [`Sample`], and the 1-based
//! line number. Timestamps are parsed by [`parse_timestamp_ms`]; values are decimal numbers,
//! where `NaN`, `inf`, `-inf`, `+Inf` (any case) and an empty cell are accepted as non-finite
//! values and counted in [`ReadStats::not_finite`]: the detectors skip them.
//!
//! Rows are returned in file order, not sorted: the detectors report out-of-order samples.

use std::borrow::Cow;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use omen_core::Sample;

use crate::error::{Error, Result};
use crate::lines::LineCounter;
use crate::timestamp::parse_timestamp_ms;

/// Which columns hold the timestamp and the value.
///
/// ```
/// use omen_ingest::CsvOptions;
///
/// let options = CsvOptions::default().with_timestamp_column("time").with_value_column("p95");
/// assert_eq!(options.timestamp_column(), "time");
/// assert_eq!(CsvOptions::default().value_column(), "value");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    timestamp_column: String,
    value_column: String,
}

impl Default for CsvOptions {
    /// Columns named `timestamp` and `value`.
    fn default() -> Self {
        Self {
            timestamp_column: "timestamp".to_owned(),
            value_column: "value".to_owned(),
        }
    }
}

impl CsvOptions {
    /// Read timestamps from the column named `name` (matched ignoring case).
    pub fn with_timestamp_column(mut self, name: impl Into<String>) -> Self {
        self.timestamp_column = name.into();
        self
    }

    /// Read values from the column named `name` (matched ignoring case).
    pub fn with_value_column(mut self, name: impl Into<String>) -> Self {
        self.value_column = name.into();
        self
    }

    /// The name of the timestamp column.
    pub fn timestamp_column(&self) -> &str {
        &self.timestamp_column
    }

    /// The name of the value column.
    pub fn value_column(&self) -> &str {
        &self.value_column
    }
}

/// One data row of a CSV series.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvRow {
    /// The 1-based line of the file where the row starts (the header is line 1).
    pub line: u64,
    /// The timestamp cell exactly as written in the file.
    pub timestamp_text: String,
    /// The value cell exactly as written in the file.
    pub value_text: String,
    /// The parsed sample; its value is NaN or infinite for non-finite or empty cells.
    pub sample: Sample,
}

/// Counts kept while reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadStats {
    /// Data rows returned so far.
    pub rows: u64,
    /// Of those, rows whose value is NaN, infinite or empty.
    pub not_finite: u64,
}

/// A whole series read by [`read_all`].
#[derive(Debug, Clone, PartialEq)]
pub struct CsvSeries {
    /// The rows in file order.
    pub rows: Vec<CsvRow>,
    /// Counts over all rows.
    pub stats: ReadStats,
}

/// Read the whole series in `path` into memory.
///
/// Prefer [`CsvReader`] for large files: it returns one row at a time.
pub fn read_all(path: impl AsRef<Path>, options: &CsvOptions) -> Result<CsvSeries> {
    let mut reader = CsvReader::open(path, options)?;
    let rows = reader.by_ref().collect::<Result<Vec<_>>>()?;
    Ok(CsvSeries {
        rows,
        stats: reader.stats(),
    })
}

/// A streaming reader of a CSV series: an iterator of [`CsvRow`]s in file order.
///
/// The header is read and checked when the reader is created. Iteration stops after the first
/// error. Line numbers are exact, also after blank lines (which are skipped) and with CRLF line
/// endings. Cells that are not valid UTF-8 are only a problem in the two columns used, where
/// they are reported as unparsable with the bad bytes shown as `\u{FFFD}`.
///
/// ```
/// use omen_ingest::{CsvOptions, CsvReader};
///
/// let data = "timestamp,value,host\n2024-01-01 00:00:00,1.5,a\n1704067260,NaN,a\n";
/// let mut reader = CsvReader::from_reader(data.as_bytes(), "inline.csv", &CsvOptions::default())?;
/// let rows = reader.by_ref().collect::<Result<Vec<_>, _>>()?;
/// assert_eq!(rows.len(), 2);
/// assert_eq!(rows[0].timestamp_text, "2024-01-01 00:00:00");
/// assert_eq!(rows[1].sample.timestamp_ms, 1_704_067_260_000);
/// assert_eq!(rows[1].line, 3);
/// assert_eq!(reader.stats().not_finite, 1);
/// # Ok::<(), omen_ingest::Error>(())
/// ```
#[derive(Debug)]
pub struct CsvReader<R> {
    inner: csv::Reader<LineCounter<R>>,
    path: PathBuf,
    header_len: usize,
    timestamp: Column,
    value: Column,
    record: csv::ByteRecord,
    stats: ReadStats,
    done: bool,
}

/// A located column: its index and its name as written in the header.
#[derive(Debug)]
struct Column {
    index: usize,
    name: String,
}

impl CsvReader<File> {
    /// Open `path` and read its header.
    pub fn open(path: impl AsRef<Path>, options: &CsvOptions) -> Result<Self> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| Error::Open {
            path: path.to_owned(),
            source,
        })?;
        Self::from_reader(file, path, options)
    }
}

impl<R: Read> CsvReader<R> {
    /// Read CSV from `reader`; `name` (usually the file's path) is used in error messages.
    pub fn from_reader(reader: R, name: impl Into<PathBuf>, options: &CsvOptions) -> Result<Self> {
        let path = name.into();
        let mut inner = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(LineCounter::new(reader));
        let found: Vec<String> = match inner.byte_headers() {
            Ok(headers) => headers.iter().map(|h| lossy(h).into_owned()).collect(),
            Err(source) => return Err(Error::Read { path, source }),
        };
        // An empty file yields an empty header record; a header line always has a field.
        if found.is_empty() {
            return Err(Error::Empty { path });
        }
        let timestamp = find_column(&path, &found, "timestamp", &options.timestamp_column)?;
        let value = find_column(&path, &found, "value", &options.value_column)?;
        Ok(Self {
            inner,
            path,
            header_len: found.len(),
            timestamp,
            value,
            record: csv::ByteRecord::new(),
            stats: ReadStats::default(),
            done: false,
        })
    }

    /// Counts over the rows returned so far.
    pub fn stats(&self) -> ReadStats {
        self.stats
    }

    /// The name used in error messages (usually the file's path).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The timestamp column's name as written in the header.
    pub fn timestamp_column(&self) -> &str {
        &self.timestamp.name
    }

    /// The value column's name as written in the header.
    pub fn value_column(&self) -> &str {
        &self.value.name
    }

    fn read_row(&mut self) -> Result<Option<CsvRow>> {
        match self.inner.read_byte_record(&mut self.record) {
            Ok(true) => {}
            Ok(false) => return Ok(None),
            Err(source) => {
                return Err(Error::Read {
                    path: self.path.clone(),
                    source,
                });
            }
        }
        let end = self.inner.position().byte();
        let last_line = self.inner.get_mut().line_ending_at(end);
        // A quoted cell may span lines: the record starts that many lines earlier.
        let embedded = self
            .record
            .as_slice()
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64;
        let line = last_line.saturating_sub(embedded);
        if self.record.len() < self.header_len {
            return Err(Error::TooFewFields {
                path: self.path.clone(),
                line,
                expected: self.header_len,
                found: self.record.len(),
            });
        }
        let timestamp_text = lossy(&self.record[self.timestamp.index]);
        let value_text = lossy(&self.record[self.value.index]);
        let timestamp_ms =
            parse_timestamp_ms(&timestamp_text).ok_or_else(|| Error::InvalidTimestamp {
                path: self.path.clone(),
                line,
                column: self.timestamp.name.clone(),
                text: timestamp_text.clone().into_owned(),
            })?;
        let value = parse_value(&value_text).ok_or_else(|| Error::InvalidValue {
            path: self.path.clone(),
            line,
            column: self.value.name.clone(),
            text: value_text.clone().into_owned(),
        })?;
        self.stats.rows += 1;
        if !value.is_finite() {
            self.stats.not_finite += 1;
        }
        Ok(Some(CsvRow {
            line,
            timestamp_text: timestamp_text.into_owned(),
            value_text: value_text.into_owned(),
            sample: Sample::new(timestamp_ms, value),
        }))
    }
}

impl<R: Read> Iterator for CsvReader<R> {
    type Item = Result<CsvRow>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let row = self.read_row().transpose();
        self.done = !matches!(row, Some(Ok(_)));
        row
    }
}

/// A cell as text; bytes that are not UTF-8 become U+FFFD, so they still show in a message.
fn lossy(cell: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(cell)
}

/// Find the one header column named `wanted`, ignoring case and surrounding spaces.
fn find_column(path: &Path, found: &[String], role: &'static str, wanted: &str) -> Result<Column> {
    let wanted_key = wanted.trim();
    let mut matches = found
        .iter()
        .enumerate()
        .filter(|(_, name)| name.trim().eq_ignore_ascii_case(wanted_key));
    let count = matches.clone().count();
    match (matches.next(), count) {
        (Some((index, name)), 1) => Ok(Column {
            index,
            name: name.clone(),
        }),
        (None, _) => Err(Error::MissingColumn {
            path: path.to_owned(),
            role,
            column: wanted.to_owned(),
            found: found.to_vec(),
        }),
        (Some(_), count) => Err(Error::AmbiguousColumn {
            path: path.to_owned(),
            role,
            column: wanted.to_owned(),
            count,
            found: found.to_vec(),
        }),
    }
}

/// A decimal number, NaN or infinity (any case, optional sign); an empty cell is NaN.
fn parse_value(text: &str) -> Option<f64> {
    let text = text.trim();
    if text.is_empty() {
        return Some(f64::NAN);
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn read_str(data: &str, options: &CsvOptions) -> Result<CsvSeries> {
        let mut reader = CsvReader::from_reader(data.as_bytes(), "data.csv", options)?;
        let rows = reader.by_ref().collect::<Result<Vec<_>>>()?;
        Ok(CsvSeries {
            rows,
            stats: reader.stats(),
        })
    }

    const VALUE_CASES: &[(&str, &str, f64)] = &[
        // (name, cell, expected value; NaN matches NaN)
        ("integer", "3", 3.0),
        ("decimal", "-2.5", -2.5),
        ("exponent", "1e3", 1000.0),
        ("spaces around", " 4.25 ", 4.25),
        ("NaN", "NaN", f64::NAN),
        ("nan", "nan", f64::NAN),
        ("inf", "inf", f64::INFINITY),
        ("-inf", "-inf", f64::NEG_INFINITY),
        ("+Inf (Prometheus)", "+Inf", f64::INFINITY),
        ("Infinity", "Infinity", f64::INFINITY),
        ("empty", "", f64::NAN),
        ("blank", "  ", f64::NAN),
    ];

    #[test]
    fn value_cases() {
        for (name, cell, expected) in VALUE_CASES {
            let got = parse_value(cell).unwrap_or_else(|| panic!("case `{name}` failed"));
            assert!(
                got == *expected || (got.is_nan() && expected.is_nan()),
                "case `{name}`: {cell:?} gave {got}, expected {expected}"
            );
        }
    }

    #[test]
    fn reads_rows_with_text_line_and_counts() {
        let data = "Time,Host,VALUE\n\
                    2024-01-01 00:00:00,a,1.5\n\
                    \n\
                    2024-01-01T00:01:00Z,b,NaN\n\
                    1704067320,c,\n\
                    1704067380000,d,+Inf\n";
        let options = CsvOptions::default().with_timestamp_column("time");
        let series = read_str(data, &options).unwrap();
        let lines: Vec<u64> = series.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 4, 5, 6]);
        let texts: Vec<&str> = series
            .rows
            .iter()
            .map(|r| r.timestamp_text.as_str())
            .collect();
        assert_eq!(
            texts,
            [
                "2024-01-01 00:00:00",
                "2024-01-01T00:01:00Z",
                "1704067320",
                "1704067380000"
            ]
        );
        let ts: Vec<i64> = series.rows.iter().map(|r| r.sample.timestamp_ms).collect();
        let t0 = 1_704_067_200_000;
        assert_eq!(ts, [t0, t0 + 60_000, t0 + 120_000, t0 + 180_000]);
        assert_eq!(series.rows[0].sample.value, 1.5);
        assert_eq!(series.rows[2].value_text, "");
        assert_eq!(
            series.stats,
            ReadStats {
                rows: 4,
                not_finite: 3
            }
        );
    }

    #[test]
    fn a_quoted_comma_stays_in_its_cell() {
        let data = "timestamp,value\n\"2024-01-01 00:00:00\",\"1,5\"\n";
        let err = read_str(data, &CsvOptions::default()).unwrap_err();
        // The comma is inside the quoted cell, so the cell is one field that is not a number.
        assert!(err.to_string().contains("`1,5`"), "{err}");
    }

    #[test]
    fn header_only_is_zero_rows() {
        let series = read_str("timestamp,value\n", &CsvOptions::default()).unwrap();
        assert!(series.rows.is_empty());
        assert_eq!(series.stats, ReadStats::default());
    }

    #[test]
    fn extra_fields_are_ignored() {
        let series = read_str("timestamp,value\n0,1,extra\n", &CsvOptions::default()).unwrap();
        assert_eq!(series.rows.len(), 1);
    }

    #[test]
    fn byte_order_mark_is_ignored() {
        let series = read_str("\u{feff}timestamp,value\n0,1\n", &CsvOptions::default()).unwrap();
        assert_eq!(series.rows.len(), 1);
    }

    #[test]
    fn iteration_stops_after_an_error() {
        let data = "timestamp,value\n0,1\n1,oops\n2,3\n";
        let mut reader =
            CsvReader::from_reader(data.as_bytes(), "data.csv", &CsvOptions::default()).unwrap();
        assert!(reader.next().unwrap().is_ok());
        assert!(reader.next().unwrap().is_err());
        assert!(reader.next().is_none());
        assert_eq!(reader.stats().rows, 1);
    }

    /// (name, file content, options, fragments the message must contain)
    type ErrorCase = (
        &'static str,
        &'static str,
        CsvOptions,
        &'static [&'static str],
    );

    fn error_cases() -> Vec<ErrorCase> {
        let default = CsvOptions::default;
        vec![
            (
                "empty file",
                "",
                default(),
                &["`data.csv`", "empty", "header"],
            ),
            (
                "missing value column",
                "timestamp,val,host\n0,1,a\n",
                default(),
                &[
                    "`data.csv`",
                    "value column `value`",
                    "`timestamp`, `val`, `host`",
                ],
            ),
            (
                "missing custom timestamp column",
                "timestamp,value\n0,1\n",
                default().with_timestamp_column("time"),
                &[
                    "`data.csv`",
                    "timestamp column `time`",
                    "`timestamp`, `value`",
                ],
            ),
            (
                "ambiguous column",
                "timestamp,value,Value\n0,1,2\n",
                default(),
                &["`data.csv`", "2 columns named `value`"],
            ),
            (
                "bad timestamp",
                "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-32 00:00:00,2\n",
                default(),
                &[
                    "`data.csv`",
                    "line 3",
                    "column `timestamp`",
                    "`2024-01-32 00:00:00`",
                ],
            ),
            (
                "empty timestamp",
                "ts,value\n,2\n",
                default().with_timestamp_column("TS"),
                &["`data.csv`", "line 2", "column `ts`", "timestamp ``"],
            ),
            (
                "bad number",
                "timestamp,Value\n0,1\n60,1\n120,12abc\n",
                default(),
                &["`data.csv`", "line 4", "column `Value`", "`12abc`"],
            ),
            (
                "too few fields",
                "timestamp,value,host\n0,1,a\n60,2\n",
                default(),
                &["`data.csv`", "line 3", "2 fields", "header has 3"],
            ),
        ]
    }

    #[test]
    fn error_cases_name_file_line_and_column() {
        for (name, data, options, fragments) in error_cases() {
            let err = match read_str(data, &options) {
                Ok(series) => panic!("case `{name}`: expected an error, got {series:?}"),
                Err(err) => err.to_string(),
            };
            for fragment in fragments {
                assert!(
                    err.contains(fragment),
                    "case `{name}`: message {err:?} lacks {fragment:?}"
                );
            }
        }
    }

    #[test]
    fn invalid_utf8_in_a_used_cell_is_reported_with_line_and_column() {
        let data: &[u8] = b"timestamp,value,note\n0,1,\xff ignored\n60,\xff,x\n";
        let mut reader = CsvReader::from_reader(data, "data.csv", &CsvOptions::default()).unwrap();
        assert!(
            reader.next().unwrap().is_ok(),
            "a bad byte in an unused column is ignored"
        );
        let err = reader.next().unwrap().unwrap_err().to_string();
        assert!(
            err.contains("`data.csv` line 3, column `value`: cannot parse number `\u{fffd}`"),
            "{err}"
        );
    }

    /// (name, content; each record's first cell is its expected line number)
    const LINE_CASES: &[(&str, &str)] = &[
        ("LF", "line,value\n2,0\n3,0\n4,0\n"),
        ("LF, no final newline", "line,value\n2,0\n3,0"),
        ("LF, blank lines", "line,value\n2,0\n\n4,0\n\n\n7,0\n\n"),
        ("CRLF", "line,value\r\n2,0\r\n3,0\r\n4,0\r\n"),
        (
            "CRLF, blank lines",
            "line,value\r\n2,0\r\n\r\n4,0\r\n\r\n\r\n7,0",
        ),
        (
            "blank lines before the header",
            "\n\nline,value\n4,0\n5,0\n",
        ),
        (
            "quoted newline",
            "line,value,note\n2,0,\"a\nb\"\n4,0,x\n5,0,\"c\r\nd\"\n7,0,y",
        ),
        ("byte order mark", "\u{feff}line,value\n2,0\n3,0\n"),
    ];

    #[test]
    fn line_numbers_are_exact() {
        let options = CsvOptions::default().with_timestamp_column("line");
        for (name, data) in LINE_CASES {
            let reader = CsvReader::from_reader(data.as_bytes(), "data.csv", &options).unwrap();
            let mut rows = 0;
            for row in reader {
                let row = row.unwrap_or_else(|e| panic!("case `{name}`: {e}"));
                assert_eq!(
                    row.line.to_string(),
                    row.timestamp_text,
                    "case `{name}`: wrong line"
                );
                rows += 1;
            }
            assert!(rows >= 2, "case `{name}`: only {rows} rows");
        }
    }

    #[test]
    fn line_numbers_stay_exact_across_buffer_refills() {
        // Far more than the CSV reader's 8 KiB buffer, with blank lines and both line endings.
        let mut data = String::from("line,value\r\n");
        let mut line = 2;
        for i in 0..20_000 {
            let ending = if i % 3 == 0 { "\r\n" } else { "\n" };
            data.push_str(&format!("{line},{i}{ending}"));
            line += 1;
            if i % 7 == 0 {
                data.push_str(ending);
                line += 1;
            }
        }
        let options = CsvOptions::default().with_timestamp_column("line");
        let reader = CsvReader::from_reader(data.as_bytes(), "data.csv", &options).unwrap();
        let mut rows = 0;
        for row in reader {
            let row = row.unwrap();
            assert_eq!(row.line.to_string(), row.timestamp_text);
            rows += 1;
        }
        assert_eq!(rows, 20_000);
    }

    #[test]
    fn open_missing_file_names_path_and_os_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope.csv");
        let err = read_all(&path, &CsvOptions::default()).unwrap_err();
        assert!(matches!(err, Error::Open { .. }), "{err:?}");
        assert_eq!(err.to_string(), format!("cannot open `{}`", path.display()));
        let reason = std::error::Error::source(&err).unwrap().to_string();
        assert!(reason.contains("No such file"), "{reason}");
    }

    #[test]
    fn read_all_reads_a_file() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "timestamp,value\n0,1\n60,inf").unwrap();
        let series = read_all(file.path(), &CsvOptions::default()).unwrap();
        assert_eq!(series.rows.len(), 2);
        assert_eq!(series.stats.not_finite, 1);
        assert_eq!(series.rows[1].sample, Sample::new(60_000, f64::INFINITY));
    }
}
