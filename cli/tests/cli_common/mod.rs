//! Running the `featc` binary from the repository root, and the tests' scratch
//! folders under this binary's temporary directory, for the CLI tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn featc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_featc"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("featc runs")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh scratch folder `rel` under the test binary's temporary directory.
pub fn scratch(rel: &str) -> PathBuf {
    featc_test_support::scratch::fresh_dir(Path::new(env!("CARGO_TARGET_TMPDIR")).join(rel))
}
