//! Checking `service` declarations: every entry names a feature, none twice; the
//! service's own derived features get placeholders for `derived::check`.

use super::derived::{self, Pending};
use super::error::{CheckError, NameKind};
use super::exprs::span;
use super::meta;
use super::resolve::Symbols;
use featc_grammar::ast;
use featc_runtime::ir;

pub fn check(
    decl: &ast::ServiceDecl,
    index: usize,
    symbols: &Symbols,
    pending: &mut Vec<Pending>,
    errors: &mut Vec<CheckError>,
) -> ir::Service {
    if decl.entries.is_empty() {
        errors.push(CheckError::Empty {
            kind: NameKind::Service,
            name: decl.name.name.clone(),
            span: decl.name.span,
        });
    }
    let mut features: Vec<(ir::FeatureId, ast::Span)> = Vec::new();
    let mut own: Vec<ir::Feature> = Vec::new();
    for entry in &decl.entries {
        let (name, docs, at, expr) = match entry {
            ast::ServiceEntry::Ref(r) => {
                reference(decl, r, symbols, &mut features, errors);
                continue;
            }
            ast::ServiceEntry::Derived(d) => (&d.name, &d.docs, d.span, Some(d.expr.clone())),
            ast::ServiceEntry::Feature(f) => {
                let expr = derived::call_as_expr(f);
                if expr.is_none() {
                    errors.push(CheckError::ServiceAggregation {
                        service: decl.name.name.clone(),
                        span: f.agg.func.span,
                    });
                }
                (&f.name, &f.docs, f.span, expr)
            }
        };
        let id = ir::FeatureId::Service {
            service: index,
            feature: own.len(),
        };
        own.push(derived::placeholder(name, docs, at));
        features.push((id, name.span));
        if let Some(expr) = expr {
            pending.push(Pending {
                id,
                name: name.clone(),
                expr,
            });
        }
    }
    ir::Service {
        name: decl.name.name.clone(),
        features: features.into_iter().map(|(id, _)| id).collect(),
        own,
        meta: meta(&decl.meta),
        span: span(decl.span),
    }
}

/// A `[view.]feature` entry: the feature, unless it was listed already.
fn reference(
    decl: &ast::ServiceDecl,
    entry: &ast::FeatureRef,
    symbols: &Symbols,
    features: &mut Vec<(ir::FeatureId, ast::Span)>,
    errors: &mut Vec<CheckError>,
) {
    {
        // Exactly the written name (`view.feature` or `feature`), whatever the
        // entry's own span holds.
        let at = entry
            .view
            .as_ref()
            .map_or(entry.feature.span, |v| v.span.to(entry.feature.span));
        let id = match &entry.view {
            Some(view) => symbols
                .view(view)
                .and_then(|v| symbols.feature(Some((v, view)), &entry.feature)),
            None => symbols.feature(None, &entry.feature),
        };
        match id {
            Ok(id) => match features.iter().find(|(f, _)| *f == id) {
                Some((_, first)) => errors.push(CheckError::ServiceDuplicate {
                    service: decl.name.name.clone(),
                    feature: entry.feature.name.clone(),
                    span: at,
                    first: *first,
                }),
                None => features.push((id, at)),
            },
            Err(e) => errors.push(e),
        }
    }
}
