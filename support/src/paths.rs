//! Where the tests' inputs are: the repository, the acceptance cases, the examples,
//! the project that calls every row function and the shared fixtures.

use std::path::{Path, PathBuf};

/// The repository's root (the folder above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The folder holding the acceptance cases (`tests/cases/<name>`).
pub fn cases_dir() -> PathBuf {
    repo_root().join("tests/cases")
}

/// The project that uses every row function (`tests/functions`), for snapshots.
pub fn functions_dir() -> PathBuf {
    repo_root().join("tests/functions")
}

/// Small projects tests share (`tests/fixtures`).
pub fn fixtures_dir() -> PathBuf {
    repo_root().join("tests/fixtures")
}

/// The folder holding the example projects (`examples/<name>`).
pub fn examples_dir() -> PathBuf {
    repo_root().join("examples")
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_public_cases_are_in_the_repo() {
        for case in ["synthetic", "marketplace"] {
            let dir = super::cases_dir().join(case);
            for file in [
                "features.feat",
                "spine.parquet",
                "expected.parquet",
                "spec.json",
            ] {
                assert!(dir.join(file).is_file(), "missing {case}/{file}");
            }
        }
    }
}
