//! Mutations of `.feat` text, shared by the robustness tests (`no_panic.rs`), the
//! all-stages fuzz test (`fuzz_stages.rs`) and the CLI's inputs at limits
//! (cli/tests/limit_inputs/, whose suite compiles this folder by path): plain edits
//! with language tokens (`text_mutation`) and edits that keep a project mostly valid
//! while pushing it to a limit (`limit_mutation`): long `in` lists, deep nesting, edge
//! numbers, odd characters, duplicated clauses, long or odd names and deep let chains.

#![allow(dead_code)]

pub mod fragments;
pub mod limits;
pub mod seeds;

use proptest::prelude::*;

use fragments::{FRAGMENTS, NUMBERS, ODD_TEXT};
use limits::{Literal, Name, Step, Wrap, CHAIN_LENGTHS, DEPTHS, NAME_LENGTHS, STEPS, WRAPS};

/// One edit. Positions (`at`) are taken modulo the text's length, so any `usize` is
/// a position; an edit that finds nothing to act on leaves the text unchanged.
#[derive(Debug, Clone)]
pub enum Mutation {
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
    /// `ODD_TEXT[fragment]` just inside the next string literal (or at `at` when the
    /// text has none).
    OddInString {
        at: usize,
        fragment: usize,
    },
    /// `ODD_TEXT[fragment]` anywhere.
    Odd {
        at: usize,
        fragment: usize,
    },
    /// The next `in (...)` list refilled with `len` literals of its own kind.
    InList {
        at: usize,
        len: usize,
    },
    /// The next number (or with `duration`, the next duration's count) replaced by
    /// `NUMBERS[value]`.
    Number {
        at: usize,
        value: usize,
        duration: bool,
    },
    /// The next word wrapped `depth` times.
    Wrap {
        at: usize,
        how: Wrap,
        depth: usize,
    },
    /// Every occurrence of the next word renamed.
    Rename {
        at: usize,
        name: Name,
    },
    /// The line at `at` duplicated; the name it declares, if any, gets a suffix so
    /// that the copy is a new declaration rather than a duplicate one.
    DuplicateLine {
        at: usize,
    },
    /// The next `let` turned into a chain of `len` lets (see `limits::let_chain`).
    LetChain {
        at: usize,
        len: usize,
        step: Step,
    },
    /// The line at `at` repeated `times` times, each copy's declared name suffixed.
    RepeatLine {
        at: usize,
        times: usize,
    },
}

/// The plain edits: delete, insert or replace text with a token of the language.
pub fn text_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1usize..12).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), 0..FRAGMENTS.len())
            .prop_map(|(at, fragment)| Mutation::Insert { at, fragment }),
        (any::<usize>(), 1usize..8, 0..FRAGMENTS.len())
            .prop_map(|(at, len, fragment)| Mutation::Replace { at, len, fragment }),
    ]
}

/// The edits near limits, each likely to leave a valid project valid.
pub fn limit_mutation() -> impl Strategy<Value = Mutation> {
    let depth = proptest::sample::select(DEPTHS);
    let name = prop_oneof![
        proptest::sample::select(NAME_LENGTHS).prop_map(Name::Long),
        any::<usize>().prop_map(Name::Odd),
        proptest::sample::select(NAME_LENGTHS).prop_map(Name::LongOdd),
        any::<usize>().prop_map(Name::Clash),
    ];
    prop_oneof![
        (any::<usize>(), 0..ODD_TEXT.len())
            .prop_map(|(at, fragment)| Mutation::OddInString { at, fragment }),
        (any::<usize>(), 0..ODD_TEXT.len())
            .prop_map(|(at, fragment)| Mutation::Odd { at, fragment }),
        (
            any::<usize>(),
            prop_oneof![Just(0usize), Just(1), 2usize..40, Just(3000), Just(20_000)]
        )
            .prop_map(|(at, len)| Mutation::InList { at, len }),
        (any::<usize>(), 0..NUMBERS.len(), any::<bool>()).prop_map(|(at, value, duration)| {
            Mutation::Number {
                at,
                value,
                duration,
            }
        }),
        (any::<usize>(), proptest::sample::select(WRAPS), depth)
            .prop_map(|(at, how, depth)| Mutation::Wrap { at, how, depth }),
        (any::<usize>(), name).prop_map(|(at, name)| Mutation::Rename { at, name }),
        any::<usize>().prop_map(|at| Mutation::DuplicateLine { at }),
        (
            any::<usize>(),
            proptest::sample::select(CHAIN_LENGTHS),
            proptest::sample::select(STEPS)
        )
            .prop_map(|(at, len, step)| Mutation::LetChain { at, len, step }),
        (
            any::<usize>(),
            prop_oneof![Just(2usize), Just(50), Just(1000)]
        )
            .prop_map(|(at, times)| Mutation::RepeatLine { at, times }),
    ]
}

