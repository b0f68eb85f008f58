//! `compile` never panics: mutated valid projects give a value or diagnostics, and
//! the diagnostics render, with no control character reaching the output raw; nor
//! does decoding arbitrary bytes.

use featc::SourceFile;
use proptest::prelude::*;

use crate::mutate;

use mutate::seeds::{EVENTS, MARKETPLACE};
use mutate::{apply, text_mutation};

const SEEDS: &[&str] = &[MARKETPLACE, EVENTS];

/// `PROPTEST_CASES` overrides the suite's default, for the long run documented in
/// ARCHITECTURE.md ("Testing").
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Compiles one file and checks the outcome is a value or rendered diagnostics.
fn compile_never_panics(text: String) -> Result<(), TestCaseError> {
    let files = vec![SourceFile {
        name: "m.feat".into(),
        text,
    }];
    match featc::compile(&files) {
        Ok(project) => {
            let _ = featc::print::ir::print_project(&project);
        }
        Err(diagnostics) => {
            prop_assert!(!diagnostics.is_empty());
            let rendered = diagnostics.render(&files, false);
            prop_assert!(rendered.contains("error["));
            // Tabs and newlines are layout, not commands to the terminal.
            let raw = rendered
                .chars()
                .find(|&c| c.is_control() && c != '\n' && c != '\t');
            prop_assert_eq!(raw, None, "{}", rendered);
        }
    }
    Ok(())
}

/// Decodes one file's bytes and compiles it: a value, or diagnostics that render.
fn decode_never_panics(bytes: Vec<u8>) -> Result<(), TestCaseError> {
    match featc::decode_files(vec![("m.feat".to_string(), bytes)]) {
        Ok(files) => compile_never_panics(files.into_iter().map(|f| f.text).collect())?,
        Err(undecodable) => {
            prop_assert_eq!(undecodable.diagnostics.codes(), vec!["E0029"]);
            let rendered = undecodable.diagnostics.render(&undecodable.files, false);
            prop_assert!(rendered.contains("error[E0029]"), "{}", rendered);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(3000), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_projects_never_panic(seed in 0..SEEDS.len(), mutations in prop::collection::vec(text_mutation(), 1..4)) {
        compile_never_panics(mutations.iter().fold(SEEDS[seed].to_string(), |t, m| apply(&t, m)))?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        compile_never_panics(String::from_utf8_lossy(&bytes).into_owned())?;
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(seed in 0..SEEDS.len(), at in any::<usize>(), bytes in prop::collection::vec(any::<u8>(), 0..8)) {
        // Bytes spliced into a valid project: mostly not UTF-8, sometimes still so.
        let mut file = SEEDS[seed].as_bytes().to_vec();
        let at = at % (file.len() + 1);
        file.splice(at..at, bytes);
        decode_never_panics(file)?;
    }
}

#[test]
fn seeds_compile() {
    for seed in SEEDS {
        let files = vec![SourceFile {
            name: "seed.feat".into(),
            text: seed.to_string(),
        }];
        if let Err(d) = featc::compile(&files) {
            panic!("{}", d.render(&files, false));
        }
    }
}

#[test]
fn deepest_expressions_the_parser_accepts_check_on_a_test_thread_stack() {
    let depth = 90;
    let nested = format!("{}k{}", "(".repeat(depth), " + 1)".repeat(depth));
    let chain = vec!["k"; depth].join(" + ");
    let negs = format!("{}k", "-".repeat(depth));
    for expr in [nested, chain, negs] {
        let text = format!(
            "source e {{ time ts columns {{ k: int64 }} }}\nentity u {{ key k: int64 }}\nview v from e by u {{ feature f = sum({expr}) }}\n"
        );
        let files = vec![SourceFile {
            name: "deep.feat".into(),
            text,
        }];
        let p = featc::compile(&files).unwrap_or_else(|d| panic!("{:?}", d.codes()));
        assert!(featc::print::ir::print_project(&p).contains("feature f: int64"));
    }
}
