//! Helpers shared by the end-to-end tests.

use std::path::PathBuf;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .parent()
    .map(PathBuf::from)
    .unwrap_or_default()
}

/// `../shared/datasets` beside the clone: the real raw files (not committed).
/// `None` (and the test says so) when the folder is absent.
pub fn shared_datasets() -> Option<PathBuf> {
    let p = repo_root().join("../shared/datasets");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipping: {} not found", p.display());
        None
    }
}
