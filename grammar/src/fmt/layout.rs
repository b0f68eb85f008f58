//! The canonical layout, rule by rule of the grammar: declarations and clauses one per
//! line, blocks indented, tokens spaced by what they are. Walks pest's concrete tree
//! (every token, parentheses included), so the layout cannot change what parses.

use pest::iterators::Pair;

use super::lines::Group;
use super::writer::Writer;
use crate::rules::Rule;

pub(crate) struct Layout<'w, 't> {
    pub w: &'w mut Writer<'t>,
    /// Offset of the item's text in the file (pest parsed the item alone).
    pub base: usize,
    /// The rule of the previous token on the line, for spacing.
    prev: Option<Rule>,
}

impl<'w, 't> Layout<'w, 't> {
    pub(crate) fn new(w: &'w mut Writer<'t>, base: usize) -> Layout<'w, 't> {
        Layout {
            w,
            base,
            prev: None,
        }
    }

    fn start(&self, pair: &Pair<'_, Rule>) -> usize {
        self.base + pair.as_span().start()
    }

    /// A declaration: its header on one line, then its block.
    pub(crate) fn item(&mut self, pair: Pair<'_, Rule>) {
        self.w.start_line(self.start(&pair));
        self.prev = None;
        self.header_and_block(pair);
    }

    /// The tokens up to `{` inline, then the block of clauses.
    fn header_and_block(&mut self, pair: Pair<'_, Rule>) {
        let rule = pair.as_rule();
        let children: Vec<Pair<'_, Rule>> = pair.into_inner().collect();
        let open = children.iter().position(|c| c.as_rule() == Rule::lbrace);
        match open {
            Some(open) => {
                for child in &children[..open] {
                    self.inline(child.clone(), rule);
                }
                self.block(&children[open..]);
            }
            None => {
                for child in children {
                    self.inline(child, rule);
                }
            }
        }
    }

    /// `{ clause ... }`: on one line when the source has it on one line without a
    /// comment inside, else one clause per line. Commas between entries are dropped.
    fn block(&mut self, rest: &[Pair<'_, Rule>]) {
        let (Some(lbrace), Some(rbrace)) = (rest.first(), rest.last()) else {
            return;
        };
        let (open, close) = (self.start(lbrace), self.start(rbrace));
        let clauses: Vec<&Pair<'_, Rule>> = rest[1..rest.len() - 1]
            .iter()
            .filter(|c| c.as_rule() != Rule::comma)
            .collect();
        let one_line = self
            .w
            .text_between(open, close)
            .is_some_and(|t| !t.contains('\n'))
            && !self.w.has_comment_in(open, close);
        let in_clause = self.w.in_clause;
        // The brace stays on its header's line.
        self.w.in_clause = false;
        self.token(lbrace, Rule::lbrace, "{", true);
        self.w.in_clause = in_clause;
        if clauses.is_empty() && !self.w.has_comment_in(open, close) {
            self.token(rbrace, Rule::rbrace, "}", false);
            return;
        }
        if one_line {
            for (i, clause) in clauses.into_iter().enumerate() {
                // Columns and feature names have no keyword to show where each starts.
                if i > 0 {
                    self.w.separate(match clause.as_rule() {
                        Rule::column_decl | Rule::feature_ref => "  ",
                        _ => " ",
                    });
                }
                self.clause(clause.clone(), false);
            }
            self.token(rbrace, Rule::rbrace, "}", true);
            return;
        }
        let indent = self.w.indent;
        self.w.enter_block();
        for clause in clauses {
            self.w.start_line(self.start(clause));
            self.prev = None;
            self.clause(clause.clone(), true);
        }
        self.w.indent = indent + super::writer::INDENT;
        self.w
            .leave_block(close, self.base + rbrace.as_span().end());
        self.prev = Some(Rule::rbrace);
        self.w.in_clause = in_clause;
    }

    /// One clause of a block; `own_line` when it starts its line (alignment applies).
    fn clause(&mut self, pair: Pair<'_, Rule>, own_line: bool) {
        let rule = pair.as_rule();
        match rule {
            Rule::columns_clause => self.header_and_block(pair),
            Rule::column_decl => self.aligned(pair, Rule::colon, Group::Column, own_line),
            Rule::feature_clause => self.aligned(pair, Rule::ident, Group::Feature, own_line),
            Rule::let_clause => self.aligned(pair, Rule::ident, Group::Let, own_line),
            _ => self.inline(pair, rule),
        }
    }

    /// A clause whose line aligns with its neighbours after its first `mark` token.
    fn aligned(&mut self, pair: Pair<'_, Rule>, mark: Rule, group: Group, own_line: bool) {
        let rule = pair.as_rule();
        let mut marked = !own_line;
        for child in pair.into_inner() {
            let is_mark = child.as_rule() == mark;
            self.inline(child, rule);
            if is_mark && !marked {
                self.w.align_here(group);
                marked = true;
            }
        }
    }

    /// Tokens written on the current line, spaced by their rules.
    fn inline(&mut self, pair: Pair<'_, Rule>, parent: Rule) {
        let rule = pair.as_rule();
        let mut children = pair.clone().into_inner().peekable();
        if children.peek().is_none() {
            let shown = match (rule, pair.as_str()) {
                (Rule::op_eq, _) => "=",
                (Rule::op_neq, _) => "!=",
                (_, text) => text,
            };
            let space = spaced(self.prev, rule, parent);
            self.token(&pair, rule, shown, space);
            return;
        }
        let children: Vec<Pair<'_, Rule>> = children.collect();
        for (i, child) in children.iter().enumerate() {
            // A trailing comma before a closing bracket is dropped.
            let closes = children.get(i + 1).is_some_and(|n| {
                matches!(n.as_rule(), Rule::rparen | Rule::rbrack | Rule::type_close)
            });
            if child.as_rule() == Rule::comma && closes {
                continue;
            }
            self.inline(child.clone(), rule);
        }
    }

    fn token(&mut self, pair: &Pair<'_, Rule>, rule: Rule, shown: &str, space: bool) {
        let span = pair.as_span();
        self.w.token(
            self.base + span.start(),
            self.base + span.end(),
            shown,
            space,
        );
        self.prev = Some(rule);
    }
}

/// Whether a space separates a token of rule `cur` (inside `parent`) from the previous
/// token on its line: none inside brackets, before `,` `:` `.` `?`, after `.` and a
/// prefix `-`, and before the `(` of a call, the `[` of an index and a type's `<`.
fn spaced(prev: Option<Rule>, cur: Rule, parent: Rule) -> bool {
    let Some(prev) = prev else {
        return true;
    };
    if matches!(
        cur,
        Rule::rparen
            | Rule::rbrack
            | Rule::comma
            | Rule::colon
            | Rule::dot
            | Rule::question
            | Rule::type_open
            | Rule::type_close
    ) {
        return false;
    }
    if matches!(
        prev,
        Rule::lparen | Rule::lbrack | Rule::dot | Rule::op_neg | Rule::type_open
    ) {
        return false;
    }
    // `xs[i]`, `list<float32>`: no space before the bracket.
    if cur == Rule::lbrack && parent == Rule::index {
        return false;
    }
    !(cur == Rule::lparen && matches!(parent, Rule::call | Rule::agg_call | Rule::type_args))
}
