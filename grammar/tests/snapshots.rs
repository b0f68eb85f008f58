//! Snapshots of the printed syntax tree of the shipped `.feat` files.

use featc_grammar::{parse, print_file};

fn printed(text: &str) -> String {
    match parse(0, text) {
        Ok(file) => print_file(&file, text),
        Err(errs) => panic!("does not parse: {errs:#?}"),
    }
}

#[test]
fn synthetic_ast() {
    insta::assert_snapshot!(printed(include_str!(
        "../../tests/cases/synthetic/features.feat"
    )));
}

#[test]
fn marketplace_ast() {
    insta::assert_snapshot!(printed(include_str!(
        "../../tests/cases/marketplace/features.feat"
    )));
}

#[test]
fn fraud_example_ast() {
    let sources = printed(include_str!("../../examples/fraud/sources.feat"));
    let features = printed(include_str!("../../examples/fraud/features.feat"));
    insta::assert_snapshot!(format!("{sources}---\n{features}"));
}
