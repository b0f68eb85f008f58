//! Reading a project's `.feat` files from disk: the one place of the library that
//! touches the file system, shared by the CLI and embedders (the Python package).

use std::path::{Path, PathBuf};

use crate::project::ReadFile;
use crate::{SourceFile, Undecodable};

/// The file system, as `compile` reads a topic's schema files (at most
/// `SCHEMA_BYTES` of one: a schema is small, and `/dev/zero` is not one).
#[derive(Debug, Clone, Copy, Default)]
pub struct Disk;

/// The largest schema file `Disk` reads.
pub const SCHEMA_BYTES: u64 = 16 << 20;

impl ReadFile for Disk {
    fn read(&self, location: &str) -> std::io::Result<Vec<u8>> {
        use std::io::Read;
        let mut bytes = Vec::new();
        std::fs::File::open(location)?
            .take(SCHEMA_BYTES + 1)
            .read_to_end(&mut bytes)?;
        if bytes.len() as u64 > SCHEMA_BYTES {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("larger than {} MiB, which no schema is", SCHEMA_BYTES >> 20),
            ));
        }
        Ok(bytes)
    }
}

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

/// A file opened for reading by `audit` (a served log's Parquet file).
pub type OpenFile = std::fs::File;

/// Opens `path` for reading.
pub fn open(path: &Path) -> std::io::Result<OpenFile> {
    std::fs::File::open(path)
}

/// The files of the folder `path` whose names start with `prefix` and end with
/// `suffix` (so a writer's hidden `.…partial` files are never among them), sorted by
/// name; a file given itself is returned alone.
pub fn files_named(path: &Path, prefix: &str, suffix: &str) -> std::io::Result<Vec<PathBuf>> {
    if !std::fs::metadata(path)?.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(path)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(prefix) && name.ends_with(suffix) && entry.file_type()?.is_file() {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}
