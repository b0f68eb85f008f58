//! House rule on the code map: ARCHITECTURE.md names every module folder and every
//! top-level module of the library crates.

use featc_tidy::repo::{read, rust_files, LIBRARY_SOURCES};

#[test]
fn architecture_names_every_module_folder_and_top_level_module() {
    let architecture = read("ARCHITECTURE.md");
    let mut modules: Vec<String> = Vec::new();
    for f in rust_files() {
        // Module folders: any folder holding Rust files under a crate's `src/`.
        if let Some((dir, _)) = f.rsplit_once('/') {
            if dir.contains("/src/") && !modules.contains(&format!("{dir}/")) {
                modules.push(format!("{dir}/"));
            }
        }
        // Top-level modules of the library crates.
        let top = LIBRARY_SOURCES
            .iter()
            .any(|src| f.strip_prefix(src).is_some_and(|rest| !rest.contains('/')));
        let root = f.ends_with("/lib.rs") || f.ends_with("/main.rs");
        if top && !root {
            modules.push(f);
        }
    }
    let unnamed: Vec<&String> = modules
        .iter()
        .filter(|m| !architecture.contains(m.as_str()))
        .collect();
    assert!(
        unnamed.is_empty(),
        "ARCHITECTURE.md's code map does not name these modules: {unnamed:#?}"
    );
}
