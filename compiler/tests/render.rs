//! Rendering is safe and readable whatever the source holds: control characters never
//! reach the terminal raw (source lines show symbols, messages `\u{..}` escapes), long
//! lines are cut around their labels, and carets stay under what they mark.

use featc::ast::Span;
use featc::{Diagnostic, Diagnostics, Label, SourceFile};
use proptest::prelude::*;

fn file(text: &str) -> Vec<SourceFile> {
    vec![SourceFile {
        name: "r.feat".into(),
        text: text.to_string(),
    }]
}

fn rendered(text: &str) -> String {
    let files = file(text);
    match featc::compile(&files) {
        Ok(_) => panic!("{text:?} compiles"),
        Err(diags) => diags.render(&files, false),
    }
}

/// Whether the text holds a character a terminal would act on (tabs and newlines are
/// layout).
fn has_raw_control(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
}

#[test]
fn an_escape_sequence_in_the_source_is_shown_not_sent() {
    let out = rendered("source s {\n    time ts\n    \u{1b}[2J\n}\n");
    assert!(!has_raw_control(&out), "{out:?}");
    insta::assert_snapshot!(out, @r"
    error[E0001]: syntax error: unexpected `\u{1b}`
      ┌─ r.feat:3:5
      │
    3 │     ␛[2J
      │     ^ expected `columns`, `delay`, `epoch`, `file`, `freshness`, `lateness`, `owner`, `partition`, `tags`, `time`, `topic` or `}`
    ");
}

#[test]
fn controls_inside_names_are_escaped_in_messages_and_labels() {
    let text = "source events {\n    time ts\n    columns { user_id: int64 }\n}\nentity user { key user_id: int64 }\nview v from events by user {\n    feature f = sum(`a\u{7}b\u{0}c\u{8}d`) over 1d\n}\n";
    let out = rendered(text);
    assert!(!has_raw_control(&out), "{out:?}");
    insta::assert_snapshot!(out, @r"
    error[E0004]: unknown column `a\u{7}b\u{0}c\u{8}d`
      ┌─ r.feat:7:21
      │
    7 │     feature f = sum(`a␇b␀c␈d`) over 1d
      │                     ^^^^^^^^^ not a column of `events` nor an earlier `let`
    ");
}

#[test]
fn file_names_and_notes_are_escaped_too() {
    let files = vec![SourceFile {
        name: "evil\u{1b}]0;title\u{7}.feat".into(),
        text: "x\n".into(),
    }];
    let diags = Diagnostics::from(vec![Diagnostic::new("E0001", "m\u{9b}31m")
        .with_label(Label::primary(Span::new(0, 0, 1), "l\u{1b}"))
        .with_help("h\u{202e}")]);
    let out = diags.render(&files, false);
    assert!(
        !has_raw_control(&out) && !out.contains('\u{202e}'),
        "{out:?}"
    );
    assert!(out.contains("evil\\u{1b}]0;title\\u{7}.feat:1:1"), "{out}");
    assert!(!has_raw_control(&diags.to_string()));
}

#[test]
fn a_long_line_is_cut_around_the_label_with_carets_aligned() {
    // A 6 000-character line; the error is in its middle.
    let text = format!(
        "source events {{\n    time ts\n    columns {{ user_id: int64 }}\n}}\nentity user {{ key user_id: int64 }}\nview v from events by user {{\n    feature f = count(*) where '{}' = '' and user_idd > 0 and '{}' = '' over 1d\n}}\n",
        "x".repeat(3000),
        "y".repeat(3000)
    );
    let out = rendered(&text);
    assert!(out.lines().all(|l| l.chars().count() < 140), "{out}");
    insta::assert_snapshot!(out, @r"
    error[E0004]: unknown column `user_idd`
      ┌─ r.feat:7:3044
      │
    7 │ …xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' = '' and user_idd > 0 and 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy…
      │                                                         ^^^^^^^^ not a column of `events` nor an earlier `let`
      │
      = help: did you mean `user_id`?
    ");
}

#[test]
fn far_apart_labels_on_one_long_line_each_get_a_window() {
    // An unclosed `{` near the start of a long one-line file, and its end far away.
    let text = format!("source s {{ owner 'x' {}", "tags ['a'] ".repeat(1000));
    let out = rendered(&text);
    let source_line = out
        .lines()
        .find(|l| l.starts_with("1 │"))
        .unwrap_or_default();
    assert!(source_line.chars().count() < 130, "{out}");
    // A file snapshot: codespan pads the label lines with trailing spaces.
    insta::assert_snapshot!(out);
}

/// A caret line under a source line: where the carets start (in characters) and how
/// many there are, with where `needle` is in the source line.
fn caret_alignment(out: &str, needle: &str) -> Option<(usize, usize, usize)> {
    let lines: Vec<&str> = out.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.contains('│') && l.contains(needle))?;
    let source = lines[i];
    let carets = lines.get(i + 1)?;
    let byte = source.find(needle)?;
    let column = source[..byte].chars().count();
    let caret_start = carets.chars().position(|c| c == '^')?;
    let count = carets.chars().filter(|&c| c == '^').count();
    Some((column, caret_start, count))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever surrounds the label (short or long, with controls, tabs, multi-byte
    /// characters), the carets are under it, lines stay short and nothing raw leaks.
    #[test]
    fn carets_stay_under_the_label(
        before in "[a-z \u{1b}\u{0}\u{7f}\u{9b}é\t]{0,400}",
        after in "[a-z \u{1b}\u{7f}é]{0,400}",
    ) {
        let text = format!("{before}TARGET{after}\n");
        let start = before.len();
        let diags = Diagnostics::from(vec![Diagnostic::new("E0001", "m")
            .with_label(Label::primary(Span::new(0, start, start + 6), "here"))]);
        let out = diags.render(&file(&text), false);
        prop_assert!(!has_raw_control(&out), "{:?}", out);
        prop_assert!(out.lines().all(|l| l.chars().count() < 140), "{}", out);
        let column = before.chars().count() + 1;
        prop_assert!(out.contains(&format!("r.feat:1:{column}")), "{}", out);
        // Tabs widen to spaces in the shown line: compare positions only without them.
        if !before.contains('\t') {
            let (at, caret, count) = caret_alignment(&out, "TARGET").unwrap_or_default();
            prop_assert_eq!((at, count), (caret, 6), "{}", out);
        }
    }
}
