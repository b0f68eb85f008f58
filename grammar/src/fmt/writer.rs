//! The formatter's output state: the line being written, indentation, and the comments
//! still to place. Every source token and every comment passes through here in source
//! order, so each comment lands in the gap it was written in.

use super::comments::Comment;
use super::lines::{Group, Line};

/// Spaces per indentation level.
pub(crate) const INDENT: usize = 4;

pub(crate) struct Writer<'t> {
    text: &'t str,
    comments: Vec<Comment>,
    next_comment: usize,
    lines: Vec<Line>,
    /// The line being written, if any.
    cur: Option<Line>,
    /// The current line ends with a comment: the next token starts a new line.
    closed: bool,
    /// End of the last source token or comment written.
    last_end: usize,
    /// Indentation of the current block's lines.
    pub indent: usize,
    /// Inside a clause: a line break the source has between two of its tokens, or one
    /// forced by a comment, starts a continuation line (one level deeper).
    pub in_clause: bool,
    /// The next line is the first of a block: no blank line before it.
    block_start: bool,
    /// Separator before the next token instead of a space (`"  "` between the entries
    /// of a one-line block).
    pending_sep: Option<&'static str>,
}

impl<'t> Writer<'t> {
    pub(crate) fn new(text: &'t str, comments: Vec<Comment>) -> Writer<'t> {
        Writer {
            text,
            comments,
            next_comment: 0,
            lines: Vec::new(),
            cur: None,
            closed: false,
            last_end: 0,
            indent: 0,
            in_clause: false,
            block_start: false,
            pending_sep: None,
        }
    }

    /// Whether `text[from..to]` (whitespace) holds a blank line.
    fn blank_between(&self, from: usize, to: usize) -> bool {
        self.text
            .get(from..to)
            .is_some_and(|gap| gap.matches('\n').count() >= 2)
    }

    fn newline_between(&self, from: usize, to: usize) -> bool {
        self.text
            .get(from..to)
            .is_some_and(|gap| gap.contains('\n'))
    }

    /// Closes the current line and opens an empty one at `indent`.
    fn open_line(&mut self, indent: usize, blank_before: bool) {
        if let Some(line) = self.cur.take() {
            self.lines.push(line);
        }
        let blank = blank_before && !self.block_start;
        self.block_start = false;
        self.closed = false;
        self.cur = Some(Line {
            indent,
            blank_before: blank,
            ..Line::default()
        });
    }

    fn cur_is_empty(&self) -> bool {
        self.cur.as_ref().is_none_or(|l| l.text.is_empty())
    }

    fn line_indent(&self) -> usize {
        if self.in_clause {
            self.indent + INDENT
        } else {
            self.indent
        }
    }

    /// Writes every comment that starts before `pos`: on the current line when the
    /// source has it on the line of the previous token, else on a line of its own.
    pub(crate) fn comments_before(&mut self, pos: usize) {
        while let Some(c) = self.comments.get(self.next_comment).cloned() {
            if c.start >= pos {
                break;
            }
            self.next_comment += 1;
            let trailing = !self.newline_between(self.last_end, c.start) && !self.cur_is_empty();
            if trailing {
                if let Some(line) = self.cur.as_mut() {
                    let code_end = line.text.len();
                    if !line.text.ends_with([' ', '(', '[']) {
                        line.text.push(' ');
                    }
                    // A line comment after code may be aligned with its neighbours'.
                    if c.text.starts_with("//") && line.trailing.is_none() {
                        line.trailing = Some((code_end, line.text.len()));
                    }
                    line.text.push_str(&c.text);
                }
            } else {
                let blank = self.blank_between(self.last_end, c.start);
                self.open_line(self.line_indent(), blank);
                if let Some(line) = self.cur.as_mut() {
                    line.text.push_str(&c.text);
                    line.comment = true;
                }
            }
            // A `/* */` comment after code on one line leaves the line open.
            if trailing && c.text.starts_with("/*") && !c.text.contains('\n') {
                self.pending_sep = Some(" ");
            } else {
                self.closed = true;
            }
            self.last_end = c.end;
        }
    }

    /// Writes the source token `text[start..end]` as `shown`, after a space when
    /// `space` (and something precedes it on the line).
    pub(crate) fn token(&mut self, start: usize, end: usize, shown: &str, space: bool) {
        self.comments_before(start);
        let source_break = self.in_clause && self.newline_between(self.last_end, start);
        if self.cur.is_none() || self.closed || (source_break && !self.cur_is_empty()) {
            self.open_line(self.line_indent(), false);
        }
        let sep = self.pending_sep.take();
        if let Some(line) = self.cur.as_mut() {
            if !line.text.is_empty() {
                match sep {
                    Some(sep) => line.text.push_str(sep),
                    None if space => line.text.push(' '),
                    None => {}
                }
            }
            line.text.push_str(shown);
        }
        self.last_end = end;
    }

    /// Starts a line for the clause or declaration at `pos`, after the comments above
    /// it; a blank line in the source before it is kept (one at most), as between
    /// declarations: files that keep small declarations together may.
    pub(crate) fn start_line(&mut self, pos: usize) {
        self.in_clause = false;
        self.comments_before(pos);
        let blank = self.blank_between(self.last_end, pos);
        self.open_line(self.indent, blank);
        self.in_clause = true;
    }

    /// The next token of a one-line block is separated by `sep`.
    pub(crate) fn separate(&mut self, sep: &'static str) {
        self.pending_sep = Some(sep);
    }

    /// Marks the current line's end as its alignment point in `group`.
    pub(crate) fn align_here(&mut self, group: Group) {
        if let Some(line) = self.cur.as_mut() {
            line.align = Some((group, line.text.len()));
        }
    }

    /// An expanded block begins: its lines are one level deeper.
    pub(crate) fn enter_block(&mut self) {
        self.indent += INDENT;
        self.block_start = true;
        self.in_clause = false;
    }

    /// An expanded block ends with its `}` at `start..end` on a line of its own, after
    /// the comments before it.
    pub(crate) fn leave_block(&mut self, start: usize, end: usize) {
        self.in_clause = false;
        self.comments_before(start);
        self.indent = self.indent.saturating_sub(INDENT);
        self.block_start = false;
        self.open_line(self.indent, false);
        self.token(start, end, "}", false);
    }

    /// The source text between two offsets.
    pub(crate) fn text_between(&self, from: usize, to: usize) -> Option<&'t str> {
        self.text.get(from..to)
    }

    /// Whether a comment starts in `text[from..to]`.
    pub(crate) fn has_comment_in(&self, from: usize, to: usize) -> bool {
        self.comments[self.next_comment..]
            .iter()
            .any(|c| c.start >= from && c.start < to)
    }

    /// The lines written, the last one included, after the comments left at the end.
    pub(crate) fn finish(mut self) -> Vec<Line> {
        self.in_clause = false;
        self.indent = 0;
        self.comments_before(usize::MAX);
        if let Some(line) = self.cur.take() {
            self.lines.push(line);
        }
        self.lines
    }
}