/// The largest char boundary at or before `i` (taken modulo `text.len() + 1`).
pub fn boundary(text: &str, mut i: usize) -> usize {
    i %= text.len() + 1;
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `text` with `start..end` replaced by `with`.
fn splice(text: &str, start: usize, end: usize, with: &str) -> String {
    format!("{}{with}{}", &text[..start], &text[end..])
}

/// The first match of `find` in `text` at or after `at`, wrapping around.
fn next_match(text: &str, at: usize, find: impl Fn(&str, usize) -> bool) -> Option<usize> {
    let at = boundary(text, at);
    let starts = (at..text.len()).chain(0..at);
    starts
        .filter(|&i| text.is_char_boundary(i))
        .find(|&i| find(text, i))
}

/// The identifier (plain, starting with a letter or `_`) at or after `at`.
fn next_word(text: &str, at: usize) -> Option<(usize, usize)> {
    let start = next_match(text, at, |t, i| {
        let c = t[i..].chars().next().unwrap_or(' ');
        let before = t[..i].chars().next_back();
        (c.is_ascii_alphabetic() || c == '_') && !before.is_some_and(is_word)
    })?;
    let len = text[start..]
        .find(|c: char| !is_word(c))
        .unwrap_or(text.len() - start);
    Some((start, start + len))
}

/// Words after which an expression starts.
const BEFORE_EXPR: &[&str] = &["where", "and", "or", "not", "when", "then", "else"];

/// The next identifier that reads as an expression (after `(`, `=`, `,`, an operator
/// or a keyword like `where`; not a function name), else the next identifier.
fn next_expr_word(text: &str, at: usize) -> Option<(usize, usize)> {
    let at = boundary(text, at);
    let mut first = None;
    let mut from = 0;
    while let Some((s, e)) = next_word(text, from).filter(|&(s, _)| s >= from) {
        let before = text[..s].trim_end();
        let prev_word = before.rsplit(|c: char| !is_word(c)).next().unwrap_or("");
        let expr = before.ends_with(['(', '=', ',', '<', '>', '+', '-', '*', '/', '%'])
            || BEFORE_EXPR.contains(&prev_word);
        if expr && !text[e..].trim_start().starts_with('(') {
            if s >= at {
                return Some((s, e));
            }
            first = first.or(Some((s, e)));
        }
        from = e;
    }
    first.or_else(|| next_word(text, at))
}

/// The line holding byte `at`: its start and end (without the newline).
fn line_at(text: &str, at: usize) -> (usize, usize) {
    let at = boundary(text, at);
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    (start, end)
}

pub fn apply(text: &str, m: &Mutation) -> String {
    match *m {
        Mutation::Delete { at, len } => replace_at(text, at, len, ""),
        Mutation::Insert { at, fragment } => replace_at(text, at, 0, FRAGMENTS[fragment]),
        Mutation::Replace { at, len, fragment } => replace_at(text, at, len, FRAGMENTS[fragment]),
        Mutation::Odd { at, fragment } => replace_at(text, at, 0, ODD_TEXT[fragment]),
        Mutation::OddInString { at, fragment } => {
            let odd = ODD_TEXT[fragment];
            match next_match(text, at, |t, i| t[i..].starts_with('\'')) {
                // A quote inside a single-quoted literal is written twice.
                Some(q) => splice(text, q + 1, q + 1, &odd.replace('\'', "''")),
                None => replace_at(text, at, 0, odd),
            }
        }
        Mutation::InList { at, len } => in_list(text, at, len),
        Mutation::Number {
            at,
            value,
            duration,
        } => number(text, at, NUMBERS[value], duration),
        Mutation::Wrap { at, how, depth } => match next_expr_word(text, at) {
            Some((s, e)) => splice(text, s, e, &limits::wrap(&text[s..e], how, depth)),
            None => text.to_string(),
        },
        Mutation::Rename { at, name } => match next_word(text, at) {
            Some((s, e)) => rename(text, &text[s..e], &limits::name(name)),
            None => text.to_string(),
        },
        Mutation::DuplicateLine { at } => repeat_line(text, at, 1),
        Mutation::RepeatLine { at, times } => repeat_line(text, at, times),
        Mutation::LetChain { at, len, step } => let_chain(text, at, len, step),
    }
}

fn replace_at(text: &str, at: usize, len: usize, insert: &str) -> String {
    let start = boundary(text, at);
    let end = boundary(text, start.saturating_add(len).min(text.len()));
    splice(text, start, end, insert)
}

fn in_list(text: &str, at: usize, len: usize) -> String {
    let Some(open) = next_match(text, at, |t, i| t[i..].starts_with(" in (")) else {
        return text.to_string();
    };
    let items = open + " in (".len();
    let Some(close) = text[items..].find(')').map(|i| items + i) else {
        return text.to_string();
    };
    let kind = Literal::of(&text[items..close]);
    splice(text, items, close, &limits::in_list(kind, len))
}

fn number(text: &str, at: usize, value: &str, duration: bool) -> String {
    let digits_end = |rest: &str| {
        rest.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len())
    };
    let Some(start) = next_match(text, at, |t, i| {
        let rest = &t[i..];
        let n = digits_end(rest);
        // A duration is a count followed by its unit (`7d`); a number is not.
        n > 0
            && !t[..i].chars().next_back().is_some_and(is_word)
            && rest[n..].starts_with(|c: char| c.is_ascii_alphabetic()) == duration
    }) else {
        return text.to_string();
    };
    let rest = &text[start..];
    let mut end = digits_end(rest);
    // A fraction and an exponent belong to the number.
    if rest[end..].starts_with('.') {
        end += 1 + digits_end(&rest[end + 1..]);
    }
    splice(text, start, start + end, value)
}

