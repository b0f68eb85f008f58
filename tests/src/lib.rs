//! Shared helpers for featc integration tests.

pub mod gen;

/// The folder holding the acceptance cases (`tests/cases/<name>`).
pub fn cases_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("cases")
}

/// The project that uses every row function (`tests/functions`), for snapshots.
pub fn functions_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("functions")
}

/// The folder holding the example projects (`examples/<name>`).
pub fn examples_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
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
