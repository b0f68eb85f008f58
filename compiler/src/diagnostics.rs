//! Diagnostics as plain data, and their rendering: the only module that names
//! codespan-reporting, so the rest of the compiler builds errors without a renderer.
//! What codespan is given is made safe first: control characters escaped in messages
//! and shown as symbols in source lines, long lines cut around their labels.

mod cut;
mod escape;
mod excerpt;

use crate::project::SourceFile;
use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::{Error as FilesError, Files};
use codespan_reporting::term;
use excerpt::{Context, Excerpt};
use featc_grammar::ast::Span;
use std::ops::Range;

/// Whether a label marks the cause of the error or gives context for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelStyle {
    Primary,
    Secondary,
}

/// A message attached to a span of a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub style: LabelStyle,
    pub span: Span,
    pub message: String,
}

impl Label {
    pub fn primary(span: Span, message: impl Into<String>) -> Label {
        Label {
            style: LabelStyle::Primary,
            span,
            message: message.into(),
        }
    }

    pub fn secondary(span: Span, message: impl Into<String>) -> Label {
        Label {
            style: LabelStyle::Secondary,
            span,
            message: message.into(),
        }
    }
}

/// One error: a stable code (`E0004`, see docs/errors.md), a one-line message, the
/// labelled spans (the first primary label is where the error is reported) and notes
/// printed after the source excerpt (`help: ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: &'static str,
    pub message: String,
    pub labels: Vec<Label>,
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn new(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            labels: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn with_label(mut self, label: Label) -> Diagnostic {
        self.labels.push(label);
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Adds `help: TEXT`, rendered as `= help: TEXT`.
    pub fn with_help(self, help: impl std::fmt::Display) -> Diagnostic {
        self.with_note(format!("help: {help}"))
    }
}

/// Every error found in a project, in the order they were found (by file, then by
/// position within the checking of each declaration).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The codes of the diagnostics, in order (handy in tests).
    pub fn codes(&self) -> Vec<&'static str> {
        self.items.iter().map(|d| d.code).collect()
    }

    /// Renders every diagnostic like rustc does: header, `file:line:col`, the source
    /// lines with underlined labels, then the notes. `files` must be the files the
    /// diagnostics were produced from (spans index them). With `color` false the output
    /// is plain, stable text suitable for snapshots. Control characters never reach
    /// the output raw, and lines longer than 120 columns are cut around their labels.
    /// At most `MAX_RENDERED` are shown; a last note counts the others by code (one
    /// mistake repeated thousands of times must not bury the first errors, nor take
    /// seconds to print).
    pub fn render(&self, files: &[SourceFile], color: bool) -> String {
        let config = term::Config::default();
        let context = Context {
            before: config.before_label_lines,
            after: config.after_label_lines,
            start: config.start_context_lines,
            end: config.end_context_lines,
        };
        let starts: Vec<Vec<usize>> = files
            .iter()
            .map(|f| excerpt::line_starts(&f.text))
            .collect();
        let mut out = String::new();
        for diagnostic in self.items.iter().take(MAX_RENDERED) {
            let (shown, rendered) = to_codespan(diagnostic, files, &starts, context);
            let text = if color {
                let mut ansi = term::termcolor::Ansi::new(Vec::new());
                term::emit_to_write_style(&mut ansi, &config, &shown, &rendered)
                    .map(|()| String::from_utf8_lossy(&ansi.into_inner()).into_owned())
            } else {
                term::emit_into_string(&config, &shown, &rendered)
            };
            match text {
                Ok(text) => out.push_str(&text),
                // Spans were clamped to the files, so this is a renderer limitation:
                // fall back to the bare message rather than losing the error.
                Err(_) => out.push_str(&format!(
                    "error[{}]: {}\n",
                    diagnostic.code,
                    escape::message(&diagnostic.message)
                )),
            }
        }
        if let Some(hidden) = self.items.get(MAX_RENDERED..).filter(|h| !h.is_empty()) {
            out.push_str(&hidden_note(hidden));
        }
        out
    }
}

/// Where a diagnostic is reported, as data: for programs that show diagnostics their
/// own way (the Python package's `CompileError.diagnostics`, an editor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub code: &'static str,
    pub message: String,
    /// The file's name as given; empty for a diagnostic without a primary label.
    pub file: String,
    /// 1-based; 0 without a primary label.
    pub line: usize,
    /// 1-based, in characters (as the rendered `file:line:col` counts them).
    pub column: usize,
    /// The text of the first `help:` note.
    pub help: Option<String>,
}

