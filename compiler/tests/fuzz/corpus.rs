//! The corpus: the `.feat` files of `fuzz_corpus/` (minimized finds), the
//! reproducers `repro` generates, and the data seeds each runs with.

use std::path::{Path, PathBuf};

/// Names a folder whose `.feat` files run instead of the corpus.
pub const DIR_VAR: &str = "FEATC_FUZZ_CORPUS";

/// `fuzz_corpus/`, or the folder `FEATC_FUZZ_CORPUS` names (to run any `.feat`
/// files through every stage, e.g. while minimizing a failure by hand).
fn dir() -> PathBuf {
    match std::env::var_os(DIR_VAR) {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_corpus"),
    }
}

/// The data seeds a corpus file runs with: those its `// fuzz-data: 1, 2` line
/// lists (the data of the case it was minimized from), else 0, 1 and 2.
pub fn data_seeds(text: &str) -> Vec<u64> {
    let listed: Vec<u64> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("// fuzz-data:"))
        .flat_map(|l| l.split(',').map(|n| n.trim().parse().expect("a data seed")))
        .collect();
    if listed.is_empty() {
        vec![0, 1, 2]
    } else {
        listed
    }
}

/// Every corpus file (sorted), then, unless `DIR_VAR` names another folder, every
/// generated reproducer written into `scratch`.
pub fn files(scratch: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("fuzz_corpus folder")
        .map(|e| e.expect("corpus entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "feat"))
        .collect();
    paths.sort();
    if std::env::var_os(DIR_VAR).is_none() {
        for (name, text) in super::repro::generated() {
            let path = scratch.join(format!("{name}.feat"));
            std::fs::write(&path, text).expect("write a generated reproducer");
            paths.push(path);
        }
    }
    paths
}
