//! House rule on the code map: ARCHITECTURE.md names every source folder (a folder
//! holding Rust files under a crate's `src/`); a crate's top-level modules are named
//! by its root's Layers line instead (`layers.rs` checks that every one is on a floor).

use featc_tidy::repo::{read, rust_files};

#[test]
fn architecture_names_every_source_folder() {
    let architecture = read("ARCHITECTURE.md");
    let mut folders: Vec<String> = Vec::new();
    for f in rust_files() {
        if let Some((dir, _)) = f.rsplit_once('/') {
            let folder = format!("{dir}/");
            if (dir.ends_with("/src") || dir.contains("/src/")) && !folders.contains(&folder) {
                folders.push(folder);
            }
        }
    }
    let unnamed: Vec<&String> = folders
        .iter()
        .filter(|m| !architecture.contains(m.as_str()))
        .collect();
    assert!(
        unnamed.is_empty(),
        "ARCHITECTURE.md's code map does not name these folders: {unnamed:#?}"
    );
}
