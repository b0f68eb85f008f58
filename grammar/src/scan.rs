//! A tiny hand-written scanner over raw text: trivia skipping, token boundaries and item
//! starts, used for error reporting and recovery where pest gives only a position.

/// Deepest nesting of `(`, `[` and `case` (and longest run of prefix operators) accepted
/// before parsing: pest and the builder both recurse per level, and user input must not
/// be able to exhaust the stack.
pub(crate) const MAX_NESTING: usize = 100;

/// The keywords that start an item; recovery resumes at a line starting with one.
const ITEM_KEYWORDS: [&str; 4] = ["source", "entity", "view", "service"];

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n' | '\u{0C}' | '\u{FEFF}')
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Skips whitespace and comments from `pos`. `Err(start)` names an unterminated `/*`.
pub(crate) fn skip_trivia(text: &str, mut pos: usize) -> Result<usize, usize> {
    loop {
        let rest = match text.get(pos..) {
            Some(rest) => rest,
            None => return Ok(text.len()),
        };
        let mut chars = rest.chars();
        match chars.next() {
            Some(c) if is_space(c) => pos += c.len_utf8(),
            Some('/') if rest.starts_with("//") => {
                pos += rest.find('\n').unwrap_or(rest.len());
            }
            Some('/') if rest.starts_with("/*") => match rest[2..].find("*/") {
                Some(i) => pos += i + 4,
                None => return Err(pos),
            },
            _ => return Ok(pos),
        }
    }
}

/// The end of the token starting at `pos` (which is not trivia); `pos` at end of input
/// gives `pos`. Tokens are approximate (they only name what was found in an error) but
/// always end on a character boundary.
pub(crate) fn token_end(text: &str, pos: usize) -> usize {
    let rest = match text.get(pos..) {
        Some(rest) => rest,
        None => return text.len(),
    };
    let first = match rest.chars().next() {
        Some(c) => c,
        None => return pos,
    };
    if is_word(first) {
        let mut end = 0;
        let bytes = rest.as_bytes();
        while end < bytes.len() {
            let b = bytes[end];
            let digit_dot = b == b'.'
                && first.is_ascii_digit()
                && bytes.get(end + 1).is_some_and(|n| n.is_ascii_digit());
            if (b as char).is_ascii_alphanumeric() || b == b'_' || digit_dot {
                end += 1;
            } else {
                break;
            }
        }
        return pos + end;
    }
    if matches!(first, '\'' | '"' | '`') {
        let mut escaped = false;
        for (i, c) in rest.char_indices().skip(1) {
            if c == '\n' || c == '\r' {
                return pos + i;
            }
            if first == '"' && c == '\\' && !escaped {
                escaped = true;
                continue;
            }
            if c == first && !escaped {
                return pos + i + 1;
            }
            escaped = false;
        }
        return text.len();
    }
    for op in ["<=", ">=", "!=", "<>", "==", "/*", "//"] {
        if rest.starts_with(op) {
            return pos + 2;
        }
    }
    pos + first.len_utf8()
}

/// Calls `f(start, end, first_on_line)` for every token from `pos` to the end of input,
/// stopping early when `f` returns `false`. Stops silently at an unterminated comment.
fn for_each_token(text: &str, mut pos: usize, mut f: impl FnMut(usize, usize, bool) -> bool) {
    loop {
        let start = match skip_trivia(text, pos) {
            Ok(start) if start < text.len() => start,
            _ => return,
        };
        let end = token_end(text, start).max(start + 1).min(text.len());
        // Only tokens after the first are asked about; a newline in the trivia before
        // one is what makes it first on its line.
        let first_on_line = text[pos..start].contains('\n');
        if !f(start, end, first_on_line) {
            return;
        }
        // A multi-byte character yields a one-byte "token"; move to the next boundary.
        let mut next = end;
        while !text.is_char_boundary(next) {
            next += 1;
        }
        pos = next;
    }
}

/// Where recovery resumes after the item starting at `item_start` failed: the first later
/// token that starts a line and is an item keyword.
pub(crate) fn next_item_start(text: &str, item_start: usize) -> Option<usize> {
    let mut found = None;
    for_each_token(text, item_start, |start, end, first_on_line| {
        if start > item_start && first_on_line && ITEM_KEYWORDS.contains(&&text[start..end]) {
            found = Some(start);
            return false;
        }
        true
    });
    found
}

/// The first token between `from` and `to` where nesting exceeds [`MAX_NESTING`], if any.
pub(crate) fn too_deep(text: &str, from: usize, to: usize) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    let mut prefix_run = 0usize;
    let mut found = None;
    for_each_token(text, from, |start, end, _| {
        if start >= to {
            return false;
        }
        match &text[start..end] {
            "(" | "[" | "case" => depth += 1,
            ")" | "]" | "end" => depth = depth.saturating_sub(1),
            _ => {}
        }
        match &text[start..end] {
            "not" | "-" => prefix_run += 1,
            _ => prefix_run = 0,
        }
        if depth > MAX_NESTING || prefix_run > MAX_NESTING {
            found = Some((start, end));
            return false;
        }
        true
    });
    found
}

/// Whether the token at `pos` is a string (`'` or `"`) or a backquoted name whose
/// closing quote is missing before the end of its line; returns the quote. Follows the
/// grammar's escapes (`''` in `'...'`, a backslash and the next character in `"..."`),
/// unlike [`token_end`], so that `'it''s` is seen to be open.
pub(crate) fn unterminated_quote(text: &str, pos: usize) -> Option<char> {
    let rest = text.get(pos..)?;
    let quote = rest
        .chars()
        .next()
        .filter(|c| matches!(c, '\'' | '"' | '`'))?;
    let mut chars = rest[1..].chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\r' => return Some(quote),
            '\\' if quote == '"' => match chars.next() {
                None | Some('\n' | '\r') => return Some(quote),
                Some(_) => {}
            },
            '\'' if quote == '\'' && chars.peek() == Some(&'\'') => {
                chars.next();
            }
            c if c == quote => return None,
            _ => {}
        }
    }
    Some(quote)
}

/// The innermost `{`, `(` or `[` opened between `from` and `to` and not closed before
/// `to`, with its offset. A closer that does not match the innermost opener is
/// skipped: it is some other error, and the opener is still open.
pub(crate) fn innermost_unclosed(text: &str, from: usize, to: usize) -> Option<(usize, char)> {
    let mut open: Vec<(usize, char)> = Vec::new();
    for_each_token(text, from, |start, end, _| {
        if start >= to {
            return false;
        }
        match &text[start..end] {
            "{" => open.push((start, '{')),
            "(" => open.push((start, '(')),
            "[" => open.push((start, '[')),
            closer @ ("}" | ")" | "]") => {
                let opener = match closer {
                    "}" => '{',
                    ")" => '(',
                    _ => '[',
                };
                if open.last().is_some_and(|(_, c)| *c == opener) {
                    open.pop();
                }
            }
            _ => {}
        }
        true
    });
    open.pop()
}
