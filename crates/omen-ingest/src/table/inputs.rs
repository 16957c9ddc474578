//! Turning the `--input` paths and globs into a checked list of Parquet files.

use std::fs::File;
use std::path::{Path, PathBuf};

use parquet::file::reader::{FileReader, SerializedFileReader};

use crate::{Error, Result};

/// One input file and what its footer says.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// The file, as matched.
    pub path: PathBuf,
    /// Rows in the file, from its footer.
    pub rows: u64,
}

/// Expand each pattern (a path, or a glob such as `data/*.parquet`), check that every file
/// opens and has a valid Parquet footer, and return them sorted by path without repeats.
///
/// A directory stands for the `*.parquet` files in it. A pattern that matches nothing, a
/// missing file and a file that is not Parquet are errors that name the pattern or file.
pub fn expand_inputs(patterns: &[String]) -> Result<Vec<InputFile>> {
    let mut paths = Vec::new();
    for pattern in patterns {
        let before = paths.len();
        let path = Path::new(pattern);
        if path.is_dir() {
            let inner = path.join("*.parquet");
            paths.extend(glob_paths(pattern, &inner.to_string_lossy())?);
        } else if is_glob(pattern) {
            paths.extend(glob_paths(pattern, pattern)?);
        } else {
            // A plain path: open it below, so that a missing file gets the OS's reason.
            paths.push(path.to_path_buf());
        }
        if paths.len() == before {
            return Err(Error::NoMatch {
                pattern: pattern.clone(),
            });
        }
    }
    paths.sort();
    paths.dedup();
    paths.into_iter().map(check_parquet).collect()
}

fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
}

fn glob_paths(pattern: &str, glob_text: &str) -> Result<Vec<PathBuf>> {
    let entries = glob::glob(glob_text).map_err(|err| Error::BadPattern {
        pattern: pattern.to_owned(),
        message: err.to_string(),
    })?;
    let mut out = Vec::new();
    for entry in entries {
        let path = entry.map_err(|err| Error::Open {
            path: err.path().to_path_buf(),
            source: err.into(),
        })?;
        if path.is_file() {
            out.push(path);
        }
    }
    Ok(out)
}

fn check_parquet(path: PathBuf) -> Result<InputFile> {
    let file = File::open(&path).map_err(|source| Error::Open {
        path: path.clone(),
        source,
    })?;
    let reader = SerializedFileReader::new(file).map_err(|err| Error::Parquet {
        path: path.clone(),
        message: err.to_string(),
    })?;
    let rows = reader.metadata().file_metadata().num_rows().max(0) as u64;
    Ok(InputFile { path, rows })
}

/// The first of `inputs` whose data cannot be decoded, as an [`Error::Parquet`] naming it.
///
/// DataFusion's errors for a corrupt page deep in a file do not always say which file it was;
/// after such a failure, this reads every file again, decoding all columns, to find it. It
/// costs a full read, so it is for error paths only. `None` when every file decodes.
pub fn find_unreadable(inputs: &[InputFile]) -> Option<Error> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    inputs.iter().find_map(|input| {
        let named = |message: String| Error::Parquet {
            path: input.path.clone(),
            message,
        };
        let file = match File::open(&input.path) {
            Ok(file) => file,
            Err(source) => {
                return Some(Error::Open {
                    path: input.path.clone(),
                    source,
                });
            }
        };
        let reader = match ParquetRecordBatchReaderBuilder::try_new(file).and_then(|b| b.build()) {
            Ok(reader) => reader,
            Err(err) => return Some(named(err.to_string())),
        };
        for batch in reader {
            if let Err(err) = batch {
                return Some(named(err.to_string()));
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Parquet file of `rows` rows in many small snappy pages.
    fn write_pages(path: &Path, rows: usize) {
        use std::sync::Arc;

        use arrow::array::{Float64Array, Int64Array, RecordBatch};
        use parquet::arrow::ArrowWriter;
        use parquet::basic::Compression;
        use parquet::file::properties::WriterProperties;

        let batch = RecordBatch::try_from_iter([
            (
                "ts",
                Arc::new(Int64Array::from_iter_values(0..rows as i64)) as _,
            ),
            (
                "value",
                Arc::new(Float64Array::from_iter_values(
                    (0..rows).map(|i| (i as f64 * 0.37).sin()),
                )) as _,
            ),
        ])
        .unwrap();
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_data_page_size_limit(1024)
            .set_dictionary_enabled(false)
            .build();
        let mut writer =
            ArrowWriter::try_new(File::create(path).unwrap(), batch.schema(), Some(props)).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
    }

    #[test]
    fn a_corrupt_page_in_the_middle_of_a_file_is_found_and_named() {
        let dir = tempfile::TempDir::new().unwrap();
        let good = dir.path().join("a-good.parquet");
        let bad = dir.path().join("b-bad.parquet");
        write_pages(&good, 20_000);
        write_pages(&bad, 20_000);
        // Overwrite the middle of the data, leaving the footer intact: the footer check passes.
        let mut bytes = std::fs::read(&bad).unwrap();
        let n = bytes.len();
        bytes[n * 2 / 5..n * 3 / 5].fill(0xA5);
        std::fs::write(&bad, bytes).unwrap();
        let inputs = expand_inputs(&[format!("{}/*.parquet", dir.path().display())]).unwrap();
        assert_eq!(inputs.len(), 2, "both footers are readable");

        let err = find_unreadable(&inputs).expect("the corrupt file is found");
        assert!(matches!(err, Error::Parquet { .. }), "{err:?}");
        assert!(err.to_string().contains("b-bad.parquet"), "{err}");
        assert!(
            find_unreadable(&inputs[..1]).is_none(),
            "the good file decodes"
        );
    }

    #[test]
    fn a_missing_file_is_named() {
        let err = expand_inputs(&["/no/such/file.parquet".into()]).unwrap_err();
        assert!(matches!(err, Error::Open { .. }), "{err:?}");
        assert!(err.to_string().contains("/no/such/file.parquet"), "{err}");
    }

    #[test]
    fn a_glob_that_matches_nothing_is_named() {
        let dir = tempfile::TempDir::new().unwrap();
        let pattern = format!("{}/*.parquet", dir.path().display());
        let err = expand_inputs(std::slice::from_ref(&pattern)).unwrap_err();
        assert_eq!(err.to_string(), format!("no file matches `{pattern}`"));
    }

    #[test]
    fn a_file_that_is_not_parquet_is_named() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("bad.parquet");
        std::fs::write(&path, b"timestamp,value\n1,2\n").unwrap();
        let err = expand_inputs(&[path.to_string_lossy().into_owned()]).unwrap_err();
        assert!(matches!(err, Error::Parquet { .. }), "{err:?}");
        assert!(err.to_string().contains("bad.parquet"), "{err}");
    }
}
