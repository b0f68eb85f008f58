//! Formatting a project's files (`featc fmt`): the layout is the grammar crate's
//! (`featc_grammar::format`); here syntax errors become the usual coded diagnostics.

use crate::{diagnostics_of, parse_file, Diagnostics, SourceFile};

/// Why a project's files were not formatted.
#[derive(Debug)]
pub enum ProjectFormatError {
    /// Some file does not parse: every syntax error of every file.
    Syntax(Diagnostics),
    /// The formatter could not lay out this file (by name) without changing its
    /// meaning or comments: a bug of featc; nothing should be written.
    Unstable(String),
}

/// The canonical text of each file, in order; nothing if any file does not parse, so
/// that no file is rewritten from a partial parse.
pub fn format_files(files: &[SourceFile]) -> Result<Vec<String>, ProjectFormatError> {
    let mut errors = Vec::new();
    for (id, file) in files.iter().enumerate() {
        if let Err(errs) = parse_file(id as crate::ast::FileId, file) {
            errors.extend(errs);
        }
    }
    if !errors.is_empty() {
        return Err(ProjectFormatError::Syntax(diagnostics_of(errors)));
    }
    files
        .iter()
        .map(|file| {
            featc_grammar::format(&file.text)
                .map_err(|_| ProjectFormatError::Unstable(file.name.clone()))
        })
        .collect()
}
