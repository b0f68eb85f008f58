//! Checking `service` declarations: every entry names a feature, none twice.

use super::error::{CheckError, NameKind};
use super::exprs::span;
use super::meta;
use super::resolve::Symbols;
use featc_grammar::ast;
use featc_runtime::ir;

pub fn check(
    decl: &ast::ServiceDecl,
    symbols: &Symbols,
    errors: &mut Vec<CheckError>,
) -> ir::Service {
    if decl.features.is_empty() {
        errors.push(CheckError::Empty {
            kind: NameKind::Service,
            name: decl.name.name.clone(),
            span: decl.name.span,
        });
    }
    let mut features: Vec<(ir::FeatureId, ast::Span)> = Vec::new();
    for entry in &decl.features {
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
    ir::Service {
        name: decl.name.name.clone(),
        features: features.into_iter().map(|(id, _)| id).collect(),
        meta: meta(&decl.meta),
        span: span(decl.span),
    }
}
