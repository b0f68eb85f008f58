//! Turns pest's errors (a position and the rules it tried there) into `ast::ParseError`s
//! with the offending token's span, human names of what was expected and what was found;
//! or, where the token there is an unterminated string or the item ends inside an open
//! delimiter, errors that say so and point at the quote or the delimiter.

use std::collections::BTreeSet;

use pest::error::{Error, ErrorVariant, InputLocation};

use crate::ast::{FileId, ParseError, ParseErrorKind, Span};
use crate::rules::Rule;
use crate::scan;

/// What the parser expects where a rule of this kind could start.
fn human_name(rule: Rule) -> Option<&'static str> {
    use Rule::*;
    Some(match rule {
        ident => "identifier",
        string => "string",
        duration => "duration such as `7d`",
        column_decl | type_ref => "identifier",
        feature_ref => "feature name",
        case_expr | call | float | int | lit_true | lit_false | lit_null | column | paren
        | op_not | op_neg | expr | derived_expr => "expression",
        op_or | op_and | op_eq | op_neq | op_le | op_lt | op_ge | op_gt | op_add | op_sub
        | op_mul | op_div | op_mod | is_null | is_not_null | in_list | not_in_list | index => {
            "operator"
        }
        type_item | type_open => "`<`",
        type_close => "`>`",
        lbrace => "`{`",
        rbrace => "`}`",
        lparen => "`(`",
        rparen => "`)`",
        lbrack => "`[`",
        rbrack => "`]`",
        comma => "`,`",
        colon => "`:`",
        star => "`*`",
        question => "`?`",
        assign => "`=`",
        source_decl => "`source`",
        entity_decl => "`entity`",
        view_decl => "`view`",
        service_decl => "`service`",
        request_decl | kw_request => "`request`",
        time_clause => "`time`",
        columns_clause => "`columns`",
        file_clause => "`file`",
        topic_clause | kw_topic => "`topic`",
        topic_format | kw_format => "`format`",
        topic_confluent | kw_confluent => "`confluent`",
        lateness_clause => "`lateness`",
        delay_clause | kw_delay => "`delay`",
        epoch_clause | kw_epoch => "`epoch`",
        partition_clause | kw_partition => "`partition`",
        freshness_clause | kw_freshness => "`freshness`",
        owner_clause => "`owner`",
        tags_clause => "`tags`",
        key_clause => "`key`",
        key_columns | type_args => "`(`",
        more_sources => "`,`",
        lookup => "a feature to look up such as `merchants.risk at merchant_id`",
        kw_at => "`at`",
        where_clause | feature_filter => "`where`",
        let_clause => "`let`",
        ttl_clause => "`ttl`",
        feature_clause => "`feature`",
        feature_window => "`over`",
        window_events | event_count => "number of events such as `10 events`",
        window_cap | kw_max => "`max`",
        // Only ever expected after a bare number: `over 7` may be a duration whose
        // unit is missing as well as a count whose word is.
        kw_events => "`events` after a count, or a unit right after a duration's number (`7d`)",
        agg_call => "aggregation such as `count(*)`",
        case_when => "`when`",
        case_else => "`else`",
        kw_source => "`source`",
        kw_entity => "`entity`",
        kw_view => "`view`",
        kw_service => "`service`",
        kw_feature => "`feature`",
        kw_let => "`let`",
        kw_where => "`where`",
        kw_over => "`over`",
        kw_ttl => "`ttl`",
        kw_time => "`time`",
        kw_columns => "`columns`",
        kw_file => "`file`",
        kw_lateness => "`lateness`",
        kw_key => "`key`",
        kw_from => "`from`",
        kw_by => "`by`",
        kw_owner => "`owner`",
        kw_tags => "`tags`",
        kw_and => "`and`",
        kw_or => "`or`",
        kw_not => "`not`",
        kw_is => "`is`",
        kw_null => "`null`",
        kw_in => "`in`",
        kw_true => "`true`",
        kw_false => "`false`",
        kw_case => "`case`",
        kw_when => "`when`",
        kw_then => "`then`",
        kw_else => "`else`",
        kw_end => "`end`",
        // `.` only ever continues a name optionally (`view.feature`, `request.field`):
        // listing it after every name would bury what is missing.
        _ => return None,
    })
}

