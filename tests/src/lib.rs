//! Shared helpers for featc integration tests.

pub mod gen;

/// The folder holding the acceptance cases (`tests/cases/<name>`).
pub fn cases_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("cases")
}

/// The `.feat` files of the project folder `dir`, sorted, each named by its path from
/// the repository root, so that what prints file names (snapshots, diagnostics)
/// does not depend on the checkout.
pub fn feat_files_named_from_root(dir: &std::path::Path) -> Vec<featc::SourceFile> {
    let root = cases_dir()
        .join("../..")
        .canonicalize()
        .expect("repository root");
    let dir = dir.canonicalize().expect("project folder");
    let mut paths: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .expect("project folder")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "feat"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| featc::SourceFile {
            name: p
                .strip_prefix(&root)
                .expect("inside the repository")
                .display()
                .to_string(),
            text: std::fs::read_to_string(p).expect("read .feat"),
        })
        .collect()
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
