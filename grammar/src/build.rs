//! Builds `ast` items from pest pairs. The grammar guarantees the shape of the pairs;
//! where a shape is not as expected anyway the builder returns an error, never panics.

use pest::iterators::{Pair, Pairs};

use crate::ast::*;
use crate::docs::docs_before;
use crate::errors;
use crate::rules::Rule;

/// What every builder needs: the file, its text and where the parsed slice starts in it.
pub(crate) struct Ctx<'t> {
    pub file: FileId,
    pub text: &'t str,
    pub base: usize,
}

impl Ctx<'_> {
    /// The pair's text without trailing trivia: pest lets a rule ending in an optional
    /// or repeated part swallow the whitespace and comments before that part even when
    /// it is absent, so the end is the end of the last token (every token is a rule).
    pub(crate) fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let mut last = pair.clone();
        while let Some(child) = last.clone().into_inner().last() {
            last = child;
        }
        Span::new(
            self.file,
            self.base + pair.as_span().start(),
            self.base + last.as_span().end(),
        )
    }

    /// An error for a pair whose shape the grammar should have ruled out.
    pub(crate) fn malformed(&self, pos: usize) -> ParseError {
        errors::at_token(self.file, self.text, pos, vec!["valid syntax".to_string()])
    }

    /// The next pair, or a `malformed` error at `pos` (an absolute offset).
    pub(crate) fn next<'i>(
        &self,
        pairs: &mut Pairs<'i, Rule>,
        pos: usize,
    ) -> Result<Pair<'i, Rule>, ParseError> {
        pairs.next().ok_or_else(|| self.malformed(pos))
    }

    pub(crate) fn ident(&self, pair: &Pair<'_, Rule>) -> Ident {
        let raw = pair.as_str();
        let name = raw
            .strip_prefix('`')
            .and_then(|r| r.strip_suffix('`'))
            .unwrap_or(raw)
            .to_string();
        Ident {
            name,
            span: self.span(pair),
        }
    }

    pub(crate) fn string(&self, pair: &Pair<'_, Rule>) -> StringLit {
        StringLit {
            value: unescape(pair.as_str()),
            span: self.span(pair),
        }
    }

    fn duration(&self, pair: &Pair<'_, Rule>) -> DurationLit {
        DurationLit {
            text: pair.as_str().to_string(),
            span: self.span(pair),
        }
    }

    fn docs(&self, pair: &Pair<'_, Rule>) -> Vec<String> {
        docs_before(self.text, self.base + pair.as_span().start())
    }

    pub(crate) fn item(&self, pair: Pair<'_, Rule>) -> Result<Item, ParseError> {
        match pair.as_rule() {
            Rule::source_decl => Ok(Item::Source(self.source(pair)?)),
            Rule::entity_decl => Ok(Item::Entity(self.entity(pair)?)),
            Rule::view_decl => Ok(Item::View(self.view(pair)?)),
            Rule::service_decl => Ok(Item::Service(self.service(pair)?)),
            Rule::request_decl => Ok(Item::Request(self.request(pair)?)),
            _ => Err(self.malformed(self.span(&pair).start as usize)),
        }
    }

    /// The name after the item keyword, and the clause pairs between the braces.
    fn header<'i>(&self, pair: Pair<'i, Rule>) -> Result<(Ident, Vec<Pair<'i, Rule>>), ParseError> {
        let start = self.span(&pair).start as usize;
        let mut inner = pair.into_inner();
        let _keyword = self.next(&mut inner, start)?;
        let name = self.ident(&self.next(&mut inner, start)?);
        let rest = inner
            .filter(|p| !matches!(p.as_rule(), Rule::lbrace | Rule::rbrace))
            .collect();
        Ok((name, rest))
    }

    /// Applies an `owner` or `tags` clause; `false` when the pair is neither.
    fn meta_clause(&self, meta: &mut Meta, pair: &Pair<'_, Rule>) -> bool {
        match pair.as_rule() {
            Rule::owner_clause => {
                if meta.owner.is_none() {
                    meta.owner = pair
                        .clone()
                        .into_inner()
                        .find(|p| p.as_rule() == Rule::string)
                        .map(|p| self.string(&p));
                }
                true
            }
            Rule::tags_clause => {
                meta.tags.extend(
                    pair.clone()
                        .into_inner()
                        .filter(|p| p.as_rule() == Rule::string)
                        .map(|p| self.string(&p)),
                );
                true
            }
            _ => false,
        }
    }

    fn source(&self, pair: Pair<'_, Rule>) -> Result<SourceDecl, ParseError> {
        let span = self.span(&pair);
        let docs = self.docs(&pair);
        let (name, clauses) = self.header(pair)?;
        let mut decl = SourceDecl {
            name,
            meta: Meta {
                docs,
                ..Meta::default()
            },
            time: None,
            columns: Vec::new(),
            file: None,
            topic: None,
            lateness: None,
            freshness: None,
            delay: None,
            epoch: None,
            partition: None,
            span,
        };
        let mut seen_columns = false;
        for clause in clauses {
            if self.meta_clause(&mut decl.meta, &clause) {
                continue;
            }
            let rule = clause.as_rule();
            let clause_span = self.span(&clause);
            let mut inner = clause.into_inner().skip(1);
            match rule {
                Rule::time_clause if decl.time.is_none() => {
                    decl.time = inner.next().map(|p| self.ident(&p))
                }
                Rule::columns_clause if !seen_columns => {
                    seen_columns = true;
                    for col in inner.filter(|p| p.as_rule() == Rule::column_decl) {
                        decl.columns.push(self.column_decl(col)?);
                    }
                }
                Rule::file_clause if decl.file.is_none() => {
                    decl.file = inner.next().map(|p| self.string(&p))
                }
                Rule::topic_clause if decl.topic.is_none() => {
                    let name = inner.next().map(|p| self.string(&p));
                    let (mut format, mut args, mut confluent) = (None, Vec::new(), None);
                    for part in inner.next().into_iter().flat_map(|f| f.into_inner()) {
                        match part.as_rule() {
                            Rule::ident => format = Some(self.ident(&part)),
                            Rule::string => args.push(self.string(&part)),
                            Rule::topic_confluent => {
                                confluent = part
                                    .into_inner()
                                    .nth(1)
                                    .map(|id| (id.as_str().to_string(), self.span(&id)));
                            }
                            _ => {}
                        }
                    }
                    decl.topic = name.map(|name| {
                        Box::new(TopicDecl {
                            name,
                            format,
                            args,
                            confluent,
                            span: clause_span,
                        })
                    });
                }
                Rule::lateness_clause if decl.lateness.is_none() => {
                    decl.lateness = inner.next().map(|p| self.duration(&p))
                }
                Rule::freshness_clause if decl.freshness.is_none() => {
                    decl.freshness = inner.next().map(|p| self.duration(&p))
                }
                Rule::delay_clause if decl.delay.is_none() => {
                    decl.delay = inner.next().map(|p| self.duration(&p))
                }
                Rule::epoch_clause if decl.epoch.is_none() => {
                    decl.epoch = inner.next().map(|p| Box::new(self.ident(&p)))
                }
                Rule::partition_clause if decl.partition.is_none() => {
                    let parts: Vec<Ident> = inner
                        .filter(|p| p.as_rule() == Rule::ident)
                        .map(|p| self.ident(&p))
                        .collect();
                    if let [key, unit] = parts.as_slice() {
                        decl.partition = Some(Box::new((key.clone(), unit.clone())));
                    }
                }
                _ => {}
            }
        }
        Ok(decl)
    }

    fn column_decl(&self, pair: Pair<'_, Rule>) -> Result<ColumnDecl, ParseError> {
        let span = self.span(&pair);
        let start = span.start as usize;
        let mut inner = pair.into_inner();
        let name = self.ident(&self.next(&mut inner, start)?);
        let _colon = self.next(&mut inner, start)?;
        let ty_pair = self.next(&mut inner, start)?;
        let ty = self.type_ref(ty_pair, start)?;
        Ok(ColumnDecl { name, ty, span })
    }

    /// A `type_ref` pair: its name, numbers, bracketed types (recursively) and `?`.
    fn type_ref(&self, pair: Pair<'_, Rule>, start: usize) -> Result<TypeRef, ParseError> {
        let ty_span = self.span(&pair);
        let mut ty_inner = pair.into_inner();
        let ty_name = self.ident(&self.next(&mut ty_inner, start)?);
        let mut args = Vec::new();
        let mut params = Vec::new();
        let mut nullable = false;
        for part in ty_inner {
            match part.as_rule() {
                Rule::type_args => args.extend(
                    part.into_inner()
                        .filter(|p| p.as_rule() == Rule::int)
                        .map(|p| TypeArg {
                            digits: p.as_str().to_string(),
                            span: self.span(&p),
                        }),
                ),
                Rule::type_item => {
                    for param in part
                        .into_inner()
                        .filter(|p| p.as_rule() == Rule::type_param)
                    {
                        let mut name = None;
                        let mut ty = None;
                        for p in param.into_inner() {
                            match p.as_rule() {
                                Rule::ident => name = Some(self.ident(&p)),
                                Rule::type_ref => ty = Some(self.type_ref(p, start)?),
                                _ => {}
                            }
                        }
                        let ty = ty.ok_or_else(|| self.malformed(start))?;
                        params.push(TypeParam { name, ty });
                    }
                }
                _ => nullable = true,
            }
        }
        Ok(TypeRef {
            name: ty_name,
            params,
            args,
            nullable,
            span: ty_span,
        })
    }

    fn entity(&self, pair: Pair<'_, Rule>) -> Result<EntityDecl, ParseError> {
        let span = self.span(&pair);
        let docs = self.docs(&pair);
        let (name, clauses) = self.header(pair)?;
        let mut decl = EntityDecl {
            name,
            meta: Meta {
                docs,
                ..Meta::default()
            },
            keys: Vec::new(),
            span,
        };
        let mut seen_key = false;
        for clause in clauses {
            if self.meta_clause(&mut decl.meta, &clause) {
                continue;
            }
            if clause.as_rule() == Rule::key_clause && !seen_key {
                seen_key = true;
                for col in clause
                    .into_inner()
                    .filter(|p| p.as_rule() == Rule::column_decl)
                {
                    decl.keys.push(self.column_decl(col)?);
                }
            }
        }
        Ok(decl)
    }

    fn view(&self, pair: Pair<'_, Rule>) -> Result<ViewDecl, ParseError> {
        let span = self.span(&pair);
        let start = span.start as usize;
        let docs = self.docs(&pair);
        let mut inner = pair.into_inner();
        let _keyword = self.next(&mut inner, start)?;
        let name = self.ident(&self.next(&mut inner, start)?);
        let _from = self.next(&mut inner, start)?;
        let source = self.ident(&self.next(&mut inner, start)?);
        let mut more_sources = Vec::new();
        let mut by = self.next(&mut inner, start)?;
        if by.as_rule() == Rule::more_sources {
            let names = by
                .clone()
                .into_inner()
                .filter(|p| p.as_rule() == Rule::ident);
            more_sources = names.map(|p| self.ident(&p)).collect();
            by = self.next(&mut inner, start)?;
        }
        let _by = by;
        let entity = self.ident(&self.next(&mut inner, start)?);
        let mut decl = ViewDecl {
            name,
            meta: Meta {
                docs,
                ..Meta::default()
            },
            source,
            more_sources,
            entity,
            key_columns: None,
            clauses: Vec::new(),
            span,
        };
        let mut seen_ttl = false;
        for clause in inner {
            if self.meta_clause(&mut decl.meta, &clause) {
                continue;
            }
            let rule = clause.as_rule();
            match rule {
                Rule::key_columns => {
                    let cols = clause.into_inner().filter(|p| p.as_rule() == Rule::ident);
                    decl.key_columns = Some(cols.map(|p| self.ident(&p)).collect());
                }
                Rule::where_clause => {
                    let mut parts = clause.into_inner().skip(1);
                    let expr = parts.next().ok_or_else(|| self.malformed(start))?;
                    decl.clauses.push(ViewClause::Where(self.expr(expr)?));
                }
                Rule::let_clause => decl.clauses.push(self.let_decl(clause)?),
                Rule::feature_clause => decl.clauses.push(match self.feature(clause)? {
                    Feature::Aggregated(f) => ViewClause::Feature(f),
                    Feature::Derived(d) => ViewClause::Derived(d),
                }),
                Rule::freshness_clause => {
                    if let Some(d) = clause.into_inner().nth(1) {
                        decl.clauses.push(ViewClause::Freshness(self.duration(&d)));
                    }
                }
                Rule::ttl_clause if !seen_ttl => {
                    seen_ttl = true;
                    if let Some(d) = clause.into_inner().nth(1) {
                        decl.clauses.push(ViewClause::Ttl(self.duration(&d)));
                    }
                }
                _ => {}
            }
        }
        Ok(decl)
    }

    fn let_decl(&self, pair: Pair<'_, Rule>) -> Result<ViewClause, ParseError> {
        let span = self.span(&pair);
        let start = span.start as usize;
        let mut inner = pair.into_inner();
        let _keyword = self.next(&mut inner, start)?;
        let name = self.ident(&self.next(&mut inner, start)?);
        let _assign = self.next(&mut inner, start)?;
        let value = self.next(&mut inner, start)?;
        if value.as_rule() == Rule::lookup {
            let names: Vec<Ident> = value
                .into_inner()
                .filter(|p| p.as_rule() == Rule::ident)
                .map(|p| self.ident(&p))
                .collect();
            let [view, feature, keys @ ..] = names.as_slice() else {
                return Err(self.malformed(start));
            };
            return Ok(ViewClause::Lookup(LookupDecl {
                name,
                view: view.clone(),
                feature: feature.clone(),
                keys: keys.to_vec(),
                span,
            }));
        }
        let expr = self.expr(value)?;
        Ok(ViewClause::Let(LetDecl { name, expr, span }))
    }

    fn feature(&self, pair: Pair<'_, Rule>) -> Result<Feature, ParseError> {
        let span = self.span(&pair);
        let start = span.start as usize;
        let docs = self.docs(&pair);
        let mut inner = pair.into_inner();
        let _keyword = self.next(&mut inner, start)?;
        let name = self.ident(&self.next(&mut inner, start)?);
        let _assign = self.next(&mut inner, start)?;
        let body = self.next(&mut inner, start)?;
        if body.as_rule() == Rule::derived_expr {
            let expr = body
                .into_inner()
                .next()
                .ok_or_else(|| self.malformed(start))?;
            return Ok(Feature::Derived(DerivedDecl {
                name,
                docs,
                expr: self.expr(expr)?,
                span,
            }));
        }
        let agg = self.agg_call(body)?;
        let mut filter = None;
        let (mut window, mut events, mut offset, mut exclusive) = (None, None, None, None);
        for part in inner {
            match part.as_rule() {
                Rule::feature_filter => {
                    let expr = part
                        .into_inner()
                        .nth(1)
                        .ok_or_else(|| self.malformed(start))?;
                    filter = Some(self.expr(expr)?);
                }
                Rule::feature_window => {
                    for p in part.into_inner() {
                        match p.as_rule() {
                            Rule::duration => window = Some(self.duration(&p)),
                            Rule::window_events => events = Some(Box::new(self.events(&p))),
                            Rule::window_cap => {
                                events = p
                                    .into_inner()
                                    .find(|e| e.as_rule() == Rule::window_events)
                                    .map(|e| Box::new(self.events(&e)))
                            }
                            Rule::window_offset => {
                                offset = p.into_inner().nth(1).map(|d| self.duration(&d))
                            }
                            Rule::window_exclusive => exclusive = Some(self.span(&p)),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(Feature::Aggregated(FeatureDecl {
            name,
            docs,
            agg,
            filter,
            window,
            events,
            offset,
            exclusive,
            span,
        }))
    }

    /// `N events`: the digits of `N`, spanning the whole phrase.
    fn events(&self, pair: &Pair<'_, Rule>) -> EventsLit {
        let text = pair
            .clone()
            .into_inner()
            .find(|p| p.as_rule() == Rule::event_count)
            .map_or_else(String::new, |p| p.as_str().to_string());
        EventsLit {
            text,
            span: self.span(pair),
        }
    }

    fn request(&self, pair: Pair<'_, Rule>) -> Result<RequestDecl, ParseError> {
        let span = self.span(&pair);
        let docs = self.docs(&pair);
        let (name, clauses) = self.header(pair)?;
        let mut decl = RequestDecl {
            name,
            meta: Meta {
                docs,
                ..Meta::default()
            },
            fields: Vec::new(),
            span,
        };
        for clause in clauses {
            if self.meta_clause(&mut decl.meta, &clause) {
                continue;
            }
            if clause.as_rule() == Rule::column_decl {
                decl.fields.push(self.column_decl(clause)?);
            }
        }
        Ok(decl)
    }

    fn agg_call(&self, pair: Pair<'_, Rule>) -> Result<AggCall, ParseError> {
        let span = self.span(&pair);
        let start = span.start as usize;
        let mut inner = pair.into_inner();
        let func = self.ident(&self.next(&mut inner, start)?);
        let mut star = None;
        let mut exprs = Vec::new();
        for part in inner {
            match part.as_rule() {
                Rule::star => star = Some(self.span(&part)),
                Rule::expr => exprs.push(self.expr(part)?),
                _ => {}
            }
        }
        let args = match star {
            Some(s) => AggArgs::Star(s),
            None => AggArgs::Exprs(exprs),
        };
        Ok(AggCall { func, args, span })
    }

    fn service(&self, pair: Pair<'_, Rule>) -> Result<ServiceDecl, ParseError> {
        let span = self.span(&pair);
        let docs = self.docs(&pair);
        let (name, clauses) = self.header(pair)?;
        let mut decl = ServiceDecl {
            name,
            meta: Meta {
                docs,
                ..Meta::default()
            },
            entries: Vec::new(),
            span,
        };
        for clause in clauses {
            if clause.as_rule() == Rule::feature_clause {
                let entry = match self.feature(clause)? {
                    Feature::Derived(d) => ServiceEntry::Derived(d),
                    Feature::Aggregated(f) => ServiceEntry::Feature(f),
                };
                decl.entries.push(entry);
                continue;
            }
            if self.meta_clause(&mut decl.meta, &clause) || clause.as_rule() != Rule::feature_ref {
                continue;
            }
            let ref_span = self.span(&clause);
            let names: Vec<Ident> = clause
                .into_inner()
                .filter(|p| p.as_rule() == Rule::ident)
                .map(|p| self.ident(&p))
                .collect();
            let mut names = names.into_iter();
            let (view, feature) = match (names.next(), names.next()) {
                (Some(view), Some(feature)) => (Some(view), feature),
                (Some(feature), None) => (None, feature),
                _ => return Err(self.malformed(ref_span.start as usize)),
            };
            decl.entries.push(ServiceEntry::Ref(FeatureRef {
                view,
                feature,
                span: ref_span,
            }));
        }
        Ok(decl)
    }
}

/// A `feature` clause as parsed: an aggregation call (with its options) or an
/// expression. A lone call such as `nullif(a, b)` parses as the former; `check`
/// tells a row function from an aggregation by its name.
enum Feature {
    Aggregated(FeatureDecl),
    Derived(DerivedDecl),
}

/// The value of a string literal as written (quotes included). The grammar admits only
/// `''` in single quotes and `\" \\ \n \t` in double quotes.
fn unescape(raw: &str) -> String {
    let mut chars = raw.chars();
    let quote = chars.next();
    let body: &str = raw.get(1..raw.len().saturating_sub(1)).unwrap_or("");
    match quote {
        Some('\'') => body.replace("''", "'"),
        Some('"') => {
            let mut out = String::with_capacity(body.len());
            let mut it = body.chars();
            while let Some(c) = it.next() {
                if c != '\\' {
                    out.push(c);
                    continue;
                }
                match it.next() {
                    Some('n') => out.push('\n'),
                    Some('r') => out.push('\r'),
                    Some('t') => out.push('\t'),
                    Some(other) => out.push(other),
                    None => {}
                }
            }
            out
        }
        _ => body.to_string(),
    }
}
