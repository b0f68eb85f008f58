//! A `.feat` file's bytes to its text. A file that is not UTF-8 is an error like any
//! other (E0029, with the file, line and column of the first invalid byte) rather than
//! an IO failure, so the decoding error is kept as data; the CLI reads bytes and
//! decodes them here, and so can any program embedding the compiler.

use crate::check::CheckError;
use crate::diagnostics::Diagnostics;
use crate::project::SourceFile;
use featc_grammar::ast::{FileId, Span};

/// A file whose bytes are not UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotUtf8 {
    pub name: String,
    /// The text with each invalid sequence replaced by U+FFFD, so that a diagnostic can
    /// show the line it is on.
    pub lossy: String,
    /// Where the first invalid sequence starts: the same offset in the bytes and in
    /// `lossy`, as everything before it is valid.
    pub offset: usize,
    /// The first invalid sequence (one byte, or an incomplete character).
    pub bytes: Vec<u8>,
    /// The bytes start with a UTF-16 byte order mark (what some Windows tools write).
    pub utf16: bool,
}

impl SourceFile {
    /// Decodes a file's bytes as UTF-8; a file that is not UTF-8 gives the decoding
    /// error as data ([`NotUtf8::error`] is its diagnostic).
    pub fn from_bytes(name: impl Into<String>, bytes: Vec<u8>) -> Result<SourceFile, NotUtf8> {
        let name = name.into();
        match String::from_utf8(bytes) {
            Ok(text) => Ok(SourceFile { name, text }),
            Err(err) => {
                let offset = err.utf8_error().valid_up_to();
                // `None`: the bytes end in the middle of a character.
                let len = err.utf8_error().error_len();
                let bytes = err.into_bytes();
                let invalid = bytes.get(offset..).unwrap_or_default();
                Err(NotUtf8 {
                    name,
                    lossy: String::from_utf8_lossy(&bytes).into_owned(),
                    offset,
                    bytes: invalid
                        .iter()
                        .take(len.unwrap_or(invalid.len()))
                        .copied()
                        .collect(),
                    utf16: bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]),
                })
            }
        }
    }
}

impl NotUtf8 {
    /// The error (E0029) for this file, when it is the file `file` of the project.
    pub fn error(&self, file: FileId) -> CheckError {
        let before = self.lossy.get(..self.offset).unwrap_or_default();
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        CheckError::InvalidUtf8 {
            file: self.name.clone(),
            span: Span::new(file, self.offset, self.offset + '\u{FFFD}'.len_utf8()),
            bytes: self.bytes.clone(),
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
            utf16: self.utf16,
        }
    }

    /// The file as its diagnostics show it: decoded lossily.
    pub fn lossy_file(&self) -> SourceFile {
        SourceFile {
            name: self.name.clone(),
            text: self.lossy.clone(),
        }
    }
}

/// A project some of whose files are not UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undecodable {
    /// Every file, those that are not UTF-8 decoded lossily: what `diagnostics` are
    /// rendered against.
    pub files: Vec<SourceFile>,
    /// An E0029 per file that is not UTF-8, and the syntax errors of the other files.
    pub diagnostics: Diagnostics,
}

/// Decodes the files of a project read as bytes (name and bytes per file, in the
/// order `compile` takes them). When some are not UTF-8 they are reported together
/// with the syntax errors of the others, as `compile` reports all syntax errors at
/// once.
pub fn decode_files(files: Vec<(String, Vec<u8>)>) -> Result<Vec<SourceFile>, Undecodable> {
    let decoded: Vec<Result<SourceFile, NotUtf8>> = files
        .into_iter()
        .map(|(name, bytes)| SourceFile::from_bytes(name, bytes))
        .collect();
    if decoded.iter().all(Result::is_ok) {
        return Ok(decoded.into_iter().flatten().collect());
    }
    let mut errors = Vec::new();
    let mut shown = Vec::with_capacity(decoded.len());
    for (id, file) in decoded.into_iter().enumerate() {
        let id = id as FileId;
        match file {
            Ok(file) => {
                if let Err(errs) = crate::parse_file(id, &file) {
                    errors.extend(errs);
                }
                shown.push(file);
            }
            Err(not_utf8) => {
                errors.push(not_utf8.error(id));
                shown.push(not_utf8.lossy_file());
            }
        }
    }
    Err(Undecodable {
        files: shown,
        diagnostics: crate::diagnostics_of(errors),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn not_utf8(bytes: &[u8]) -> NotUtf8 {
        match SourceFile::from_bytes("x.feat", bytes.to_vec()) {
            Ok(file) => panic!("decoded: {file:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn utf8_decodes() {
        let file = SourceFile::from_bytes("a.feat", "entity é".as_bytes().to_vec());
        assert_eq!(file.map(|f| f.text), Ok("entity é".to_string()));
    }

    #[test]
    fn the_first_invalid_byte_is_located() {
        let e = not_utf8(b"ab\ncd\xFFe\xFE");
        assert_eq!(
            (e.offset, e.bytes.as_slice(), e.utf16),
            (5, &[0xFF][..], false)
        );
        assert_eq!(e.lossy, "ab\ncd\u{FFFD}e\u{FFFD}");
        match e.error(2) {
            CheckError::InvalidUtf8 {
                span, line, column, ..
            } => {
                assert_eq!((span, line, column), (Span::new(2, 5, 8), 2, 3));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_character_cut_at_the_end_and_utf16_are_told() {
        let e = not_utf8("é€".as_bytes().split_last().map_or(&[][..], |(_, b)| b));
        assert_eq!((e.offset, e.bytes.as_slice()), (2, &[0xE2, 0x82][..]));
        assert!(not_utf8(&[0xFF, 0xFE, b'a', 0]).utf16);
    }
}
