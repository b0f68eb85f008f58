//! Doc comments: the consecutive `///` lines directly above a declaration's keyword.
//!
//! The grammar treats `///` as an ordinary comment; docs are recovered from the text so
//! that a `///` anywhere else stays harmless.

/// The doc lines directly above the keyword at `start` (which must begin its line), text
/// after `///` with one leading space removed. `////` lines are plain comments.
pub(crate) fn docs_before(text: &str, start: usize) -> Vec<String> {
    let Some(before) = text.get(..start) else {
        return Vec::new();
    };
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    if !before[line_start..].trim().is_empty() {
        return Vec::new();
    }
    let mut docs = Vec::new();
    let mut end = line_start;
    while end > 0 {
        let newline = end - 1;
        let prev_start = text[..newline].rfind('\n').map_or(0, |i| i + 1);
        let line = text[prev_start..newline]
            .trim_start()
            .trim_end_matches('\r');
        match line.strip_prefix("///") {
            Some(rest) if !rest.starts_with('/') => {
                // Trailing whitespace is not part of the doc (the formatter drops it).
                let rest = rest.trim_end();
                docs.push(rest.strip_prefix(' ').unwrap_or(rest).to_string());
                end = prev_start;
            }
            _ => break,
        }
    }
    docs.reverse();
    docs
}
