//! Running the `featc` binary from the repository root, for the CLI tests.

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