/// Renames every whole-word occurrence of `word`.
fn rename(text: &str, word: &str, to: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(word) {
        let before = rest[..i].chars().next_back().is_some_and(is_word)
            || (i == 0 && out.chars().next_back().is_some_and(is_word));
        let after = rest[i + word.len()..].chars().next().is_some_and(is_word);
        out.push_str(&rest[..i]);
        out.push_str(if before || after { word } else { to });
        rest = &rest[i + word.len()..];
    }
    out.push_str(rest);
    out
}

/// The keywords that declare a name right after them.
const DECLARING: &[&str] = &["feature", "let", "view", "source", "entity", "service"];

/// The line at `at` followed by `times` copies of it.
fn repeat_line(text: &str, at: usize, times: usize) -> String {
    let (start, end) = line_at(text, at);
    let line = &text[start..end];
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    let declared = DECLARING.iter().find_map(|kw| {
        let rest = trimmed.strip_prefix(kw)?.strip_prefix(' ')?.trim_start();
        let len = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
        (len > 0).then_some((kw, &rest[..len], &rest[len..]))
    });
    let copies: String = (1..=times)
        .map(|i| match declared {
            Some((kw, name, tail)) => format!("\n{indent}{kw} {name}_dup{i}{tail}"),
            None => format!("\n{line}"),
        })
        .collect();
    splice(text, end, end, &copies)
}

fn let_chain(text: &str, at: usize, len: usize, step: Step) -> String {
    let Some(found) = next_match(text, at, |t, i| {
        (i == 0 || t[..i].ends_with('\n'))
            && t[i..].trim_start_matches([' ', '\t']).starts_with("let ")
    }) else {
        return text.to_string();
    };
    let (start, end) = line_at(text, found);
    let line = &text[start..end];
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    let Some((name, expr)) = trimmed["let ".len()..].split_once('=') else {
        return text.to_string();
    };
    let chain = limits::let_chain(indent, name.trim(), expr.trim(), len, step);
    splice(text, start, (end + 1).min(text.len()), &chain)
}
