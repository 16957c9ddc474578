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

#[cfg(test)]
mod tests {
    use super::*;

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
