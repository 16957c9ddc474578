//! Temporary files beside the outputs: every output of a run is written under a temporary
//! name and renamed into place only at the end, all together.

use std::path::Path;

use crate::error::{Context, Result};

/// A temporary file in `path`'s directory, named after it (`.name.XXXX.tmp`), with the
/// permissions of any new file; removed on drop unless persisted over `path`. For a caller
/// that must write several files and rename them together at the end.
pub(crate) fn temporary_for(path: &Path) -> Result<tempfile::NamedTempFile> {
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
    builder.tempfile_in(dir).with_context(|| {
        format!(
            "cannot create a temporary file in `{}` to write `{}`",
            dir.display(),
            path.display()
        )
    })
}
