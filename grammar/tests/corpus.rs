//! Every `.feat` text the project ships parses: the acceptance cases, the fraud example
//! and each ```feat block of the language reference.

use featc_grammar::parse;

fn assert_parses(name: &str, text: &str) -> featc_grammar::ast::File {
    match parse(0, text) {
        Ok(file) => file,
        Err(errs) => panic!("{name} does not parse: {errs:#?}"),
    }
}

#[test]
fn acceptance_cases_parse() {
    let synthetic = assert_parses(
        "synthetic",
        include_str!("../../tests/cases/synthetic/features.feat"),
    );
    assert_eq!(synthetic.items.len(), 3);
    let marketplace = assert_parses(
        "marketplace",
        include_str!("../../tests/cases/marketplace/features.feat"),
    );
    assert_eq!(marketplace.items.len(), 8);
}

#[test]
fn fraud_example_parses() {
    let sources = assert_parses("sources", include_str!("../../examples/fraud/sources.feat"));
    assert_eq!(sources.items.len(), 4);
    let features = assert_parses(
        "features",
        include_str!("../../examples/fraud/features.feat"),
    );
    assert_eq!(features.items.len(), 4);
}

#[test]
fn language_reference_blocks_parse() {
    let doc = include_str!("../../docs/language.md");
    let mut blocks = 0;
    let mut rest = doc;
    while let Some(start) = rest.find("```feat\n") {
        let body = &rest[start + 8..];
        let end = body.find("```").expect("unterminated block in language.md");
        assert_parses(&format!("language.md block {blocks}"), &body[..end]);
        blocks += 1;
        rest = &body[end + 3..];
    }
    assert!(blocks >= 6, "found only {blocks} feat blocks");
}
