//! Syntax errors: where they point, what was expected, what was found, and recovery at
//! the next item so that one run reports every broken item.

use featc_grammar::ast::{ParseError, ParseErrorKind, Span};
use featc_grammar::parse;

/// `line:col-line:col expected [..] found ..` for each error (or what is
/// unterminated), columns from 1.
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
    10:1-10:8 expected [duration such as `7d`] found "service"
    11:22-11:23 expected [`owner`, `tags`, `}`, identifier] found ","
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
