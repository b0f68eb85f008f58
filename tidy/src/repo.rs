//! The repository as the house rules see it: its root, its files (build output and
//! VCS data left out), their text, and the lines that mention a name.

use std::path::{Path, PathBuf};

/// The repository's root (the folder above this crate).
pub fn root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    root.canonicalize().unwrap_or(root)
}

/// Folders never walked: build output, VCS data, generated benchmark data.
const SKIPPED: &[&str] = &["target", ".git", "bench-data", "node_modules"];

/// Every file under `dir` (relative to the repository, `/`-separated), sorted.
pub fn files_under(dir: &Path) -> Vec<String> {
    let root = root();
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if path.is_dir() {
                if !SKIPPED.contains(&name.as_str()) && !name.starts_with('.') {
                    stack.push(path);
                }
            } else if let Ok(rel) = path.strip_prefix(&root) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

/// Every file of the repository.
pub fn files() -> Vec<String> {
    files_under(&root())
}

/// Every Rust file of the repository.
pub fn rust_files() -> Vec<String> {
    files().into_iter().filter(|f| f.ends_with(".rs")).collect()
}

/// The text of a file (relative to the repository); empty if it cannot be read.
pub fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_default()
}

/// The library crates' source folders (what "library code" means in the rules).
pub const LIBRARY_SOURCES: &[&str] = &[
    "grammar/src/",
    "compiler/src/",
    "runtime/src/",
    "server/src/",
    "python/src/",
];

/// This crate, which names what the rules look for.
const TIDY: &str = "tidy/";

/// `file:line` of every line of a Rust file (and, with `in_manifests`, of a
/// `Cargo.toml`) of the repository, outside this crate, that mentions `needle`.
pub fn mentions(needle: &str, in_manifests: bool) -> Vec<String> {
    let mut hits = Vec::new();
    for f in files() {
        let manifest = f.ends_with("Cargo.toml");
        if !(f.ends_with(".rs") || (in_manifests && manifest)) || f.starts_with(TIDY) {
            continue;
        }
        for (i, line) in read(&f).lines().enumerate() {
            if line.contains(needle) {
                hits.push(format!("{f}:{}", i + 1));
            }
        }
    }
    hits
}
