//! Writing a file all or nothing: through a temporary file in the same directory, renamed over
//! the destination only when everything was written and synced.

use std::fs::File;
use std::path::Path;

use crate::error::Error;

/// Write a file through a temporary file in the same directory, renamed over `path` only when
/// `write` succeeded; on any failure the temporary file is removed and `path` is untouched.
///
/// `write`'s own errors are returned as they are, so it should name what failed; errors of
/// creating, syncing and renaming the file are given here and name `path`.
pub fn write_atomically<T, E: From<Error>>(
    path: &Path,
    write: impl FnOnce(&mut File) -> Result<T, E>,
) -> Result<T, E> {
    let mut tmp = temporary_for(path)?;
    let value = write(tmp.as_file_mut())?;
    let failed = |cause| Error::Write {
        path: path.to_path_buf(),
        cause,
    };
    tmp.as_file().sync_all().map_err(failed)?;
    tmp.persist(path).map_err(|err| failed(err.error))?;
    Ok(value)
}

/// A temporary file in `path`'s directory, named after it (`.name.XXXX.tmp`), with the
/// permissions of any new file; removed on drop unless persisted over `path`. For a caller
/// that must write several files and rename them together at the end.
pub fn temporary_for(path: &Path) -> Result<tempfile::NamedTempFile, Error> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let prefix = format!(
        ".{}.",
        path.file_name().unwrap_or_default().to_string_lossy()
    );
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        // Like any new file (the default for temporary files is owner-only, 0600).
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder
        .tempfile_in(dir)
        .map_err(|cause| Error::TemporaryFile {
            dir: dir.to_path_buf(),
            path: path.to_path_buf(),
            cause,
        })
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn a_failed_write_leaves_neither_the_file_nor_a_temporary() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("out.csv");
        std::fs::write(&path, "old").unwrap();
        let err = write_atomically(&path, |file| -> Result<(), Error> {
            file.write_all(b"new, partial").unwrap();
            Err(Error::Write {
                path: "input".into(),
                cause: std::io::Error::other("broke"),
            })
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "cannot write `input`: broke");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_successful_write_replaces_the_file() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("out.json");
        let n = write_atomically(&path, |file| -> Result<i32, Error> {
            file.write_all(b"{}").unwrap();
            Ok(2)
        })
        .unwrap();
        assert_eq!(n, 2);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
