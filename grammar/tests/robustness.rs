//! `parse` never panics: arbitrary text, token soup and mutations of valid files. Every
//! error span lies inside the text on character boundaries, and printing never panics.

use featc_grammar::ast::ParseErrorKind;
use featc_grammar::{parse, print_file};
use proptest::prelude::*;

const VALID: [&str; 3] = [
    include_str!("../../tests/cases/synthetic/features.feat"),
    include_str!("../../tests/cases/marketplace/features.feat"),
    include_str!("../../examples/fraud/features.feat"),
];

const TOKENS: [&str; 48] = [
    "source",
    "entity",
    "view",
    "service",
    "feature",
    "let",
    "where",
    "over",
    "ttl",
    "time",
    "columns",
    "file",
    "key",
    "from",
    "by",
    "owner",
    "tags",
    "and",
    "or",
    "not",
    "is",
    "null",
    "in",
    "case",
    "when",
    "then",
    "else",
    "end",
    "x",
    "`k w`",
    "'s''q'",
    "\"d\\\"q\"",
    "42",
    "1.5e3",
    "7d",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "?",
    "=",
    "<>",
    "-",
    "\n/// doc\n",
];

fn check(text: &str) {
    match parse(3, text) {
        Ok(file) => {
            let printed = print_file(&file, text);
            assert!(printed.starts_with("File @1:1"));
            // What parses formats (to the same tree and comments: `format` checks),
            // and the result is a fixed point.
            let formatted =
                featc_grammar::format(text).unwrap_or_else(|e| panic!("{e:?} formatting:\n{text}"));
            assert_eq!(featc_grammar::format(&formatted).as_ref(), Ok(&formatted));
        }
        Err(errs) => {
            assert!(!errs.is_empty());
            for e in errs {
                let (start, end) = (e.span.start as usize, e.span.end as usize);
                assert!(
                    start <= end && end <= text.len(),
                    "{e:?} outside {}",
                    text.len()
                );
                assert!(
                    text.is_char_boundary(start) && text.is_char_boundary(end),
                    "{e:?}"
                );
                assert_eq!(e.span.file, 3);
                if let ParseErrorKind::Unclosed { end, .. } = e.kind {
                    let (start, stop) = (end.start as usize, end.end as usize);
                    assert!(start <= stop && stop <= text.len(), "{e:?}");
                    assert!(text.is_char_boundary(start) && text.is_char_boundary(stop));
                    assert!(e.span.end <= end.start, "{e:?}");
                }
            }
        }
    }
}

/// A valid file with one edit: a range deleted, duplicated, or replaced by `insert`.
fn mutate(base: &str, at: usize, len: usize, insert: &str, kind: u8) -> String {
    let boundary = |mut i: usize| {
        i = i.min(base.len());
        while !base.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = boundary(at);
    let end = boundary(start + len);
    match kind % 3 {
        0 => format!("{}{}", &base[..start], &base[end..]),
        1 => format!("{}{}{}", &base[..end], &base[start..end], &base[end..]),
        _ => format!("{}{insert}{}", &base[..start], &base[end..]),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text(text in "\\PC{0,200}") {
        check(&text);
    }

    #[test]
    fn token_soup(tokens in proptest::collection::vec(proptest::sample::select(TOKENS.to_vec()), 0..60)) {
        check(&tokens.join(" "));
    }

    #[test]
    fn mutated_valid_files(
        which in 0..VALID.len(),
        at in 0usize..4000,
        len in 0usize..40,
        insert in "[ -~\\n]{0,12}",
        kind in 0u8..3,
    ) {
        check(&mutate(VALID[which], at, len, &insert, kind));
    }
}

/// A valid file with comments put at whitespace: the formatter must place each.
fn commented(base: &str, at: &[(usize, u8)]) -> String {
    let spaces: Vec<usize> = base
        .char_indices()
        .filter(|(_, c)| c.is_whitespace())
        .map(|(i, _)| i)
        .collect();
    let mut out = base.to_string();
    let mut picks: Vec<(usize, u8)> = at
        .iter()
        .filter_map(|&(i, kind)| spaces.get(i % spaces.len().max(1)).map(|&p| (p, kind)))
        .collect();
    picks.sort();
    picks.dedup_by_key(|(p, _)| *p);
    for (p, kind) in picks.into_iter().rev() {
        let comment = match kind % 4 {
            0 => " // c\n",
            1 => " /* c */ ",
            2 => "\n/// d\n",
            _ => "\n\n\n// own line\n",
        };
        out.insert_str(p, comment);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn comments_anywhere(
        which in 0..VALID.len(),
        at in proptest::collection::vec((0usize..2000, 0u8..4), 1..8),
    ) {
        check(&commented(VALID[which], &at));
    }
}

#[test]
fn unbalanced_and_odd_inputs() {
    for text in [
        "'",
        "\"",
        "`",
        "/*",
        "*/",
        "///",
        "source s { file \"unterminated",
        "source s { file '' ",
        "\u{0}\u{FEFF}source",
        "source s {\r\n time ts\r\n}",
        "9999999999999999999999999999d",
        "view v from s by e { where 1e }",
        "view v from s by e { where 1.e5 + .5 }",
        "é",
        "source",
    ] {
        check(text);
    }
}
