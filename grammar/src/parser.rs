//! The driver that parses a file item by item with pest's parser (`rules`),
//! recovering after a broken item at the next line that starts with an item keyword.

use pest::Parser;

use crate::ast::{File, FileId, ParseError, Span};
use crate::rules::{FeatParser, Rule};
use crate::{build, errors, scan};

/// Parses a whole file; every broken item contributes one error.
pub(crate) fn parse_file(file: FileId, text: &str) -> Result<File, Vec<ParseError>> {
    let mut items = Vec::new();
    let mut errs = Vec::new();
    let mut pos = 0;
    loop {
        pos = match scan::skip_trivia(text, pos) {
            Ok(p) => p,
            Err(comment) => {
                errs.push(errors::unterminated_comment(file, text, comment));
                break;
            }
        };
        if pos >= text.len() {
            break;
        }
        match parse_item(file, text, pos) {
            Ok((item, end)) => {
                items.push(item);
                pos = end;
            }
            Err(err) => {
                errs.push(err);
                match scan::next_item_start(text, pos) {
                    Some(next) => pos = next,
                    None => break,
                }
            }
        }
    }
    if errs.is_empty() {
        Ok(File {
            items,
            span: Span::new(file, 0, text.len()),
        })
    } else {
        Err(errs)
    }
}

/// Parses the item starting at `start`; returns it and the offset just past it.
fn parse_item(
    file: FileId,
    text: &str,
    start: usize,
) -> Result<(crate::ast::Item, usize), ParseError> {
    let limit = scan::next_item_start(text, start).unwrap_or(text.len());
    if let Some((s, _)) = scan::too_deep(text, start, limit) {
        return Err(errors::at_token(
            file,
            text,
            s,
            vec![errors::nesting_expectation()],
        ));
    }
    // No valid item reaches past the next line that starts with an item keyword (names
    // cannot be keywords, strings and backquoted names end at the line), and pest's error
    // construction costs time linear in its input: parse only up to there.
    let rest = &text[start..limit];
    let mut pairs = FeatParser::parse(Rule::item_entry, rest)
        .map_err(|e| errors::from_pest(file, text, start, limit, &e))?;
    let pair = match pairs.next() {
        Some(pair) => pair,
        None => {
            return Err(errors::at_token(
                file,
                text,
                start,
                vec!["item".to_string()],
            ))
        }
    };
    let end = start + pair.as_span().end();
    let ctx = build::Ctx {
        file,
        text,
        base: start,
    };
    let item = ctx.item(pair)?;
    Ok((item, end))
}
