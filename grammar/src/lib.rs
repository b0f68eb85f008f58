//! featc-grammar: the `.feat` language's pest grammar and its syntax tree with spans.
//!
//! Layers (bottom first): ast | rules, scan, docs | errors | build | expr | parser | fmt, print
//!
//! A module names only modules on floors below its own (`tidy/tests/layers.rs`): the
//! syntax tree (`ast`); pest's generated parser (`rules`), the error scanner (`scan`),
//! doc comments (`docs`); pest errors as parse errors (`errors`); pairs to the tree
//! (`build`, with Pratt precedence in `expr`); the item-by-item driver with recovery
//! (`parser`); the formatter (`fmt`) and the tree printer (`print`).

pub mod ast;
mod build;
mod docs;
mod errors;
mod expr;
pub mod fmt;
mod parser;
mod print;
mod rules;
mod scan;

pub use fmt::{format, LayoutError};
pub use print::{ident_text, print_file, type_text, KEYWORDS};

/// Parses one `.feat` file. On syntax errors, parsing resumes at the next line starting
/// with `source`, `entity`, `view` or `service`, so every broken item is reported once.
pub fn parse(file: ast::FileId, text: &str) -> Result<ast::File, Vec<ast::ParseError>> {
    parser::parse_file(file, text)
}
