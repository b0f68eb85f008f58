//! Checking `view` declarations: source and entity, key columns, filters, lets,
//! features and ttl.

use super::derived::{self, Pending};
use super::durations::{self, Zero};
use super::entities::CheckedEntity;
use super::error::CheckError;
use super::expansion::Expansion;
use super::exprs::{ast_span, span, Binding, Exprs};
use super::lookups;
use super::resolve::Symbols;
use super::sources::CheckedSource;
use super::suggest::closest;
use super::union;
use super::{features, meta};
use featc_grammar::ast::{self, ViewClause};
use featc_runtime::expr::join_balanced;
use featc_runtime::ir::{self, BinaryOp, DataType, EntityId, FeatureId, SourceId};
use std::collections::HashSet;

/// What a view's check reads of the rest of the project.
pub struct Context<'c, 'a> {
    pub symbols: &'c Symbols<'a>,
    pub sources: &'c [CheckedSource<'a>],
    pub entities: &'c [CheckedEntity<'a>],
    /// The views checked so far, by index (those a view looks up come first).
    pub checked: &'c [Option<ir::View>],
    /// The views on a cycle of lookups (reported already).
    pub cyclic: &'c HashSet<usize>,
}

/// Checks view number `index`; its derived features get placeholders and are
/// added to `pending` for `derived::check`.
pub fn check(
    decl: &ast::ViewDecl,
    index: usize,
    context: &Context,
    pending: &mut Vec<Pending>,
    errors: &mut Vec<CheckError>,
) -> ir::View {
    let Context {
        symbols,
        sources,
        entities,
        ..
    } = *context;
    let source = symbols
        .source(&decl.source)
        .map_err(|e| errors.push(e))
        .ok();
    let entity = symbols
        .entity(&decl.entity)
        .map_err(|e| errors.push(e))
        .ok();
    let more: Vec<Option<usize>> = decl
        .more_sources
        .iter()
        .map(|name| symbols.source(name).map_err(|e| errors.push(e)).ok())
        .collect();
    let src = source.and_then(|s| sources.get(s));
    let ent = entity.and_then(|e| entities.get(e));
    // Over several sources, the members each named once (an unknown one is left out;
    // its error is reported above).
    let written = std::iter::once((source, decl.source.span)).chain(
        more.iter()
            .copied()
            .zip(decl.more_sources.iter().map(|s| s.span)),
    );
    let members: Vec<union::Member> = written
        .filter_map(|(id, at)| {
            Some(union::Member {
                source: sources.get(id?)?,
                at,
            })
        })
        .collect();
    let members = if decl.more_sources.is_empty() {
        members
    } else {
        union::check(decl, members, errors)
    };
    let in_sources: Vec<&CheckedSource> = members.iter().map(|m| m.source).collect();
    let key_columns = key_columns(decl, &in_sources, ent, errors);

    let later_lets = decl
        .clauses
        .iter()
        .filter_map(|c| match c {
            ViewClause::Let(l) => Some(l.name.name.clone()),
            ViewClause::Lookup(l) => Some(l.name.name.clone()),
            _ => None,
        })
        .collect();
    let requests: Vec<String> = symbols
        .requests
        .iter()
        .map(|r| r.name.name.clone())
        .collect();
    let scope = if decl.more_sources.is_empty() {
        src.map(|s| s.scope(later_lets))
    } else {
        (!members.is_empty()).then(|| union::scope(&members, later_lets))
    };
    let mut scope = scope.map(|s| s.in_view(&decl.name.name, requests));
    let mut filters: Vec<ir::Expr> = Vec::new();
    let mut lets = Vec::new();
    let mut lookups = Vec::new();
    let mut feats = Vec::new();
    let mut ttl_us = None;
    let mut ttl_seen = false;
    let (mut freshness_us, mut freshness_seen) = (None, false);
    for clause in &decl.clauses {
        match clause {
            ViewClause::Where(e) => {
                if let Some(scope) = &scope {
                    filters.extend(Exprs::new(scope, errors).condition(e, "a `where` filter"));
                }
            }
            ViewClause::Let(l) => {
                let Some(scope) = &mut scope else { continue };
                let checked = Exprs::new(scope, errors).value(&l.expr, None);
                if let Some(e) = shadowing(&members, &lets, &l.name) {
                    errors.push(e);
                    continue;
                }
                let binding = match &checked {
                    Some(e) => Binding::Typed {
                        ty: e.ty,
                        nullable: e.nullable,
                    },
                    None => Binding::Poisoned,
                };
                scope.bind(&l.name.name, binding);
                if let Some(expr) = checked {
                    lets.push(ir::Let {
                        name: l.name.name.clone(),
                        expr,
                        span: span(l.span),
                    });
                }
            }
            ViewClause::Lookup(l) => {
                let Some(scope) = &mut scope else { continue };
                let checked = lookups::check(l, index, context, scope, errors);
                if let Some(e) = shadowing(&members, &lets, &l.name) {
                    errors.push(e);
                    continue;
                }
                let Some(lookup) = checked else {
                    scope.bind(&l.name.name, Binding::Poisoned);
                    continue;
                };
                scope.bind(
                    &l.name.name,
                    Binding::Typed {
                        ty: lookup.ty,
                        nullable: true,
                    },
                );
                lets.push(ir::Let {
                    name: l.name.name.clone(),
                    expr: ir::Expr {
                        kind: ir::ExprKind::Column(lookup.column.clone()),
                        ty: lookup.ty,
                        nullable: true,
                        span: lookup.span,
                    },
                    span: lookup.span,
                });
                lookups.push(lookup);
            }
            ViewClause::Feature(f) => match derived::call_as_expr(f) {
                Some(expr) => defer(&mut feats, pending, index, &f.name, &f.docs, f.span, expr),
                None => {
                    let feature = features::check(f, scope.as_ref(), errors);
                    if let (Some(src), Some(a)) = (src, feature.aggregate()) {
                        let at = f.window.as_ref().map_or(f.span, |w| w.span);
                        if let Some(e) = delay_error(src, a, at) {
                            errors.push(e);
                        }
                    }
                    feats.push(feature);
                }
            },
            ViewClause::Derived(d) => {
                let expr = d.expr.clone();
                defer(&mut feats, pending, index, &d.name, &d.docs, d.span, expr)
            }
            ViewClause::Freshness(d) => {
                // The first one counts, as for `ttl`.
                if !freshness_seen {
                    freshness_seen = true;
                    freshness_us = durations::micros(d, Zero::Rejected)
                        .map_err(|e| errors.push(e))
                        .ok();
                }
            }
            ViewClause::Ttl(d) => {
                // The parser may keep repeated clauses; the first one counts.
                if !ttl_seen {
                    ttl_seen = true;
                    ttl_us = durations::micros(d, Zero::Rejected)
                        .map_err(|e| errors.push(e))
                        .ok();
                }
            }
        }
    }
    let filter = conjunction(filters);
    let mut expansion = Expansion::default();
    for l in &lets {
        expansion.add_let(l, errors);
    }
    let expressions = feats
        .iter()
        .filter_map(|f: &ir::Feature| f.aggregate())
        .flat_map(|a| a.arg.iter().chain(&a.filter));
    for e in filter.iter().chain(expressions) {
        expansion.check(e, errors);
    }
    // The struct and map paths the view read become columns of each of its sources
    // that declares their struct or map column (for the others' rows they are null,
    // as any column a source lacks).
    if let Some(scope) = &scope {
        let paths = scope.take_paths();
        for m in &members {
            let declares = |c: &ir::Column| {
                c.path
                    .as_ref()
                    .is_some_and(|p| m.source.nested.iter().any(|(n, _, _)| *n == p.physical))
            };
            m.source
                .add_paths(paths.iter().filter(|c| declares(c)).cloned().collect());
        }
    }
    ir::View {
        name: decl.name.name.clone(),
        source: SourceId(source.unwrap_or(0)),
        more_sources: members
            .iter()
            .skip(1)
            .filter_map(|m| sources.iter().position(|s| std::ptr::eq(s, m.source)))
            .map(SourceId)
            .collect(),
        entity: EntityId(entity.unwrap_or(0)),
        key_columns,
        filter,
        lets,
        lookups,
        features: feats,
        ttl_us,
        freshness_us,
        meta: meta(&decl.meta),
        span: span(decl.span),
    }
}

