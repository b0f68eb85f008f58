//! A deterministic indented dump of the syntax tree, one node per line with its start as
//! `@line:col`, for `featc build --emit ast` and snapshot tests.

use std::fmt::Write;

use crate::ast::*;

/// Prints `file`, whose spans point into `text`. Columns count characters, from 1.
pub fn print_file(file: &File, text: &str) -> String {
    let mut p = Printer {
        text,
        line_starts: line_starts(text),
        out: String::new(),
        depth: 0,
    };
    p.line(&"File".to_string(), file.span);
    p.nested(|p| {
        for item in &file.items {
            p.item(item);
        }
    });
    p.out
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

struct Printer<'t> {
    text: &'t str,
    line_starts: Vec<usize>,
    out: String,
    depth: usize,
}

impl Printer<'_> {
    fn position(&self, offset: u32) -> (usize, usize) {
        let offset = (offset as usize).min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts[line - 1];
        // A span inside a character (never produced by the parser) counts its bytes.
        let col = match self.text.get(start..offset) {
            Some(s) => s.chars().count(),
            None => offset - start,
        };
        (line, col + 1)
    }

    fn line(&mut self, label: &dyn std::fmt::Display, span: Span) {
        let (line, col) = self.position(span.start);
        let _ = writeln!(
            self.out,
            "{:indent$}{label} @{line}:{col}",
            "",
            indent = self.depth * 2
        );
    }

    /// A line without a span (doc comments keep only their text).
    fn bare(&mut self, label: &dyn std::fmt::Display) {
        let _ = writeln!(self.out, "{:indent$}{label}", "", indent = self.depth * 2);
    }

    fn nested(&mut self, f: impl FnOnce(&mut Self)) {
        self.depth += 1;
        f(self);
        self.depth -= 1;
    }

    fn meta(&mut self, meta: &Meta) {
        for doc in &meta.docs {
            self.bare(&format!("Doc {doc:?}"));
        }
        if let Some(owner) = &meta.owner {
            self.line(&format!("Owner {:?}", owner.value), owner.span);
        }
        for tag in &meta.tags {
            self.line(&format!("Tag {:?}", tag.value), tag.span);
        }
    }

    fn column(&mut self, kind: &str, col: &ColumnDecl) {
        self.line(
            &format!("{kind} {}: {}", col.name.name, type_text(&col.ty)),
            col.span,
        );
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Source(s) => {
                self.line(&format!("Source {}", s.name.name), s.span);
                self.nested(|p| {
                    p.meta(&s.meta);
                    if let Some(t) = &s.time {
                        p.line(&format!("Time {}", t.name), t.span);
                    }
                    for c in &s.columns {
                        p.column("Column", c);
                    }
                    if let Some(f) = &s.file {
                        p.line(&format!("File {:?}", f.value), f.span);
                    }
                    if let Some(t) = &s.topic {
                        let mut format = t
                            .format
                            .as_ref()
                            .map_or(String::new(), |f| format!(" format {}", f.name));
                        for a in &t.args {
                            format.push_str(&format!(" {:?}", a.value));
                        }
                        if let Some((id, _)) = &t.confluent {
                            format.push_str(&format!(" confluent {id}"));
                        }
                        p.line(&format!("Topic {:?}{format}", t.name.value), t.span);
                    }
                    if let Some(l) = &s.lateness {
                        p.line(&format!("Lateness {}", l.text), l.span);
                    }
                    if let Some(f) = &s.freshness {
                        p.line(&format!("Freshness {}", f.text), f.span);
                    }
                    if let Some(d) = &s.delay {
                        p.line(&format!("Delay {}", d.text), d.span);
                    }
                    if let Some(e) = &s.epoch {
                        p.line(&format!("Epoch {}", e.name), e.span);
                    }
                    if let Some(partition) = &s.partition {
                        let (key, unit) = partition.as_ref();
                        let span = Span {
                            end: unit.span.end,
                            ..key.span
                        };
                        p.line(&format!("Partition {} by {}", key.name, unit.name), span);
                    }
                });
            }
            Item::Entity(e) => {
                self.line(&format!("Entity {}", e.name.name), e.span);
                self.nested(|p| {
                    p.meta(&e.meta);
                    for k in &e.keys {
                        p.column("Key", k);
                    }
                });
            }
            Item::View(v) => {
                let keys = match &v.key_columns {
                    Some(cols) => {
                        let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
                        format!(" ({})", names.join(", "))
                    }
                    None => String::new(),
                };
                self.line(
                    &format!(
                        "View {} from {}{} by {}{keys}",
                        v.name.name,
                        v.source.name,
                        v.more_sources
                            .iter()
                            .map(|s| format!(", {}", s.name))
                            .collect::<String>(),
                        v.entity.name
                    ),
                    v.span,
                );
                self.nested(|p| {
                    p.meta(&v.meta);
                    for c in &v.clauses {
                        p.view_clause(c);
                    }
                });
            }
            Item::Service(s) => {
                self.line(&format!("Service {}", s.name.name), s.span);
                self.nested(|p| {
                    p.meta(&s.meta);
                    for entry in &s.entries {
                        match entry {
                            ServiceEntry::Ref(f) => {
                                let name = match &f.view {
                                    Some(v) => format!("{}.{}", v.name, f.feature.name),
                                    None => f.feature.name.clone(),
                                };
                                p.line(&format!("FeatureRef {name}"), f.span);
                            }
                            ServiceEntry::Derived(d) => p.derived(d),
                            ServiceEntry::Feature(f) => p.feature(f),
                        }
                    }
                });
            }
            Item::Request(r) => {
                self.line(&format!("Request {}", r.name.name), r.span);
                self.nested(|p| {
                    p.meta(&r.meta);
                    for c in &r.fields {
                        p.column("Field", c);
                    }
                });
            }
        }
    }

    fn view_clause(&mut self, clause: &ViewClause) {
        match clause {
            ViewClause::Where(e) => {
                self.line(&"Where", e.span);
                self.nested(|p| p.expr(e));
            }
            ViewClause::Let(l) => {
                self.line(&format!("Let {}", l.name.name), l.span);
                self.nested(|p| p.expr(&l.expr));
            }
            ViewClause::Lookup(l) => {
                let keys: Vec<&str> = l.keys.iter().map(|k| k.name.as_str()).collect();
                let text = format!(
                    "Lookup {} = {}.{} at ({})",
                    l.name.name,
                    l.view.name,
                    l.feature.name,
                    keys.join(", ")
                );
                self.line(&text, l.span);
            }
            ViewClause::Ttl(d) => self.line(&format!("Ttl {}", d.text), d.span),
            ViewClause::Freshness(d) => self.line(&format!("Freshness {}", d.text), d.span),
            ViewClause::Feature(f) => self.feature(f),
            ViewClause::Derived(d) => self.derived(d),
        }
    }

    fn derived(&mut self, d: &DerivedDecl) {
        self.line(&format!("Derived {}", d.name.name), d.span);
        self.nested(|p| {
            for doc in &d.docs {
                p.bare(&format!("Doc {doc:?}"));
            }
            p.expr(&d.expr);
        });
    }

    fn feature(&mut self, f: &FeatureDecl) {
        {
            {
                self.line(&format!("Feature {}", f.name.name), f.span);
                self.nested(|p| {
                    for doc in &f.docs {
                        p.bare(&format!("Doc {doc:?}"));
                    }
                    match &f.agg.args {
                        AggArgs::Star(_) => {
                            p.line(&format!("Agg {}(*)", f.agg.func.name), f.agg.span)
                        }
                        AggArgs::Exprs(args) => {
                            p.line(&format!("Agg {}", f.agg.func.name), f.agg.span);
                            p.nested(|p| args.iter().for_each(|a| p.expr(a)));
                        }
                    }
                    if let Some(filter) = &f.filter {
                        p.line(&"Filter", filter.span);
                        p.nested(|p| p.expr(filter));
                    }
                    match (&f.window, &f.events) {
                        (Some(w), _) => p.line(&format!("Over {}", w.text), w.span),
                        (None, None) => p.bare(&"Lifetime"),
                        (None, Some(_)) => {}
                    }
                    if let Some(n) = &f.events {
                        p.line(&format!("Events {}", n.text), n.span);
                    }
                    if let Some(o) = &f.offset {
                        p.line(&format!("Offset {}", o.text), o.span);
                    }
                    if let Some(span) = f.exclusive {
                        p.line(&"Exclusive", span);
                    }
                });
            }
        }
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Column(id) => self.line(&format!("Column {}", id.name), e.span),
            ExprKind::Field { qualifier, name } => {
                self.line(&format!("Field {}.{}", qualifier.name, name.name), e.span)
            }
            ExprKind::Member { base, name } => {
                self.line(&format!("Member .{}", name.name), e.span);
                self.nested(|p| p.expr(base));
            }
            ExprKind::Int(s) => self.line(&format!("Int {s}"), e.span),
            ExprKind::Float(s) => self.line(&format!("Float {s}"), e.span),
            ExprKind::String(s) => self.line(&format!("String {s:?}"), e.span),
            ExprKind::Bool(b) => self.line(&format!("Bool {b}"), e.span),
            ExprKind::Null => self.line(&"Null", e.span),
            ExprKind::Unary { op, expr } => {
                let op = match op {
                    UnaryOp::Not => "not",
                    UnaryOp::Neg => "-",
                };
                self.line(&format!("Unary {op}"), e.span);
                self.nested(|p| p.expr(expr));
            }
            ExprKind::Binary { op, lhs, rhs } => {
                self.line(&format!("Binary {}", op.symbol()), e.span);
                self.nested(|p| {
                    p.expr(lhs);
                    p.expr(rhs);
                });
            }
            ExprKind::IsNull { expr, negated } => {
                self.line(&if *negated { "IsNotNull" } else { "IsNull" }, e.span);
                self.nested(|p| p.expr(expr));
            }
            ExprKind::InList {
                expr,
                list,
                negated,
            } => {
                self.line(&if *negated { "NotIn" } else { "In" }, e.span);
                self.nested(|p| {
                    p.expr(expr);
                    p.bare(&"List");
                    p.nested(|p| list.iter().for_each(|x| p.expr(x)));
                });
            }
            ExprKind::Call { func, args } => {
                self.line(&format!("Call {}", func.name), e.span);
                self.nested(|p| args.iter().for_each(|a| p.expr(a)));
            }
            ExprKind::Case {
                branches,
                otherwise,
            } => {
                self.line(&"Case", e.span);
                self.nested(|p| {
                    for (cond, value) in branches {
                        p.line(&"When", cond.span);
                        p.nested(|p| {
                            p.expr(cond);
                            p.expr(value);
                        });
                    }
                    if let Some(o) = otherwise {
                        p.line(&"Else", o.span);
                        p.nested(|p| p.expr(o));
                    }
                });
            }
        }
    }
}

