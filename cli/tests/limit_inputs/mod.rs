//! Fixed inputs for the CLI (`cli_limits`), one per class of limit the fuzz test
//! (compiler/tests/fuzz_stages.rs) mutates towards, made with its mutations: the fraud
//! example's features with one edit each, and whether it still checks.

use crate::mutate::limits::{self, Literal, Name, Step, Wrap};
use crate::mutate::seeds::FRAUD_FEATURES;
use crate::mutate::{apply, Mutation};

pub struct CliInput {
    pub class: &'static str,
    /// The new `features.feat` (next to the example's `sources.feat`).
    pub features: String,
    /// `featc check` exits 0 (else 1: diagnostics).
    pub valid: bool,
}

/// `FRAUD_FEATURES` with the first `from` replaced by `to`.
fn edit(from: &str, to: &str) -> String {
    assert!(
        FRAUD_FEATURES.contains(from),
        "the fraud example has `{from}`"
    );
    FRAUD_FEATURES.replacen(from, to, 1)
}

/// `mutation` applied to `text` where `anchor` starts.
fn at(text: &str, anchor: &str, mutation: impl Fn(usize) -> Mutation) -> String {
    let i = text.find(anchor).expect("the anchor is in the text");
    apply(text, &mutation(i))
}

/// `if(true, … x …, amount)` nested `depth` times.
fn nested_if(x: &str, depth: usize) -> String {
    format!(
        "{}{x}{}",
        "if(true, ".repeat(depth),
        ", amount)".repeat(depth)
    )
}

pub fn inputs() -> Vec<CliInput> {
    let float_list = format!(
        "let food = category in ('grocery', 'dining')\n    feature amount_in = count(*) where amount in ({}) over 7d",
        limits::in_list(Literal::Float, 3000)
    );
    vec![
        CliInput {
            class: "a 3000-literal float in list",
            features: edit("let food = category in ('grocery', 'dining')", &float_list),
            valid: true,
        },
        CliInput {
            class: "a 3000-literal string in list",
            features: at(FRAUD_FEATURES, "category in", |i| Mutation::InList { at: i, len: 3000 }),
            valid: true,
        },
        CliInput {
            class: "99 nested parentheses",
            features: edit("sum(amount)", &format!("sum({})", limits::wrap("amount", Wrap::Parens, 99))),
            valid: true,
        },
        CliInput {
            class: "a chain of 100 additions",
            features: edit("sum(amount)", &format!("sum({})", limits::wrap("amount", Wrap::Add, 100))),
            valid: true,
        },
        CliInput {
            class: "a chain of 250 lets",
            features: at(FRAUD_FEATURES, "let big", |i| Mutation::LetChain {
                at: i,
                len: 250,
                step: Step::Coalesce,
            }),
            valid: true,
        },
        CliInput {
            class: "255 nested ifs over three lets",
            features: edit(
                "let food = category in ('grocery', 'dining')",
                &format!(
                    "let food = category in ('grocery', 'dining')\n    let deep1 = {}\n    let deep2 = {}\n    feature deep = sum({})",
                    nested_if("amount", 99),
                    nested_if("deep1", 99),
                    nested_if("deep2", 57)
                ),
            ),
            valid: true,
        },
        CliInput {
            class: "the largest float",
            features: edit("amount > 100", "amount > 1.7976931348623157e308"),
            valid: true,
        },
        CliInput {
            class: "a window past int64 microseconds",
            features: edit("over 1h", "over 9223372036854775807h"),
            valid: false,
        },
        CliInput {
            class: "control characters and non-ASCII in a string",
            features: edit("'grocery'", "'gro\u{1b}[31mcery\u{0}🙂\u{202e}é'"),
            valid: true,
        },
        CliInput {
            class: "a 5000-character name and an odd backticked one",
            features: at(
                &at(FRAUD_FEATURES, "amount_sum_1d", |i| Mutation::Rename {
                    at: i,
                    name: Name::Long(5000),
                }),
                "txn_count_1h",
                |i| Mutation::Rename { at: i, name: Name::Odd(3) },
            ),
            valid: true,
        },
        CliInput {
            class: "a duplicated where clause and feature",
            features: at(
                &at(FRAUD_FEATURES, "where amount", |i| Mutation::DuplicateLine { at: i }),
                "feature last_category",
                |i| Mutation::DuplicateLine { at: i },
            ),
            valid: true,
        },
    ]
}
