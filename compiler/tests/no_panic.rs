//! `compile` never panics: mutated valid projects give a value or diagnostics, and
//! the diagnostics render, with no control character reaching the output raw; nor
//! does decoding arbitrary bytes.

use featc::SourceFile;
use proptest::prelude::*;

const SEEDS: &[&str] = &[
    include_str!("../../tests/cases/marketplace/features.feat"),
    "source events {
    time ts
    columns { user_id: int64  amount: float64?  items: int64?  category: string?  is_mobile: bool? }
    lateness 1m
}
entity user { key user_id: int64 }
entity pair { key (user_id: int64, category: string) }
view v from events by user {
    where amount >= 0 or amount is null
    let unit = amount / items
    let bucket = case when amount < 10 then 'small' else 'large' end
    let desktop = if(is_mobile is null, false, not is_mobile)
    feature a = avg(unit) over 7d
    feature b = count_if(bucket = 'large' and desktop) over 1d
    feature c = count(*) where category not in ('x', 'y') or -items < 0 over 1h
    feature d = last(coalesce(category, null))
    ttl 30d
}
view p from events by pair (user_id, category) { feature e = sum(items) over 1w }
service s { v.a  b  e }
",
];

/// Fragments a mutation inserts: tokens of the language, and values near limits.
const FRAGMENTS: &[&str] = &[
    "(",
    ")",
    "{",
    "}",
    ",",
    ".",
    "*",
    "?",
    ":",
    "=",
    "-",
    "/",
    "%",
    "'",
    "\"",
    "`",
    "null",
    "not",
    "and",
    "or",
    "in",
    "is",
    "where",
    "over",
    "let",
    "feature",
    "view",
    "source",
    "entity",
    "service",
    "key",
    "time",
    "ttl",
    "case",
    "when",
    "then",
    "else",
    "end",
    "if",
    "coalesce",
    "count",
    "sum",
    "0s",
    "1mo",
    "7x",
    "99999999999999999999",
    "1e999",
    "-9223372036854775808",
    "amount",
    "ts",
    "user",
    "events",
    "string",
    "int64?",
    "\n",
    " ",
    "///",
    "//",
    "/*",
];

#[derive(Debug, Clone)]
enum Mutation {
    Delete {
        at: usize,
        len: usize,
    },
    Insert {
        at: usize,
        fragment: usize,
    },
    Replace {
        at: usize,
        len: usize,
        fragment: usize,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1usize..12).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), 0..FRAGMENTS.len())
            .prop_map(|(at, fragment)| Mutation::Insert { at, fragment }),
        (any::<usize>(), 1usize..8, 0..FRAGMENTS.len())
            .prop_map(|(at, len, fragment)| Mutation::Replace { at, len, fragment }),
    ]
}

fn boundary(text: &str, mut i: usize) -> usize {
    i %= text.len() + 1;
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: &str, m: &Mutation) -> String {
    let (at, len, insert) = match *m {
        Mutation::Delete { at, len } => (at, len, ""),
        Mutation::Insert { at, fragment } => (at, 0, FRAGMENTS[fragment]),
        Mutation::Replace { at, len, fragment } => (at, len, FRAGMENTS[fragment]),
    };
    let start = boundary(text, at);
    let end = boundary(text, start.saturating_add(len).min(text.len()));
    format!("{}{insert}{}", &text[..start], &text[end..])
}

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
    fn mutated_projects_never_panic(seed in 0..SEEDS.len(), mutations in prop::collection::vec(mutation(), 1..4)) {
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
