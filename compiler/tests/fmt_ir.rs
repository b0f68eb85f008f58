//! `featc fmt` on generated projects: formatting changes no compiled meaning (the IR is
//! equal, spans aside) and is idempotent. Each project is also scrambled first (its
//! layout undone: one line, odd spacing) so that the formatter has work to do.

use featc::ir;
use featc_test_support::gen::case_strategy;
use featc_test_support::project::compile_text;
use proptest::prelude::*;

fn compile(text: &str) -> ir::Project {
    compile_text("features.feat", text)
}

/// The IR as JSON with every span (any key naming one) removed.
fn without_spans(p: &ir::Project) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                map.retain(|k, _| !k.contains("span"));
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(p).expect("the IR serializes");
    strip(&mut v);
    v
}

/// The same tokens with their layout undone: lines joined (but comments, which end
/// their line, and own-line comments, which start one) and indentation dropped.
fn scramble(text: &str) -> String {
    text.lines()
        .map(|l| {
            let l = l.trim();
            let before = if l.starts_with("//") { "\n" } else { "" };
            let after = if l.contains("//") { "\n" } else { " " };
            format!("{before}{l}{after}")
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn fmt_preserves_the_ir_and_is_idempotent(case in case_strategy()) {
        let before = compile(&case.feat);
        for text in [case.feat.clone(), scramble(&case.feat)] {
            let once = featc_grammar::format(&text).expect("formats");
            let twice = featc_grammar::format(&once).expect("formats again");
            prop_assert_eq!(&once, &twice);
            let after = compile(&once);
            prop_assert_eq!(without_spans(&before), without_spans(&after));
        }
    }
}