/// The words of the language that cannot be bare identifiers (the grammar's `keyword`
/// rule; `tests::every_keyword_needs_backquotes` checks the two agree).
pub const KEYWORDS: &[&str] = &[
    "source", "entity", "view", "service", "feature", "let", "where", "over", "ttl", "time",
    "columns", "file", "lateness", "key", "from", "by", "owner", "tags", "and", "or", "not", "is",
    "null", "in", "true", "false", "case", "when", "then", "else", "end",
];

/// `name` as a `.feat` identifier: bare when it can be, else in backquotes (a name
/// holding a backquote or a line break cannot be written at all; callers that meet
/// outside names check that first).
pub fn ident_text(name: &str) -> String {
    let mut chars = name.chars();
    let bare = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&name);
    if bare {
        name.to_string()
    } else {
        format!("`{name}`")
    }
}

/// A type as written, `?` included: `decimal(12, 2)?`, `struct<city: string?>`; a
/// field named by a keyword in backquotes, so that the text parses back.
pub fn type_text(ty: &TypeRef) -> String {
    let args: Vec<&str> = ty.args.iter().map(|a| a.digits.as_str()).collect();
    let args = if args.is_empty() {
        String::new()
    } else {
        format!("({})", args.join(", "))
    };
    let params: Vec<String> = ty
        .params
        .iter()
        .map(|p| match &p.name {
            Some(name) => format!("{}: {}", ident_text(&name.name), type_text(&p.ty)),
            None => type_text(&p.ty),
        })
        .collect();
    let params = if params.is_empty() {
        String::new()
    } else {
        format!("<{}>", params.join(", "))
    };
    let q = if ty.nullable { "?" } else { "" };
    format!("{}{args}{params}{q}", ty.name.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column_named(name: &str) -> String {
        format!("source s {{\n  time t\n  columns {{\n    {name}: int64\n  }}\n}}\n")
    }

    /// `KEYWORDS` is the grammar's `keyword` rule: each word is refused bare and
    /// accepted in backquotes, and a word beside them (`tag`, `ends`) is bare.
    #[test]
    fn every_keyword_needs_backquotes() {
        for word in KEYWORDS {
            assert!(
                crate::parse(0, &column_named(word)).is_err(),
                "{word} parsed bare"
            );
            assert!(
                crate::parse(0, &column_named(&ident_text(word))).is_ok(),
                "{word}"
            );
        }
        for word in ["tag", "ends", "keys", "time_"] {
            assert_eq!(ident_text(word), word);
            assert!(crate::parse(0, &column_named(word)).is_ok(), "{word}");
        }
    }

    /// A struct field named by a keyword is printed in backquotes.
    #[test]
    fn a_type_with_a_keyword_field_prints_as_it_parses() {
        let text = "source s {\n  time t\n  columns {\n    c: struct<city: string?, `tags`: list<string>?>?\n  }\n}\n";
        let text = text.to_string();
        let Ok(file) = crate::parse(0, &text) else {
            panic!("parses")
        };
        let Some(Item::Source(source)) = file.items.first() else {
            panic!("a source")
        };
        assert_eq!(
            type_text(&source.columns[0].ty),
            "struct<city: string?, `tags`: list<string>?>?"
        );
    }
}
