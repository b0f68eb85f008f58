//! A test's project compiled through the featc library, from a folder or from files,
//! and the feature lists the tests request.

use std::path::{Path, PathBuf};

use featc::ir::{FeatureId, Project};
use featc::SourceFile;

use crate::paths::repo_root;

/// Compiles the `.feat` files of a case folder (named by their paths, so that `file`
/// locations resolve into the folder).
pub fn compile_dir(dir: &Path) -> Project {
    compile(&feat_files(dir))
}

/// The `.feat` files of a project folder, sorted, each named by its path.
pub fn feat_files(dir: &Path) -> Vec<SourceFile> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("case folder")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "feat"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| SourceFile {
            name: p.display().to_string(),
            text: std::fs::read_to_string(p).expect("read .feat"),
        })
        .collect()
}

/// The project of `sources`; a test's project that does not compile fails the test
/// with its diagnostics.
pub fn compile(sources: &[SourceFile]) -> Project {
    match featc::compile(sources) {
        Ok(p) => p,
        Err(d) => panic!("project does not compile:\n{}", d.render(sources, false)),
    }
}

/// The project of one file `name` holding `text`; one that does not compile fails
/// the test with its diagnostics.
pub fn compile_text(name: &str, text: &str) -> Project {
    let files = [SourceFile {
        name: name.to_string(),
        text: text.to_string(),
    }];
    compile(&files)
}

/// `base` with each `(from, to)` replaced once (each `from` must be there): a
/// project edited the way a user would.
pub fn edited(base: &str, edits: &[(&str, &str)]) -> String {
    let mut text = base.to_string();
    for (from, to) in edits {
        assert!(text.contains(from), "`{from}` is not in the project");
        text = text.replacen(from, to, 1);
    }
    text
}

/// The `.feat` files of the project folder `dir`, sorted, each named by its path from
/// the repository root, so that what prints file names (snapshots, diagnostics)
/// does not depend on the checkout.
pub fn feat_files_named_from_root(dir: &Path) -> Vec<SourceFile> {
    let root = repo_root().canonicalize().expect("repository root");
    let dir = dir.canonicalize().expect("project folder");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("project folder")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "feat"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| SourceFile {
            name: p
                .strip_prefix(&root)
                .expect("inside the repository")
                .display()
                .to_string(),
            text: std::fs::read_to_string(p).expect("read .feat"),
        })
        .collect()
}

/// `features` without those named in `refused` (what an emitter refused), in order.
pub fn features_except(
    project: &Project,
    features: &[FeatureId],
    refused: &[&str],
) -> Vec<FeatureId> {
    features
        .iter()
        .copied()
        .filter(|id| !refused.contains(&project.feature(*id).name.as_str()))
        .collect()
}

/// Every feature of the project in declaration order.
pub fn all_features(project: &Project) -> Vec<FeatureId> {
    project.all_features()
}
