//! featc: the compiler from `.feat` projects to a typed IR, batch plans and stream graphs.
//!
//! The compiler reads no `.feat` file: callers read them and pass their text (or their
//! bytes to `decode_files`, which reports a file that is not UTF-8 as a diagnostic),
//! or have `files::read_project` read them. The one file `compile` reads is a
//! topic's schema (`format avro "x.avsc"`, `format protobuf "x.proto" "M"`), through
//! `files::Disk`, or through the caller's `ReadFile` with `compile_with`. `job` runs what a project computes over
//! data (a training set), for the CLI and embedders alike. Stages:
//! `parse_files` (syntax trees) → `compile` (resolve + check → `ir::Project`).
//! Every error of a project comes back at once as `Diagnostics`.
//!
//! Layers (bottom first): project | diagnostics | check, import | decode, files, fmt, lower | print, emit, job | catalog, diff, verify | audit
//!
//! A module names only modules on floors below its own (`tidy/tests/layers.rs`): the
//! IR's location rules (`project`) and the diagnostics under the checker; the
//! lowerings above it; printers, emitters and jobs over those; the tools
//! (`catalog`, `diff`, `verify`) over those; and `audit`, which runs a job and
//! compares meanings, on top.

pub mod audit;
pub mod catalog;
pub mod check;
pub mod decode;
pub mod diagnostics;
pub mod diff;
pub mod emit;
pub mod files;
pub mod fmt;
pub mod import;
pub mod job;
pub mod lower;
pub mod print;
pub mod project;
pub mod verify;

pub use check::CheckError;
pub use decode::{decode_files, NotUtf8, Undecodable};
pub use diagnostics::{Diagnostic, Diagnostics, Label, LabelStyle};
pub use featc_grammar::ast;
pub use featc_runtime::ir;
pub use project::{ReadFile, SourceFile};

/// Parses every file (file id = index in `files`), reporting the syntax errors of
/// all of them together.
pub fn parse_files(files: &[SourceFile]) -> Result<Vec<ast::File>, Diagnostics> {
    let mut parsed = Vec::with_capacity(files.len());
    let mut errors = Vec::new();
    for (id, file) in files.iter().enumerate() {
        match parse_file(id as ast::FileId, file) {
            Ok(tree) => parsed.push(tree),
            Err(errs) => errors.extend(errs),
        }
    }
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(diagnostics_of(errors))
    }
}

/// Parses one file, the file `id` of its project.
pub(crate) fn parse_file(id: ast::FileId, file: &SourceFile) -> Result<ast::File, Vec<CheckError>> {
    featc_grammar::parse(id, &file.text)
        .map_err(|errs| errs.into_iter().map(syntax_error).collect())
}

/// A syntax error as a compile error: the grammar's kinds of error each have a code.
fn syntax_error(e: ast::ParseError) -> CheckError {
    match e.kind {
        ast::ParseErrorKind::Unexpected { expected, found } => CheckError::Syntax {
            span: e.span,
            expected,
            found,
        },
        ast::ParseErrorKind::Unterminated { quote } => CheckError::Unterminated {
            span: e.span,
            quote,
        },
        ast::ParseErrorKind::Unclosed {
            delimiter,
            end,
            found,
        } => CheckError::Unclosed {
            span: e.span,
            delimiter,
            end,
            found,
        },
    }
}

/// Compiles a project to the typed IR. Files are taken in the order given (the CLI
/// sorts them by path); declarations may refer to each other across files in any
/// order. On error, returns all syntax errors, or (when every file parsed) all
/// semantic errors, sorted by position.
pub fn compile(files: &[SourceFile]) -> Result<ir::Project, Diagnostics> {
    let disk: std::sync::Arc<dyn ReadFile> = std::sync::Arc::new(files::Disk);
    compile_with(files, &disk)
}

/// `compile`, reading the schema files topics name through `reader` (their
/// locations resolved as `file`'s are: `project::resolve_location`).
pub fn compile_with(
    files: &[SourceFile],
    reader: &std::sync::Arc<dyn ReadFile>,
) -> Result<ir::Project, Diagnostics> {
    let trees = parse_files(files)?;
    let names: Vec<String> = files.iter().map(|f| f.name.clone()).collect();
    check::check(&trees, &names, reader).map_err(diagnostics_of)
}

/// Renders errors, sorted by where they point (stable: same-place errors keep the
/// order they were found in).
pub(crate) fn diagnostics_of(errors: Vec<CheckError>) -> Diagnostics {
    let mut items: Vec<Diagnostic> = errors.iter().map(CheckError::to_diagnostic).collect();
    items.sort_by_key(|d| {
        d.labels
            .iter()
            .find(|l| l.style == LabelStyle::Primary)
            .map(|l| (l.span.file, l.span.start, l.span.end))
    });
    Diagnostics::from(items)
}
