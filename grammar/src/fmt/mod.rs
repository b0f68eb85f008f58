//! `featc fmt`: the canonical layout of a `.feat` file, comments and doc comments kept.
//!
//! The formatter lays out pest's concrete tree (every token, parentheses as written)
//! rather than the syntax tree, so it cannot reorder clauses or change what groups
//! with what; comments, which the grammar skips, are recovered from the gaps between
//! tokens and written back into the same gap. The result is checked before it is
//! returned: it must parse to the same syntax tree (spans aside), keep every comment,
//! and be a fixed point, else the file is reported as unformattable rather than
//! rewritten. The layout itself is described in docs/fmt.md.

mod comments;
mod layout;
mod lines;
mod writer;

use pest::iterators::Pair;
use pest::Parser;

use crate::ast::{File, ParseError};
use crate::rules::{FeatParser, Rule};

/// Why a file was not formatted.
#[derive(Debug, Clone, PartialEq)]
pub enum LayoutError {
    /// The file does not parse: its syntax errors (file id 0).
    Syntax(Vec<ParseError>),
    /// The layout would change the file's syntax tree or comments, or is not stable:
    /// a bug of the formatter; the file is left as it is.
    Unstable,
}

/// The canonical layout of `text`, a whole `.feat` file.
pub fn format(text: &str) -> Result<String, LayoutError> {
    let tree = crate::parse(0, text).map_err(LayoutError::Syntax)?;
    let out = layout_file(text, &tree).ok_or(LayoutError::Unstable)?;
    let again = crate::parse(0, &out).map_err(|_| LayoutError::Unstable)?;
    let same_tree = without_spans(&tree) == without_spans(&again);
    let same_comments = comment_texts(text, &tree) == comment_texts(&out, &again);
    let stable = layout_file(&out, &again).as_deref() == Some(out.as_str());
    if same_tree && same_comments && stable {
        Ok(out)
    } else {
        Err(LayoutError::Unstable)
    }
}

/// Each item of `tree` parsed again alone, as pest's tree, with its offset in `text`.
fn item_pairs<'t>(text: &'t str, tree: &File) -> Option<Vec<(usize, Pair<'t, Rule>)>> {
    tree.items
        .iter()
        .map(|item| {
            let span = item_span(item);
            let start = span.start as usize;
            let source = text.get(start..span.end as usize)?;
            let pair = FeatParser::parse(Rule::item_entry, source).ok()?.next()?;
            Some((start, pair))
        })
        .collect()
}

fn item_span(item: &crate::ast::Item) -> crate::ast::Span {
    use crate::ast::Item;
    match item {
        Item::Source(d) => d.span,
        Item::Entity(d) => d.span,
        Item::View(d) => d.span,
        Item::Service(d) => d.span,
        Item::Request(d) => d.span,
    }
}

/// The leaf tokens' spans of every item, in order.
fn token_spans(items: &[(usize, Pair<'_, Rule>)]) -> Vec<(usize, usize)> {
    fn walk(pair: Pair<'_, Rule>, base: usize, out: &mut Vec<(usize, usize)>) {
        let mut inner = pair.clone().into_inner().peekable();
        if inner.peek().is_none() {
            let span = pair.as_span();
            out.push((base + span.start(), base + span.end()));
        }
        for child in inner {
            walk(child, base, out);
        }
    }
    let mut out = Vec::new();
    for (base, pair) in items {
        walk(pair.clone(), *base, &mut out);
    }
    out
}

/// Every comment of the file, in order.
fn all_comments(text: &str, items: &[(usize, Pair<'_, Rule>)]) -> Vec<comments::Comment> {
    let mut found = Vec::new();
    let mut pos = 0;
    for (start, end) in token_spans(items) {
        comments::in_gap(text, pos, start, &mut found);
        pos = end;
    }
    comments::in_gap(text, pos, text.len(), &mut found);
    found
}

fn comment_texts(text: &str, tree: &File) -> Option<Vec<String>> {
    let items = item_pairs(text, tree)?;
    Some(
        all_comments(text, &items)
            .into_iter()
            .map(|c| c.text)
            .collect(),
    )
}

fn layout_file(text: &str, tree: &File) -> Option<String> {
    let items = item_pairs(text, tree)?;
    let mut w = writer::Writer::new(text, all_comments(text, &items));
    for (base, pair) in items {
        let mut l = layout::Layout::new(&mut w, base);
        l.item(pair);
    }
    Some(lines::render(w.finish()))
}

/// The tree's debug form with every span removed: what formatting must not change.
fn without_spans(tree: &File) -> String {
    let debug = format!("{:?}", tree.items);
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug.as_str();
    while let Some(i) = rest.find("Span {") {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        match rest.find('}') {
            Some(end) => rest = &rest[end + 1..],
            None => break,
        }
    }
    out.push_str(rest);
    out
}
