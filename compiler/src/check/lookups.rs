//! Checking as-of lookups (`let risk = merchants.risk at merchant_id`, semantics.md
//! "As-of lookups"): the order views are checked in (a looked-up view before the
//! views that look it up, so the feature's type is known), cycles (E0053), and each
//! lookup's feature and key columns.

use std::collections::HashSet;

use super::error::CheckError;
use super::exprs::{span, Binding, Scope};
use super::resolve::Symbols;
use super::views::Context;
use featc_grammar::ast::{self, ViewClause};
use featc_runtime::ir::{self, DataType, FeatureId};

/// The views in the order to check them (every view after the views it looks up),
/// and the views on a cycle of lookups (each reported once, E0053, at its first
/// lookup on the cycle; its lookups on the cycle are then left out).
pub fn order(symbols: &Symbols, errors: &mut Vec<CheckError>) -> (Vec<usize>, HashSet<usize>) {
    let views = &symbols.views;
    let targets: Vec<Vec<(usize, &ast::LookupDecl)>> = views
        .iter()
        .map(|v| {
            v.clauses
                .iter()
                .filter_map(|c| match c {
                    ViewClause::Lookup(l) => Some(l),
                    _ => None,
                })
                .filter_map(|l| Some((symbols.view(&l.view).ok()?, l)))
                .collect()
        })
        .collect();
    // Depth-first, in declaration order; a view met again while on the path closes
    // a cycle.
    let mut order = Vec::with_capacity(views.len());
    let mut state = vec![0u8; views.len()]; // 0 new, 1 on the path, 2 done
    let mut cyclic = HashSet::new();
    for start in 0..views.len() {
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        while let Some(&mut (v, ref mut next)) = stack.last_mut() {
            if *next == 0 && state[v] == 2 {
                stack.pop();
                continue;
            }
            state[v] = 1;
            if let Some(&(target, lookup)) = targets[v].get(*next) {
                *next += 1;
                match state[target] {
                    0 => stack.push((target, 0)),
                    1 => {
                        let path: Vec<usize> = stack.iter().map(|(x, _)| *x).collect();
                        let from = path.iter().position(|&x| x == target).unwrap_or(0);
                        let on_cycle = &path[from..];
                        if on_cycle.iter().all(|x| !cyclic.contains(x)) {
                            let names = on_cycle.iter().chain([&target]);
                            errors.push(CheckError::LookupCycle {
                                view: views[v].name.name.clone(),
                                looked_up: views[target].name.name.clone(),
                                span: lookup.span,
                                path: names.map(|&x| views[x].name.name.clone()).collect(),
                            });
                        }
                        cyclic.extend(on_cycle.iter().copied());
                    }
                    _ => {}
                }
            } else {
                state[v] = 2;
                order.push(v);
                stack.pop();
            }
        }
    }
    (order, cyclic)
}

/// Checks lookup `decl` of view `view` over the view's `scope` (its sources' columns);
/// `context.checked` holds the views checked so far. `None` after reporting an error.
pub fn check(
    decl: &ast::LookupDecl,
    view: usize,
    context: &Context,
    scope: &Scope,
    errors: &mut Vec<CheckError>,
) -> Option<ir::Lookup> {
    let Context {
        symbols,
        checked,
        entities,
        cyclic,
        ..
    } = *context;
    let target = symbols.view(&decl.view).map_err(|e| errors.push(e)).ok()?;
    let id = symbols
        .feature(Some((target, &decl.view)), &decl.feature)
        .map_err(|e| errors.push(e))
        .ok()?;
    if cyclic.contains(&view) && cyclic.contains(&target) {
        return None;
    }
    // Views are checked after those they look up, so the target is there (unless it
    // is on a cycle, reported already).
    let looked_up = checked.get(target)?.as_ref()?;
    let FeatureId::View { feature, .. } = id else {
        return None;
    };
    let f = looked_up.features.get(feature)?;
    let refuse = |reason: &'static str| CheckError::LookupTarget {
        feature: f.name.clone(),
        span: decl.feature.span,
        reason,
    };
    match (&f.kind, f.ty) {
        (ir::FeatureKind::Derived(_), _) => {
            errors.push(refuse("a derived feature (look up the features it reads)"));
            return None;
        }
        (_, DataType::List(_)) => {
            errors.push(refuse("a list (no expression reads a list)"));
            return None;
        }
        _ => {}
    }
    let entity = entities.get(looked_up.entity.0)?;
    let keys = &entity.ir.keys;
    if decl.keys.len() != keys.len() {
        let at = match (decl.keys.first(), decl.keys.last()) {
            (Some(a), Some(b)) => a.span.to(b.span),
            _ => decl.span,
        };
        errors.push(CheckError::KeyCount {
            entity: entity.ir.name.clone(),
            expected: keys.len(),
            found: decl.keys.len(),
            span: at,
            entity_span: entity.decl.name.span,
        });
        return None;
    }
    let mut ok = true;
    for ((column, key), key_decl) in decl.keys.iter().zip(keys).zip(&entity.decl.keys) {
        match scope.lookup(&column.name) {
            None => {
                ok = false;
                errors.push(CheckError::UnknownColumn {
                    name: column.name.clone(),
                    span: column.span,
                    source: scope.source.clone(),
                    suggestion: None,
                    declared_later: false,
                });
            }
            Some(Binding::Typed { ty, .. }) if ty != key.ty => {
                ok = false;
                errors.push(CheckError::KeyType {
                    entity: entity.ir.name.clone(),
                    key: key.name.clone(),
                    key_ty: key.ty,
                    key_span: key_decl.ty.span,
                    column: column.name.clone(),
                    column_ty: ty,
                    span: column.span,
                    column_span: column.span,
                });
            }
            Some(_) => {}
        }
    }
    if !ok {
        return None;
    }
    let keys: Vec<String> = decl.keys.iter().map(|k| k.name.clone()).collect();
    Some(ir::Lookup {
        name: decl.name.name.clone(),
        column: ir::Lookup::column_of(&looked_up.name, &f.name, &keys),
        feature: id,
        keys,
        ty: f.ty,
        span: span(decl.span),
    })
}