impl Diagnostics {
    /// Each diagnostic with the file, line and column of its first primary label,
    /// as `render` prints them.
    pub fn located(&self, files: &[SourceFile]) -> Vec<Located> {
        self.items
            .iter()
            .map(|d| {
                let primary = d.labels.iter().find(|l| l.style == LabelStyle::Primary);
                let (file, line, column) = primary
                    .and_then(|l| {
                        let f = files.get(l.span.file as usize)?;
                        let at = (l.span.start as usize).min(f.text.len());
                        let before = f.text.get(..at)?;
                        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
                        let line = before.matches('\n').count() + 1;
                        let column = before.get(line_start..)?.chars().count() + 1;
                        Some((f.name.clone(), line, column))
                    })
                    .unwrap_or_default();
                Located {
                    code: d.code,
                    message: d.message.clone(),
                    file,
                    line,
                    column,
                    help: d
                        .notes
                        .iter()
                        .find_map(|n| n.strip_prefix("help: ").map(str::to_string)),
                }
            })
            .collect()
    }
}

/// The most diagnostics `Diagnostics::render` shows.
pub const MAX_RENDERED: usize = 100;

/// `note: 7708 more errors not shown: E0012 x7700, E0004 x8`, codes by first
/// appearance.
fn hidden_note(hidden: &[Diagnostic]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for d in hidden {
        match counts.iter_mut().find(|(code, _)| *code == d.code) {
            Some((_, n)) => *n += 1,
            None => counts.push((d.code, 1)),
        }
    }
    let by_code: Vec<String> = counts.iter().map(|(c, n)| format!("{c} x{n}")).collect();
    format!(
        "note: {} more error{} not shown: {}\n\n",
        hidden.len(),
        if hidden.len() == 1 { "" } else { "s" },
        by_code.join(", ")
    )
}

/// One `error[CODE]: message` line per diagnostic, without source excerpts (for
/// contexts that have no files at hand; use `render` for users).
impl std::fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for d in &self.items {
            writeln!(f, "error[{}]: {}", d.code, escape::message(&d.message))?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl From<Vec<Diagnostic>> for Diagnostics {
    fn from(items: Vec<Diagnostic>) -> Diagnostics {
        Diagnostics { items }
    }
}

/// The files as one diagnostic shows them: per file its name (escaped) and the excerpt
/// of the lines its labels need. Spans given to codespan are offsets in the excerpts;
/// line and column numbers are the original file's.
struct Shown {
    names: Vec<String>,
    /// Lines of each original file (to tell an unshown line from one past the end).
    line_counts: Vec<usize>,
    /// `None` for a file the diagnostic does not point into.
    excerpts: Vec<Option<Excerpt>>,
}

impl Shown {
    fn excerpt(&self, id: usize) -> Result<&Excerpt, FilesError> {
        self.excerpts
            .get(id)
            .and_then(Option::as_ref)
            .ok_or(FilesError::FileMissing)
    }
}

impl<'a> Files<'a> for Shown {
    type FileId = usize;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: usize) -> Result<&'a str, FilesError> {
        self.names
            .get(id)
            .map(String::as_str)
            .ok_or(FilesError::FileMissing)
    }

    fn source(&'a self, id: usize) -> Result<&'a str, FilesError> {
        Ok(self.excerpt(id)?.text())
    }

    fn line_index(&'a self, id: usize, byte_index: usize) -> Result<usize, FilesError> {
        Ok(self.excerpt(id)?.line_index(byte_index))
    }

    fn line_range(&'a self, id: usize, line_index: usize) -> Result<Range<usize>, FilesError> {
        let count = self.line_counts.get(id).copied().unwrap_or(0);
        self.excerpt(id)?
            .line_range(line_index, count)
            .ok_or(FilesError::LineTooLarge {
                given: line_index,
                max: count.saturating_sub(1),
            })
    }

    fn column_number(
        &'a self,
        id: usize,
        line_index: usize,
        byte_index: usize,
    ) -> Result<usize, FilesError> {
        Ok(self.excerpt(id)?.column(line_index, byte_index))
    }
}