/// The error of a let named like a column of the view's sources or an earlier let.
fn shadowing(members: &[union::Member], lets: &[ir::Let], name: &ast::Ident) -> Option<CheckError> {
    let (other, other_is_let) = members
        .iter()
        .find_map(|m| m.source.column(&name.name))
        .map(|(_, at)| (at, false))
        .or_else(|| {
            lets.iter()
                .find(|o| o.name == name.name)
                .map(|o| (ast_span(o.span), true))
        })?;
    Some(CheckError::LetShadows {
        name: name.name.clone(),
        span: name.span,
        other,
        other_is_let,
    })
}

/// Holds a derived feature's place in the view with a placeholder and leaves its
/// expression to `derived::check` (which needs every aggregation's type first).
fn defer(
    feats: &mut Vec<ir::Feature>,
    pending: &mut Vec<Pending>,
    view: usize,
    name: &ast::Ident,
    docs: &[String],
    at: ast::Span,
    expr: ast::Expr,
) {
    let id = FeatureId::View {
        view,
        feature: feats.len(),
    };
    feats.push(derived::placeholder(name, docs, at));
    pending.push(Pending {
        id,
        name: name.clone(),
        expr,
    });
}

/// The error of a windowed aggregation whose window, read under its source's delay,
/// holds no instant: with shift `s` (offset, plus 1 µs for an open end) the window
/// `(t - s - W, t - s]` keeps `(t - s - W, t - max(s, D)]`.
fn delay_error(src: &CheckedSource, a: &ir::Aggregate, at: ast::Span) -> Option<CheckError> {
    let delay = src.ir.delay_us;
    let window = a.window_us?;
    let shift = a.offset_us.saturating_add(i64::from(a.exclusive_end));
    let kept = window.saturating_sub(delay.saturating_sub(shift).max(0));
    (delay > 0 && kept <= 0).then(|| shorter_than_delay(src, "the window", at))
}

