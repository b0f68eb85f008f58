//! featc-grammar: the `.feat` language's pest grammar and its syntax tree with spans.

pub mod ast;
mod build;
mod docs;
mod errors;
mod expr;
pub mod fmt;
mod parser;
mod print;
mod scan;

pub use fmt::{format, LayoutError};
pub use print::print_file;

/// Parses one `.feat` file. On syntax errors, parsing resumes at the next line starting
/// with `source`, `entity`, `view` or `service`, so every broken item is reported once.
pub fn parse(file: ast::FileId, text: &str) -> Result<ast::File, Vec<ast::ParseError>> {
    parser::parse_file(file, text)
}
