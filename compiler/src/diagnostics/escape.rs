//! Characters a terminal would act on instead of showing (escape sequences, carriage
//! returns, text direction overrides), made visible: a `.feat` file or a file name must
//! not be able to drive the terminal of the person reading its diagnostics.

use std::borrow::Cow;

/// Whether printing `c` raw could change what the terminal shows around it: control
/// characters (C0 but tab and newline, DEL, C1: ESC and CSI start escape sequences, CR
/// and backspace move the cursor) and the bidirectional formatting characters, which
/// reorder the text around them ("Trojan Source").
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\t' && c != '\n')
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `\u{1b}`: how a message shows an unsafe character (unambiguous, and what Rust
/// source would write).
fn escaped(c: char) -> String {
    format!("\\u{{{:x}}}", c as u32)
}

/// A message, label or file name with its unsafe characters written as `\u{1b}`.
pub(crate) fn message(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            out.push_str(&escaped(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Appends `c` as a source line shows it: C0 controls and DEL as their one-column
/// Unicode control pictures (`␛`, like rustc), keeping the line's shape; the other
/// unsafe characters as `\u{..}`; everything else as is.
pub(crate) fn push_shown(c: char, out: &mut String) {
    match c {
        '\u{0}'..='\u{1f}' if c != '\t' => out.extend(char::from_u32(0x2400 + c as u32)),
        '\u{7f}' => out.push('\u{2421}'),
        c if is_unsafe(c) => out.push_str(&escaped(c)),
        c => out.push(c),
    }
}

/// How many columns `c` takes once shown (a tab counted as 4, codespan's default tab
/// width; wide characters as 1, which is close enough to size a cut).
pub(crate) fn shown_width(c: char) -> usize {
    match c {
        '\t' => 4,
        '\u{0}'..='\u{1f}' | '\u{7f}' => 1,
        c if is_unsafe(c) => escaped(c).len(),
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_escape_controls_and_keep_the_rest() {
        assert_eq!(
            message("unexpected `\u{1b}[31m`"),
            "unexpected `\\u{1b}[31m`"
        );
        assert_eq!(message("a\u{9b}b\u{202e}c"), "a\\u{9b}b\\u{202e}c");
        assert_eq!(message("tab\tand\nnewline é"), "tab\tand\nnewline é");
        assert!(matches!(message("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn source_lines_show_control_pictures() {
        let mut out = String::new();
        for c in "a\u{0}\u{1b}\u{7f}\r\t\u{85}\u{2066}".chars() {
            push_shown(c, &mut out);
        }
        assert_eq!(out, "a\u{2400}\u{241b}\u{2421}\u{240d}\t\\u{85}\\u{2066}");
        let widths: Vec<usize> = "a\u{1b}\t\u{85}".chars().map(shown_width).collect();
        assert_eq!(widths, [1, 1, 4, 6]);
    }
}
