//! NAB's ground truth: anomaly windows per data file (spec §1.2, §9).
//!
//! `labels/combined_windows.json` maps each data file's relative path (for example
//! `realKnownCause/nyc_taxi.csv`) to a list of `[start, end]` timestamp pairs. NAB works on row
//! indices, so [`locate_windows`] maps each bound to the row with the same timestamp. Timestamps
//! are compared as strings after dropping a trailing `.000000`, which the windows file appends and
//! the data files do not.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{self, Error, Result};

/// The suffix NAB's windows file appends to every timestamp.
const ZERO_MICROS: &str = ".000000";

/// Anomaly windows of a corpus: relative data path to `(start, end)` timestamp pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Windows {
    by_file: BTreeMap<String, Vec<(String, String)>>,
}

/// A window as an inclusive range of row indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowWindow {
    /// Index of the window's first row.
    pub first: usize,
    /// Index of the window's last row (inclusive).
    pub last: usize,
}

impl RowWindow {
    /// Width W in rows, both ends included.
    pub fn width(&self) -> usize {
        self.last - self.first + 1
    }

    /// Whether row `i` lies inside the window.
    pub fn contains(&self, i: usize) -> bool {
        (self.first..=self.last).contains(&i)
    }
}

impl Windows {
    /// Loads NAB's `labels/combined_windows.json` (or a file of the same shape).
    pub fn load(path: &Path) -> Result<Self> {
        let text = error::read_to_string(path)?;
        let by_file = error::parse_json(path, &text)?;
        Ok(Self { by_file })
    }

    /// The windows of one file, or `None` if the file is not listed.
    pub fn get(&self, file: &str) -> Option<&[(String, String)]> {
        self.by_file.get(file).map(Vec::as_slice)
    }

    /// Relative paths of all listed files (including those without windows), sorted.
    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.by_file.keys().map(String::as_str)
    }

    /// Number of listed files.
    pub fn file_count(&self) -> usize {
        self.by_file.len()
    }

    /// Total number of windows over all files (116 for NAB).
    pub fn window_count(&self) -> usize {
        self.by_file.values().map(Vec::len).sum()
    }
}

impl FromIterator<(String, Vec<(String, String)>)> for Windows {
    fn from_iter<I: IntoIterator<Item = (String, Vec<(String, String)>)>>(iter: I) -> Self {
        Self {
            by_file: iter.into_iter().collect(),
        }
    }
}

/// Maps the windows of `file` to row ranges, given that file's timestamps in row order.
///
/// Fails with [`Error::WindowNotFound`] if a bound is not a row timestamp and with
/// [`Error::InvalidWindow`] if a window ends before it starts or does not come strictly after
/// the previous window. Runs in one pass over the timestamps when the windows are in order.
pub fn locate_windows(
    file: &str,
    bounds: &[(String, String)],
    timestamps: &[String],
) -> Result<Vec<RowWindow>> {
    let mut located = Vec::with_capacity(bounds.len());
    let mut cursor = 0;
    for (start, end) in bounds {
        let invalid = |reason: &str| Error::InvalidWindow {
            file: file.to_owned(),
            start: start.clone(),
            end: end.clone(),
            reason: reason.to_owned(),
        };
        let first = find_row(file, start, timestamps, cursor)?;
        let last = find_row(file, end, timestamps, cursor)?;
        if first < cursor {
            return Err(invalid("it starts before the previous window ends"));
        }
        if last < first {
            return Err(invalid("it ends before it starts"));
        }
        located.push(RowWindow { first, last });
        cursor = last + 1;
    }
    Ok(located)
}

/// Index of the row whose timestamp equals `bound`, searching from `from` onwards first.
fn find_row(file: &str, bound: &str, timestamps: &[String], from: usize) -> Result<usize> {
    let wanted = without_zero_micros(bound);
    let matches = |t: &String| without_zero_micros(t) == wanted;
    let ahead = timestamps
        .get(from..)
        .unwrap_or_default()
        .iter()
        .position(matches);
    ahead
        .map(|i| from + i)
        .or_else(|| timestamps.iter().position(matches))
        .ok_or_else(|| Error::WindowNotFound {
            file: file.to_owned(),
            timestamp: bound.to_owned(),
        })
}

fn without_zero_micros(timestamp: &str) -> &str {
    timestamp.strip_suffix(ZERO_MICROS).unwrap_or(timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamps(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("2020-01-01 00:{i:02}:00")).collect()
    }

    fn pair(a: &str, b: &str) -> (String, String) {
        (a.to_owned(), b.to_owned())
    }

    #[test]
    fn locates_windows_ignoring_the_micros_suffix() {
        let bounds = [
            pair("2020-01-01 00:02:00.000000", "2020-01-01 00:04:00.000000"),
            pair("2020-01-01 00:05:00", "2020-01-01 00:05:00.000000"),
        ];
        let got = locate_windows("f.csv", &bounds, &stamps(8)).unwrap();
        assert_eq!(
            got,
            [
                RowWindow { first: 2, last: 4 },
                RowWindow { first: 5, last: 5 }
            ]
        );
        assert_eq!(got[0].width(), 3);
        assert!(got[0].contains(4) && !got[0].contains(5));
    }

    /// Named cases of window lists that must be rejected, with a text the error must contain.
    const BAD_WINDOWS: &[(&str, &str, &str, &str)] = &[
        (
            "unknown start",
            "2020-01-01 00:02:30",
            "2020-01-01 00:04:00",
            "00:02:30",
        ),
        (
            "unknown end",
            "2020-01-01 00:02:00",
            "2021-01-01 00:04:00.000000",
            "2021-01-01",
        ),
        (
            "reversed",
            "2020-01-01 00:04:00",
            "2020-01-01 00:02:00",
            "ends before it starts",
        ),
        (
            "overlapping",
            "2020-01-01 00:01:00",
            "2020-01-01 00:03:00",
            "previous window",
        ),
    ];

    #[test]
    fn rejects_bad_windows_naming_file_and_timestamp() {
        for (name, start, end, needle) in BAD_WINDOWS {
            let bounds = [
                pair("2020-01-01 00:00:00", "2020-01-01 00:01:00"),
                pair(start, end),
            ];
            let err = locate_windows("cat/f.csv", &bounds, &stamps(8)).expect_err(name);
            let text = err.to_string();
            assert!(
                text.contains("cat/f.csv") && text.contains(needle),
                "{name}: {text}"
            );
        }
    }

    #[test]
    fn counts_files_and_windows() {
        let windows: Windows = [
            ("a.csv".to_owned(), vec![pair("x", "y"), pair("z", "w")]),
            ("b.csv".to_owned(), vec![]),
        ]
        .into_iter()
        .collect();
        assert_eq!((windows.file_count(), windows.window_count()), (2, 2));
        assert_eq!(windows.files().collect::<Vec<_>>(), ["a.csv", "b.csv"]);
        assert_eq!(windows.get("b.csv"), Some(&[][..]));
        assert_eq!(windows.get("c.csv"), None);
    }

    #[test]
    fn nab_windows_file_has_116_windows_in_58_files() {
        let Some(nab) = crate::nab::tests_support::corpus_dir() else {
            return;
        };
        let windows = Windows::load(&nab.join("labels/combined_windows.json")).unwrap();
        assert_eq!((windows.file_count(), windows.window_count()), (58, 116));
        let with_windows = windows
            .files()
            .filter(|f| !windows.get(f).unwrap().is_empty())
            .count();
        assert_eq!(with_windows, 52);
    }
}
