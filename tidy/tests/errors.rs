//! House rule on errors: library code returns errors as data. No public function of
//! a library crate returns `Result<_, String>`, except the ones listed here, which
//! predate the rule: the list may only shrink.

use featc_tidy::repo::{read, rust_files};

/// The library crates' sources (the CLI and Python turn errors into text at their edge).
const LIBRARIES: &[&str] = &[
    "grammar/src/",
    "runtime/src/",
    "compiler/src/",
    "server/src/",
    "ballista/src/",
];

/// `file: fn name` of the public functions that still return a `String` error:
/// `featc verify` (its runs, comparisons and generated cases carry messages end to
/// end, awaiting a `VerifyError`) and one import helper whose message becomes an
/// `ImportError`.
const KNOWN: &[&str] = &[
    "compiler/src/import/predicate.rs: fn translate",
    "compiler/src/verify/compare.rs: fn same_shape",
    "compiler/src/verify/compare.rs: fn disagreements",
    "compiler/src/verify/executor/sql.rs: fn run_script",
    "compiler/src/verify/executor/sql.rs: fn run_statements",
    "compiler/src/verify/generate.rs: fn generated_case",
    "compiler/src/verify/mod.rs: fn run",
    "compiler/src/verify/probe.rs: fn probe_spine",
    "compiler/src/verify/sample.rs: fn user_dataset",
];

/// Each public function's signature in `text` (from `pub fn` or `pub async fn` to
/// its body or `;`),
/// with its name.
fn signatures(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("pub ") {
        let after = rest[i + "pub ".len()..].trim_start_matches("async ");
        let Some(after) = after.strip_prefix("fn ") else {
            rest = after;
            continue;
        };
        let end = after.find(['{', ';']).unwrap_or(after.len());
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let signature: String = after[..end]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        out.push((name, signature));
        rest = &after[end..];
    }
    out
}

/// Whether a signature's return type is a `Result` whose error is `String`.
fn returns_string_error(signature: &str) -> bool {
    let Some((_, returns)) = signature.rsplit_once("->") else {
        return false;
    };
    let returns = returns.split(" where ").next().unwrap_or(returns).trim();
    returns.starts_with("Result<")
        && returns
            .trim_end_matches('>')
            .trim_end()
            .ends_with(", String")
}

fn string_errors() -> Vec<String> {
    let mut found = Vec::new();
    for f in rust_files() {
        if !LIBRARIES.iter().any(|l| f.starts_with(l)) {
            continue;
        }
        for (name, signature) in signatures(&read(&f)) {
            if returns_string_error(&signature) {
                found.push(format!("{f}: fn {name}"));
            }
        }
    }
    found
}

#[test]
fn public_library_functions_return_errors_as_data() {
    let found = string_errors();
    let new: Vec<&String> = found
        .iter()
        .filter(|f| !KNOWN.contains(&f.as_str()))
        .collect();
    assert!(
        new.is_empty(),
        "these public library functions return `Result<_, String>`: give them an error \
         enum (errors are data, rendered in one place): {new:#?}"
    );
    let gone: Vec<&&str> = KNOWN
        .iter()
        .filter(|k| !found.iter().any(|f| f == *k))
        .collect();
    assert!(
        gone.is_empty(),
        "no longer returning a String error: drop from KNOWN: {gone:#?}"
    );
}

#[test]
fn a_string_error_is_recognised() {
    let text = "pub fn run(\n    a: &str,\n) -> Result<Vec<u8>, String> {\n}\n\
                pub fn ok() -> Result<(), Error> {}\npub async fn go() -> Result<(), String> {}";
    let found: Vec<bool> = signatures(text)
        .iter()
        .map(|(_, s)| returns_string_error(s))
        .collect();
    assert_eq!(found, [true, false, true]);
}
