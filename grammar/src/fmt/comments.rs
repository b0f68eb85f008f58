//! The comments of a file, found in the gaps between the parser's tokens.
//!
//! The grammar skips comments (pest's implicit `COMMENT`), so the syntax tree has none;
//! the formatter recovers them here and puts each back in the gap it came from.

/// One `//` or `/* */` comment (doc comments `///` included), as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Comment {
    pub start: usize,
    pub end: usize,
    /// The text without trailing whitespace: a `//` comment ends before its newline.
    pub text: String,
}

/// The comments in `text[from..to]`, a gap between two tokens (whitespace and comments
/// only, since the file parsed).
pub(crate) fn in_gap(text: &str, from: usize, to: usize, out: &mut Vec<Comment>) {
    let mut pos = from;
    while pos < to {
        let rest = &text[pos..to];
        if rest.starts_with("//") {
            let len = rest.find('\n').unwrap_or(rest.len());
            push(text, pos, pos + len, out);
            pos += len;
        } else if let Some(body) = rest.strip_prefix("/*") {
            let len = body.find("*/").map_or(rest.len(), |i| i + 4);
            push(text, pos, pos + len, out);
            pos += len;
        } else {
            pos += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
}

fn push(text: &str, start: usize, end: usize, out: &mut Vec<Comment>) {
    let raw = &text[start..end];
    let trimmed = raw.trim_end();
    out.push(Comment {
        start,
        end: start + trimmed.len(),
        text: trimmed.to_string(),
    });
}
