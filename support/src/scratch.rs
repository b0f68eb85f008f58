//! Scratch folders: a test's own, empty at its start. The caller names it under its
//! test binary's `CARGO_TARGET_TMPDIR` (known only when the test compiles).

use std::path::PathBuf;

/// `dir`, emptied of what a previous run left there, and created.
pub fn fresh_dir(dir: PathBuf) -> PathBuf {
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}
