//! Syntax errors: where they point, what was expected, what was found, and recovery at
//! the next item so that one run reports every broken item.

use featc_grammar::ast::{ParseError, ParseErrorKind, Span};
use featc_grammar::parse;

/// `line:col-line:col expected [..] found ..` for each error (or what is unterminated
/// or unclosed), columns from 1.
fn render(text: &str, errs: &[ParseError]) -> String {
    let pos = |offset: u32| {
        let before = &text[..offset as usize];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!("{line}:{col}")
    };
    let range = |span: Span| format!("{}-{}", pos(span.start), pos(span.end));
    let found = |found: &Option<String>| {
        found
            .as_deref()
            .map_or("end of input".to_string(), |f| format!("{f:?}"))
    };
    errs.iter()
        .map(|e| match &e.kind {
            ParseErrorKind::Unexpected { expected, found: f } => format!(
                "{} expected [{}] found {}",
                range(e.span),
                expected.join(", "),
                found(f)
            ),
            ParseErrorKind::Unterminated { quote } => {
                format!("{} unterminated {quote}", range(e.span))
            }
            ParseErrorKind::Unclosed {
                delimiter,
                end,
                found: f,
            } => format!(
                "{} unclosed {delimiter} until {} found {}",
                range(e.span),
                range(*end),
                found(f)
            ),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn errors_of(text: &str) -> String {
    match parse(0, text) {
        Ok(file) => panic!("{text:?} parsed: {file:?}"),
        Err(errs) => render(text, &errs),
    }
}

#[test]
fn single_errors() {
    let cases = [
        "source s { time ts columns { a int64 } }",
        "source s { time }",
        "source s { time ts file 'x }",
        "source s { columns { a: int64 ? } }",
        "source s { tags [\"a\" \"b\"] }",
        "source view { }",
        "source s { owner team }",
        "entity e { key }",
        "entity e { key (a: int64 b: int64) }",
        "view v from s by e { feature f = count(*) where over 1d }",
        "view v from s by e { feature f = count(*) over 7 }",
        "view v from s by e { feature f = count(*) over 1d ",
        "view v from s by e { feature f = count(*) + 1 }",
        "view v from s by e { feature 1x = count(*) }",
        "view v from s by e { feature f count(*) }",
        "view v from s { }",
        "view v from s by e { where a + }",
        "view v from s by e { let x = (a + b }",
        "view v from s by e { where a b }",
        "view v from s by e { where case when a then b }",
        "view v from s by e { where x in 1 }",
        "view v from s by e { where x is 3 }",
        "view v from s by e { where 'abc }",
        "view v from s by e { where \"a\\qb\" }",
        "service s { a. }",
        "service s { a.b.c }",
        "garbage here",
        "}",
        "source s { time ts } /* open",
        "source é { }",
    ];
    let report: Vec<String> = cases
        .iter()
        .map(|c| format!("{c}\n    {}", errors_of(c)))
        .collect();
    insta::assert_snapshot!(report.join("\n"));
}

#[test]
fn recovery_reports_every_broken_item() {
    let text = "\
source ok { time ts }
source broken1 {
    time
}
/// Docs of a broken item do not stop recovery.
entity e { key user_id int64 }
view fine from ok by e { feature f = count(*) }
view broken2 from ok by e {
    feature g = count(*) over
service svc { f }
service broken3 { f, , }
";
    insta::assert_snapshot!(errors_of(text), @r#"
    4:1-4:2 expected [identifier] found "}"
    6:24-6:29 expected [`:`] found "int64"
    10:1-10:8 expected [duration such as `7d`, number of events such as `10 events`] found "service"
    11:22-11:23 expected [`feature`, `owner`, `tags`, `}`, identifier] found ","
    "#);
}

#[test]
fn too_deep_nesting_is_an_error() {
    let deep = format!(
        "view v from s by e {{ where {}a{} }}",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    let errs = parse(0, &deep).unwrap_err();
    assert_eq!(errs.len(), 1);
    assert_eq!(
        errs[0].kind,
        ParseErrorKind::Unexpected {
            expected: vec!["at most 100 levels of nesting".to_string()],
            found: Some("(".to_string()),
        }
    );

    let nots = format!("view v from s by e {{ where {}a }}", "not ".repeat(5000));
    assert!(parse(0, &nots).is_err());
    let chain = format!("view v from s by e {{ where {}a }}", "a - ".repeat(5000));
    assert!(parse(0, &chain).is_err());
    let case = format!(
        "view v from s by e {{ where {}a {} }}",
        "case when a then ".repeat(500),
        "end ".repeat(500)
    );
    assert!(parse(0, &case).is_err());

    // Moderate nesting is fine.
    let ok = format!(
        "view v from s by e {{ where {}a{} }}",
        "(".repeat(50),
        ")".repeat(50)
    );
    assert!(parse(0, &ok).is_ok());
}

#[test]
fn unterminated_strings_and_names_point_at_their_opening_quote() {
    let cases = [
        "source s { file \"x.csv\n}",
        "source s { file \"x.csv",
        "source s { owner 'it''s\n}",
        "source s { owner \"a\\\"\n}",
        "source s { time ts columns { `odd name: int64 }\n}",
        // An item keyword on the next line: recovery resumes there.
        "source s { file 'x.csv\nentity e { key k: int64 }\n",
    ];
    let report: Vec<String> = cases
        .iter()
        .map(|c| format!("{c:?}\n    {}", errors_of(c)))
        .collect();
    insta::assert_snapshot!(report.join("\n"), @r#"
    "source s { file \"x.csv\n}"
        1:17-1:18 unterminated "
    "source s { file \"x.csv"
        1:17-1:18 unterminated "
    "source s { owner 'it''s\n}"
        1:18-1:19 unterminated '
    "source s { owner \"a\\\"\n}"
        1:18-1:19 unterminated "
    "source s { time ts columns { `odd name: int64 }\n}"
        1:30-1:31 unterminated `
    "source s { file 'x.csv\nentity e { key k: int64 }\n"
        1:17-1:18 unterminated '
    "#);
}

#[test]
fn unclosed_delimiters_point_at_the_opener() {
    let cases = [
        // The next item's keyword where `}` would have closed the block.
        "source ev {\n    time ts\n    columns { user_id: int64 }\n\nentity user { key user_id: int64 }\n",
        // The end of the file; the innermost opener is the one reported.
        "source s { time ts columns { a: int64 ",
        "view v from s by e { feature f = count(*) over 1d ",
        "entity e { key (a: int64, b: string",
        "view v from s by e { feature f = sum(a\nview w from s by e { feature g = count(*) }",
        "source s { tags [\"a\", \"b\"",
        // Braces inside strings and comments do not count.
        "source s { owner \"{\" /* { */ time ts",
        // Not at the item's end: ordinary syntax errors.
        "view v from s by e { let x = (a + b }",
        "entity e { key (a: int64, b: string\n}",
        // At the item's end, but the closer is not what is missing.
        "view v from s by e {\n    feature g = count(*) over\nservice svc { f }\n",
    ];
    let report: Vec<String> = cases
        .iter()
        .map(|c| format!("{c:?}\n    {}", errors_of(c)))
        .collect();
    insta::assert_snapshot!(report.join("\n"), @r#"
    "source ev {\n    time ts\n    columns { user_id: int64 }\n\nentity user { key user_id: int64 }\n"
        1:11-1:12 unclosed { until 5:1-5:7 found "entity"
    "source s { time ts columns { a: int64 "
        1:28-1:29 unclosed { until 1:39-1:39 found end of input
    "view v from s by e { feature f = count(*) over 1d "
        1:20-1:21 unclosed { until 1:51-1:51 found end of input
    "entity e { key (a: int64, b: string"
        1:16-1:17 unclosed ( until 1:36-1:36 found end of input
    "view v from s by e { feature f = sum(a\nview w from s by e { feature g = count(*) }"
        1:37-1:38 unclosed ( until 2:1-2:5 found "view"
    "source s { tags [\"a\", \"b\""
        1:17-1:18 unclosed [ until 1:26-1:26 found end of input
    "source s { owner \"{\" /* { */ time ts"
        1:10-1:11 unclosed { until 1:37-1:37 found end of input
    "view v from s by e { let x = (a + b }"
        1:37-1:38 expected [`)`, `[`, operator] found "}"
    "entity e { key (a: int64, b: string\n}"
        2:1-2:2 expected [`)`, `,`] found "}"
    "view v from s by e {\n    feature g = count(*) over\nservice svc { f }\n"
        3:1-3:8 expected [duration such as `7d`, number of events such as `10 events`] found "service"
    "#);
}