fn shorter_than_delay(src: &CheckedSource, what: &'static str, span: ast::Span) -> CheckError {
    let delay = src.decl.delay.as_ref();
    CheckError::ShorterThanDelay {
        what,
        span,
        source: src.ir.name.clone(),
        delay: delay.map_or(String::new(), |d| d.text.clone()),
        delay_span: delay.map_or(src.decl.name.span, |d| d.span),
    }
}

/// The source columns bound to the entity's keys, checked for count, and for
/// existence and type in each of `sources`. Without an explicit list the source
/// columns are named like the keys.
fn key_columns(
    decl: &ast::ViewDecl,
    sources: &[&CheckedSource],
    ent: Option<&CheckedEntity>,
    errors: &mut Vec<CheckError>,
) -> Vec<String> {
    let Some(ent) = ent.filter(|e| e.complete) else {
        return decl
            .key_columns
            .iter()
            .flatten()
            .map(|c| c.name.clone())
            .collect();
    };
    let keys = &ent.ir.keys;
    let named: Vec<(String, ast::Span)> = match &decl.key_columns {
        Some(list) => {
            if list.len() != keys.len() {
                let at = match (list.first(), list.last()) {
                    (Some(a), Some(b)) => a.span.to(b.span),
                    _ => decl.entity.span,
                };
                errors.push(CheckError::KeyCount {
                    entity: ent.ir.name.clone(),
                    expected: keys.len(),
                    found: list.len(),
                    span: at,
                    entity_span: ent.decl.name.span,
                });
                return list.iter().map(|c| c.name.clone()).collect();
            }
            list.iter().map(|c| (c.name.clone(), c.span)).collect()
        }
        None => keys
            .iter()
            .map(|k| (k.name.clone(), decl.entity.span))
            .collect(),
    };
    for src in sources {
        for ((name, at), (key, key_decl)) in named.iter().zip(keys.iter().zip(&ent.decl.keys)) {
            match src.column(name) {
                None => {
                    let candidates = src.ir.columns.iter().map(|c| c.name.as_str());
                    errors.push(CheckError::UnknownKeyColumn {
                        name: name.clone(),
                        span: *at,
                        source: src.ir.name.clone(),
                        entity: ent.ir.name.clone(),
                        suggestion: closest(name, candidates),
                    });
                }
                Some((Binding::Typed { ty, .. }, column_span)) if ty != key.ty => {
                    errors.push(CheckError::KeyType {
                        entity: ent.ir.name.clone(),
                        key: key.name.clone(),
                        key_ty: key.ty,
                        key_span: key_decl.ty.span,
                        column: name.clone(),
                        column_ty: ty,
                        span: *at,
                        column_span,
                    })
                }
                Some(_) => {}
            }
        }
    }
    named.into_iter().map(|(n, _)| n).collect()
}

/// All `where` clauses combined with `and` (a balanced tree: a view may have
/// thousands of clauses).
fn conjunction(filters: Vec<ir::Expr>) -> Option<ir::Expr> {
    join_balanced(filters, &|lhs: ir::Expr, rhs: ir::Expr| {
        let sp = ir::SourceSpan {
            file: lhs.span.file,
            start: lhs.span.start.min(rhs.span.start),
            end: lhs.span.end.max(rhs.span.end),
        };
        let nullable = lhs.nullable || rhs.nullable;
        ir::Expr {
            kind: ir::ExprKind::Binary {
                op: BinaryOp::And,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            },
            ty: DataType::Bool,
            nullable,
            span: sp,
        }
    })
}
