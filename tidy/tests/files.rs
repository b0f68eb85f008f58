//! House rules on files: every Rust file says what it is in a `//!` first line;
//! every integration test file is compiled into a test binary.

use featc_tidy::repo::{files, files_under, read, root, rust_files};

#[test]
fn every_rust_file_starts_with_a_doc_line() {
    let missing: Vec<String> = rust_files()
        .into_iter()
        .filter(|f| !read(f).starts_with("//!"))
        .collect();
    assert!(
        missing.is_empty(),
        "these files do not start with a `//!` line saying what they are: {missing:#?}"
    );
}

/// A test file that no binary compiles would pass silently. In a crate whose
/// integration tests are one binary (`autotests = false` in its manifest, modules of
/// `tests/suite.rs`), every file directly in `tests/` is a module of the suite or a
/// `[[test]]` of its own.
#[test]
fn every_integration_test_file_is_compiled_into_a_test_binary() {
    let mut orphans = Vec::new();
    let manifests = files().into_iter().filter(|f| f.ends_with("Cargo.toml"));
    for manifest in manifests {
        let text = read(&manifest);
        if !text.lines().any(|l| l.trim() == "autotests = false") {
            continue;
        }
        let tests = format!("{}tests/", manifest.trim_end_matches("Cargo.toml"));
        let suite = read(&format!("{tests}suite.rs"));
        for file in files_under(&root().join(&tests)) {
            let Some(name) = file
                .strip_prefix(&tests)
                .and_then(|f| f.strip_suffix(".rs"))
            else {
                continue;
            };
            if name.contains('/') || name == "suite" {
                continue;
            }
            let in_suite = suite.lines().any(|l| l.trim() == format!("mod {name};"));
            let own_binary = text.contains(&format!("path = \"tests/{name}.rs\""));
            if !in_suite && !own_binary {
                orphans.push(file);
            }
        }
    }
    assert!(
        orphans.is_empty(),
        "no test binary compiles these files: add `mod NAME;` to the crate's tests/suite.rs \
         (or a [[test]] to its Cargo.toml): {orphans:#?}"
    );
}