/// An error at the token starting at (or after trivia following) `pos`. A string or
/// backquoted name left open there is the cause, whatever the parser expected: it is
/// reported as such, at its opening quote.
pub(crate) fn at_token(file: FileId, text: &str, pos: usize, expected: Vec<String>) -> ParseError {
    match scan::skip_trivia(text, pos) {
        Ok(start) => {
            if let Some(quote) = scan::unterminated_quote(text, start) {
                return ParseError {
                    span: Span::new(file, start, start + quote.len_utf8()),
                    kind: ParseErrorKind::Unterminated { quote },
                };
            }
            let (span, found) = token(file, text, start);
            ParseError::unexpected(span, expected, found)
        }
        Err(comment) => unterminated_comment(file, text, comment),
    }
}

/// The span and text of the token at `start` (not trivia); no text at end of input.
fn token(file: FileId, text: &str, start: usize) -> (Span, Option<String>) {
    let end = scan::token_end(text, start);
    let found = (end > start).then(|| text[start..end].to_string());
    (Span::new(file, start, end), found)
}

/// A `/*` with no `*/` before the end of the file.
pub(crate) fn unterminated_comment(file: FileId, text: &str, start: usize) -> ParseError {
    let end = (start + 2).min(text.len());
    ParseError::unexpected(
        Span::new(file, start, end),
        vec!["`*/` closing the comment".to_string()],
        None,
    )
}

/// Converts a pest error from parsing `text[base..limit]` (one item, cut at the next
/// line starting with an item keyword) into a `ParseError` on `text`.
pub(crate) fn from_pest(
    file: FileId,
    text: &str,
    base: usize,
    limit: usize,
    err: &Error<Rule>,
) -> ParseError {
    let pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((start, _)) => start,
    };
    let expected = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            if let Some(err) = unclosed(file, text, base..limit, base + pos, positives) {
                return err;
            }
            positives
                .iter()
                .filter_map(|r| human_name(*r))
                .map(str::to_string)
                .collect::<BTreeSet<_>>()
        }
        // pest's own limits (stack headroom): the input nests too deeply.
        ErrorVariant::CustomError { .. } => BTreeSet::from([nesting_expectation()]),
    };
    at_token(file, text, base + pos, collapse(expected))
}

/// The item ran out (the parser stopped at `item.end`: the next item's keyword or the
/// end of the file) inside a `{`, `(` or `[` whose closer it would have taken there.
/// "Unexpected `entity`" would blame the next item; the cause is the opener, so the
/// error points at it (and at where it should have been closed).
fn unclosed(
    file: FileId,
    text: &str,
    item: std::ops::Range<usize>,
    at: usize,
    expected: &[Rule],
) -> Option<ParseError> {
    let stop = scan::skip_trivia(text, at).ok()?;
    if stop < item.end {
        return None;
    }
    let (open, delimiter) = scan::innermost_unclosed(text, item.start, at)?;
    let closer = match delimiter {
        '{' => Rule::rbrace,
        '(' => Rule::rparen,
        _ => Rule::rbrack,
    };
    if !expected.contains(&closer) {
        return None;
    }
    let (end, found) = token(file, text, stop);
    Some(ParseError {
        span: Span::new(file, open, open + 1),
        kind: ParseErrorKind::Unclosed {
            delimiter,
            end,
            found,
        },
    })
}

/// Where pest tried several ways to start or continue an expression, it reports each
/// keyword and bracket it tried; a person wants to read "expression" or "operator".
fn collapse(mut expected: BTreeSet<String>) -> Vec<String> {
    const STARTS: [&str; 8] = [
        "`(`",
        "`case`",
        "`false`",
        "`not`",
        "`null`",
        "`true`",
        "identifier",
        "string",
    ];
    const CONTINUATIONS: [&str; 6] = ["`(`", "`and`", "`in`", "`is`", "`not`", "`or`"];
    if expected.contains("expression") {
        expected.retain(|e| !STARTS.contains(&e.as_str()));
    }
    if expected.contains("operator") {
        expected.retain(|e| !CONTINUATIONS.contains(&e.as_str()));
    }
    expected.into_iter().collect()
}

/// What an error about too deep nesting says was expected.
pub(crate) fn nesting_expectation() -> String {
    format!("at most {} levels of nesting", scan::MAX_NESTING)
}

/// A chain of more operators than the tree depth allows (other than `and`/`or`, whose
/// chains are balanced): it is long, not nested, and `let`s split it.
pub(crate) fn chain_expectation() -> String {
    format!(
        "at most {} arithmetic or comparison operators in one expression (split it with `let`s)",
        scan::MAX_NESTING
    )
}
