//! Reading a project's `.feat` files from disk: the one place of the library that
//! touches the file system, shared by the CLI and embedders (the Python package).

use std::path::{Path, PathBuf};

use crate::{SourceFile, Undecodable};

/// Why a project's files could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// A path that cannot be read, or no `.feat` file at all: the message says which.
    Io(String),
    /// Files that are not UTF-8: diagnostics (E0029) with the other files' errors.
    Undecodable(Undecodable),
}

/// Reads the `.feat` files of the given paths: a file is taken as is, a folder
/// contributes every `*.feat` below it. The result is sorted by path, without
/// duplicates; each file is named by its path as given. Files are read as bytes and
/// decoded (`decode_files`).
pub fn read_project(paths: &[PathBuf]) -> Result<Vec<SourceFile>, ReadError> {
    let mut found = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| cannot_read(path, e))?;
        if meta.is_dir() {
            collect_feat_files(path, &mut found)?;
        } else {
            found.push(path.clone());
        }
    }
    found.sort();
    found.dedup();
    if found.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| format!("`{}`", p.display())).collect();
        return Err(ReadError::Io(format!(
            "no .feat files in {}",
            shown.join(", ")
        )));
    }
    let raw = found
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).map_err(|e| cannot_read(&path, e))?;
            Ok((path.display().to_string(), bytes))
        })
        .collect::<Result<Vec<_>, ReadError>>()?;
    crate::decode_files(raw).map_err(ReadError::Undecodable)
}

fn cannot_read(path: &Path, e: std::io::Error) -> ReadError {
    ReadError::Io(format!("cannot read `{}`: {e}", path.display()))
}

fn collect_feat_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ReadError> {
    let entries = std::fs::read_dir(dir).map_err(|e| cannot_read(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| cannot_read(dir, e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| cannot_read(&path, e))?;
        if kind.is_dir() {
            collect_feat_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "feat") {
            out.push(path);
        }
    }
    Ok(())
}