/// The diagnostic as codespan takes it, with the excerpts its labels point into.
fn to_codespan(
    diagnostic: &Diagnostic,
    files: &[SourceFile],
    starts: &[Vec<usize>],
    context: Context,
) -> (Shown, cs::Diagnostic<usize>) {
    // The labels that point into a file, clamped to it, grouped by file.
    let mut marks: Vec<Vec<(usize, Range<usize>)>> = vec![Vec::new(); files.len()];
    for (i, label) in diagnostic.labels.iter().enumerate() {
        let id = label.span.file as usize;
        if let (Some(file), Some(of_file)) = (files.get(id), marks.get_mut(id)) {
            of_file.push((i, clamp(&file.text, label.span)));
        }
    }
    let mut shown_ranges: Vec<Option<(usize, Range<usize>)>> = vec![None; diagnostic.labels.len()];
    let mut excerpts = Vec::with_capacity(files.len());
    for (id, (file, of_file)) in files.iter().zip(&marks).enumerate() {
        if of_file.is_empty() {
            excerpts.push(None);
            continue;
        }
        let file_marks: Vec<Range<usize>> = of_file.iter().map(|(_, m)| m.clone()).collect();
        let file_starts = starts.get(id).map_or(&[][..], Vec::as_slice);
        let (excerpt, ranges) = Excerpt::new(&file.text, file_starts, &file_marks, context);
        for ((i, _), range) in of_file.iter().zip(ranges) {
            if let Some(slot) = shown_ranges.get_mut(*i) {
                *slot = Some((id, range));
            }
        }
        excerpts.push(Some(excerpt));
    }
    let labels = diagnostic
        .labels
        .iter()
        .zip(shown_ranges)
        .filter_map(|(label, shown)| {
            let (id, range) = shown?;
            let style = match label.style {
                LabelStyle::Primary => cs::LabelStyle::Primary,
                LabelStyle::Secondary => cs::LabelStyle::Secondary,
            };
            Some(cs::Label::new(style, id, range).with_message(escape::message(&label.message)))
        })
        .collect();
    let notes = diagnostic
        .notes
        .iter()
        .map(|n| escape::message(n).into_owned())
        .collect();
    let shown = Shown {
        names: files
            .iter()
            .map(|f| escape::message(&f.name).into_owned())
            .collect(),
        line_counts: starts.iter().map(Vec::len).collect(),
        excerpts,
    };
    let rendered = cs::Diagnostic::error()
        .with_code(diagnostic.code)
        .with_message(escape::message(&diagnostic.message))
        .with_labels(labels)
        .with_notes(notes);
    (shown, rendered)
}

/// The span as a byte range that is inside `text` and on character boundaries, so
/// that a span from a stale or foreign text can never make rendering fail.
fn clamp(text: &str, span: Span) -> std::ops::Range<usize> {
    let floor = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = floor(span.start as usize);
    let end = floor(span.end as usize).max(start);
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_code_location_labels_and_help() {
        let files = vec![SourceFile {
            name: "a.feat".into(),
            text: "let x = amout\n".into(),
        }];
        let diags = Diagnostics::from(vec![Diagnostic::new("E0004", "unknown column `amout`")
            .with_label(Label::primary(Span::new(0, 8, 13), "not a column"))
            .with_help("did you mean `amount`?")]);
        let text = diags.render(&files, false);
        assert!(
            text.contains("error[E0004]: unknown column `amout`"),
            "{text}"
        );
        assert!(text.contains("a.feat:1:9"), "{text}");
        assert!(text.contains("^^^^^ not a column"), "{text}");
        assert!(text.contains("= help: did you mean `amount`?"), "{text}");
        assert!(!text.contains('\u{1b}'));
        assert!(diags.render(&files, true).contains('\u{1b}'));
    }

    #[test]
    fn only_the_first_hundred_are_rendered_and_the_rest_counted_by_code() {
        let files = vec![SourceFile {
            name: "a.feat".into(),
            text: "x\n".into(),
        }];
        let at = |code| {
            Diagnostic::new(code, "m").with_label(Label::primary(Span::new(0, 0, 1), "here"))
        };
        let mut items: Vec<Diagnostic> = (0..MAX_RENDERED + 3).map(|_| at("E0012")).collect();
        items.push(at("E0004"));
        let text = Diagnostics::from(items).render(&files, false);
        assert_eq!(text.matches("error[E0012]").count(), MAX_RENDERED);
        assert!(!text.contains("error[E0004]"), "{text}");
        assert!(
            text.ends_with("note: 4 more errors not shown: E0012 x3, E0004 x1\n\n"),
            "{text}"
        );
    }

    #[test]
    fn out_of_range_spans_do_not_fail() {
        let files = vec![SourceFile {
            name: "a.feat".into(),
            text: "é".into(),
        }];
        let diags = Diagnostics::from(vec![Diagnostic::new("E0001", "x")
            .with_label(Label::primary(Span::new(0, 1, 99), "here"))
            .with_label(Label::primary(Span::new(7, 0, 1), "no such file"))]);
        assert!(diags.render(&files, false).contains("error[E0001]: x"));
    }
}
