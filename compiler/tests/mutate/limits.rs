//! Generated fragments near limits: long `in` lists, deep nesting and long chains
//! around a word, long and odd names, and chains of lets that inline deep or wide.

use super::fragments::ODD_TEXT;

/// The literal kind of an `in` list, taken from its first literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Literal {
    Int,
    Float,
    Str,
}

impl Literal {
    /// The kind of the literal text starts with.
    pub fn of(text: &str) -> Literal {
        let t = text.trim_start();
        if t.starts_with(['\'', '"']) {
            Literal::Str
        } else if t
            .split([',', ')'])
            .next()
            .is_some_and(|n| n.contains(['.', 'e', 'E']))
        {
            Literal::Float
        } else {
            Literal::Int
        }
    }
}

/// `n` distinct literals of `kind`, comma-separated, with edge values mixed in so
/// that a long list also holds the extremes.
pub fn in_list(kind: Literal, n: usize) -> String {
    let one = |i: usize| -> String {
        match kind {
            Literal::Int => match i % 97 {
                1 => "9223372036854775807".to_string(),
                2 => "-9223372036854775807".to_string(),
                _ => format!("{}", i as i64 * 7 - 3),
            },
            Literal::Float => match i % 89 {
                1 => "1.7976931348623157e308".to_string(),
                2 => "4.9e-324".to_string(),
                3 => "-0.0".to_string(),
                _ => format!("{}.{}", i, i % 10),
            },
            Literal::Str => match i % 83 {
                // Strings end at a line break: those are left out to keep the list valid.
                1 => format!(
                    "'{}'",
                    ODD_TEXT[(i / 83) % ODD_TEXT.len()]
                        .replace(['\r', '\n'], "")
                        .replace('\'', "''")
                ),
                2 => String::from("''"),
                _ => format!("'v{i}'"),
            },
        }
    };
    (0..n).map(one).collect::<Vec<_>>().join(", ")
}

/// How a word is wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrap {
    /// `((w))`: nesting the parser counts.
    Parens,
    /// `coalesce(coalesce(w))`: nesting of calls, valid at any type.
    Coalesce,
    /// `- - w`: a run of prefix operators.
    Neg,
    /// `not not w`
    Not,
    /// `(w + w + w)`: a long left-deep chain the parser does not count as nesting.
    Add,
    /// `(w or w or w)`
    Or,
    /// `coalesce(w, w, w)`: a wide call.
    Wide,
}

pub const WRAPS: &[Wrap] = &[
    Wrap::Parens,
    Wrap::Coalesce,
    Wrap::Neg,
    Wrap::Not,
    Wrap::Add,
    Wrap::Or,
    Wrap::Wide,
];

/// Depths and lengths around the parser's nesting bound (100) and the inlined
/// expression bound (256), and far beyond them.
pub const DEPTHS: &[usize] = &[1, 2, 30, 99, 100, 101, 255, 256, 257, 1000, 5000];

pub fn wrap(word: &str, how: Wrap, depth: usize) -> String {
    let chain = |sep: &str| format!("({word}{})", format!(" {sep} {word}").repeat(depth));
    match how {
        Wrap::Parens => format!("{}{word}{}", "(".repeat(depth), ")".repeat(depth)),
        Wrap::Coalesce => format!("{}{word}{}", "coalesce(".repeat(depth), ")".repeat(depth)),
        Wrap::Neg => format!("{}{word}", "- ".repeat(depth)),
        Wrap::Not => format!("{}{word}", "not ".repeat(depth)),
        Wrap::Add => chain("+"),
        Wrap::Or => chain("or"),
        Wrap::Wide => format!("coalesce({word}{})", format!(", {word}").repeat(depth)),
    }
}

/// A name a word is renamed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Name {
    /// A plain identifier of about this many characters.
    Long(usize),
    /// A backticked name holding `ODD_TEXT[i]`.
    Odd(usize),
    /// A backticked name of this many non-ASCII characters.
    LongOdd(usize),
    /// A name the data path also uses (`ts`, a spine column) or a dotted one.
    Clash(usize),
}

const CLASHES: &[&str] = &["ts", "`ts`", "`a.b`", "` `", "user_id", "_", "`select`"];

pub fn name(n: Name) -> String {
    match n {
        Name::Long(len) => format!("n{}", "x".repeat(len)),
        Name::Odd(i) => format!(
            "`n{}`",
            ODD_TEXT[i % ODD_TEXT.len()].replace(['`', '\n'], "")
        ),
        Name::LongOdd(len) => format!("`{}`", "é".repeat(len)),
        Name::Clash(i) => CLASHES[i % CLASHES.len()].to_string(),
    }
}

pub const NAME_LENGTHS: &[usize] = &[1, 64, 255, 256, 1000, 20_000];

/// What each let of a chain does to the one before it (`p`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `coalesce(p)`: any type, one level.
    Coalesce,
    /// `coalesce(p, p)`: any type, doubling the expanded expression at each step.
    Doubling,
    /// `case when true then p end`: any type.
    Case,
    /// `p / 2.0`: numbers (featc's own division, a function call in DataFusion).
    Div,
    /// `-p`: numbers.
    Neg,
    /// `not p`: booleans.
    Not,
}

pub const STEPS: &[Step] = &[
    Step::Coalesce,
    Step::Doubling,
    Step::Case,
    Step::Div,
    Step::Neg,
    Step::Not,
];

/// Chain lengths: deep enough for a serializer's recursion limit (about 60 levels),
/// a debug build's 2 MiB stack (about 125), and the check's bound (256).
pub const CHAIN_LENGTHS: &[usize] = &[2, 16, 40, 64, 125, 255, 256];

fn step(s: Step, p: &str) -> String {
    match s {
        Step::Coalesce => format!("coalesce({p})"),
        Step::Doubling => format!("coalesce({p}, {p})"),
        Step::Case => format!("case when true then {p} end"),
        Step::Div => format!("{p} / 2.0"),
        Step::Neg => format!("-{p}"),
        Step::Not => format!("not {p}"),
    }
}

/// `let name = expr` as a chain of `len` lets ending in `name`, each applying `how`
/// to the one before.
pub fn let_chain(indent: &str, name: &str, expr: &str, len: usize, how: Step) -> String {
    let link = |i: usize| {
        if i == len {
            name.to_string()
        } else {
            // A suffix inside backticks when the name is backticked.
            match name.strip_suffix('`') {
                Some(open) => format!("{open}__c{i}`"),
                None => format!("{name}__c{i}"),
            }
        }
    };
    let mut out = format!("{indent}let {} = {expr}\n", link(0));
    for i in 1..=len {
        out.push_str(&format!(
            "{indent}let {} = {}\n",
            link(i),
            step(how, &link(i - 1))
        ));
    }
    out
}
