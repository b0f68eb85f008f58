//! A project folder of the repository read as the compiler takes it, for the
//! snapshot tests (the IR and the catalog).

use featc::SourceFile;

/// The repository root.
pub const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// A project folder's `.feat` files (sorted), named relative to the repository root
/// so the snapshots do not depend on where the repository is checked out.
pub fn project(dir: &str) -> Vec<SourceFile> {
    let mut names: Vec<String> = std::fs::read_dir(format!("{ROOT}/{dir}"))
        .expect("project folder")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".feat"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let name = format!("{dir}/{n}");
            let text = std::fs::read_to_string(format!("{ROOT}/{name}")).expect("readable");
            SourceFile { name, text }
        })
        .collect()
}
