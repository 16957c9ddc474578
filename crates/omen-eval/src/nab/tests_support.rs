//! Test helper: where the NAB corpus lives, if it is present.

use std::path::PathBuf;

/// The NAB corpus at `../../../shared/datasets/nab` from this crate, or `None` (after saying
/// so on stderr) when it is absent, so tests that need it skip rather than fail.
pub(crate) fn corpus_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets/nab");
    if dir.join("labels/combined_windows.json").is_file() {
        Some(dir)
    } else {
        eprintln!("skipping: NAB corpus not found at {}", dir.display());
        None
    }
}
