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

/// `featc(args)` with `tmp` as its `TMPDIR`: what featc keeps in the system's
/// temporary folder (`featc verify`'s folders of a failed engine run) goes into a
/// test's scratch folder instead, never left in /tmp.
pub fn featc_with_tmpdir(args: &[&str], tmp: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_featc"))
        .args(args)
        .env("TMPDIR", tmp)
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

/// The training set at `actual` has, bit for bit, the rows and columns of the one at
/// `expected` (a table source's output differs in its metadata: the versions it read).
pub fn same_rows(actual: &Path, expected: &Path) {
    use featc_test_support::parquet::read_parquet;
    let (a, e) = (read_parquet(actual), read_parquet(expected));
    if let Err(difference) = featc_test_support::compare::bit_equal(&a, &e) {
        panic!(
            "{} against {}: {difference}",
            actual.display(),
            expected.display()
        );
    }
    assert_eq!(a.schema().fields(), e.schema().fields());
}

/// The table versions a training set recorded in its Parquet metadata
/// (`featc.source_versions`).
pub fn recorded_versions(path: &Path) -> serde_json::Value {
    use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
    let reader =
        SerializedFileReader::new(std::fs::File::open(path).expect("output")).expect("parquet");
    let value = reader
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| {
            kv.iter()
                .find(|k| k.key == "featc.source_versions")
                .cloned()
        })
        .and_then(|k| k.value)
        .expect("featc.source_versions in the metadata");
    serde_json::from_str(&value).expect("JSON")
}
