//! Reproducers found by the fuzz test that are too long to keep as corpus files
//! (hundreds of lets or levels), generated instead; `corpus_passes_every_stage`
//! runs them like the files of `fuzz_corpus/`.

const HEAD: &str =
    "source e { time ts columns { k: int64  v: float64? } }\nentity u { key k: int64 }\n";

/// `let a1 = step(a0)` … up to `a{n-1}`, then `feature f = sum(a{n-1})`.
fn let_chain(n: usize, step: impl Fn(&str) -> String) -> String {
    let mut body = String::from("    let a0 = v\n");
    for i in 1..n {
        body.push_str(&format!(
            "    let a{i} = {}\n",
            step(&format!("a{}", i - 1))
        ));
    }
    format!(
        "{HEAD}view t from e by u {{\n{body}    feature f = sum(a{})\n}}\n",
        n - 1
    )
}

/// `if(true, … x …, v)` nested `depth` times.
fn nested_if(x: &str, depth: usize) -> String {
    format!("{}{x}{}", "if(true, ".repeat(depth), ", v)".repeat(depth))
}

/// `(name, .feat text)` of every generated reproducer; each comment says what failed
/// and what fixed it.
///
/// The first one is refused by check, as it should be; rendering its diagnostics is
/// what failed.
pub fn generated() -> Vec<(&'static str, String)> {
    vec![
        // 8000 string operands of one `or` on one 40 KB line: 7808 diagnostics, each
        // excerpt escaping and cutting the whole line (`diagnostics::excerpt`), take
        // more than 10 s to render (quadratic: 4000 operands take 3.7 s). Fixed:
        // `render` shows the first 100 and counts the others.
        (
            "or_chain_8000_type_errors",
            format!(
                "source e {{ time ts columns {{ k: int64  s: string? }} }}\nentity u {{ key k: int64 }}\nview t from e by u {{ feature f = count(*) where ({}) }}\n",
                vec!["s"; 8000].join(" or ")
            ),
        ),
        // The feature plan inlines lets recursively (`lower::groups::inline_lets`);
        // 255 of them, within check's bound of 256, overflow a 2 MiB stack in a
        // debug build. Fixed: featc's expression walks are `#[recursive]`.
        (
            "if_lets_255",
            let_chain(255, |p| format!("if(true, {p}, v)")),
        ),
        // 255 nested divisions overflow a 2 MiB stack when `explain_batch` builds
        // the group projection (DataFusion's recursive `to_field`/`schema_name`).
        // Fixed: the group projection reads columns only, and DataFusion plans and
        // evaluates expressions under `expr::stack::with_stack_for`.
        ("division_lets_255", let_chain(255, |p| format!("{p} / 2.0"))),
        // 255 nested `if`s (three lets, each within the parser's 100): the training
        // set takes more than 10 s in a debug build, planning one CASE per level
        // (DataFusion's `CaseExpr::try_new` walks the subtree at every level). Passes
        // since the batch plan stopped projecting expressions (the slot evaluator
        // plans each one once).
        (
            "if_nesting_255",
            format!(
                "{HEAD}view t from e by u {{\n    let a = {}\n    let b = {}\n    feature f = sum({})\n}}\n",
                nested_if("v", 99),
                nested_if("a", 99),
                nested_if("b", 57)
            ),
        ),
    ]
}
