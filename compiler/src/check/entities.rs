//! Checking `entity` declarations: at least one key, typed, never nullable.

use super::error::{CheckError, NameKind};
use super::exprs::span;
use super::{meta, types};
use featc_grammar::ast;
use featc_runtime::ir;

/// A checked entity; `complete` is false when a key was dropped for an error, so
/// that views do not report follow-up key mismatches.
pub struct CheckedEntity<'a> {
    pub ir: ir::Entity,
    pub decl: &'a ast::EntityDecl,
    pub complete: bool,
}

pub fn check<'a>(decl: &'a ast::EntityDecl, errors: &mut Vec<CheckError>) -> CheckedEntity<'a> {
    let before = errors.len();
    if decl.keys.is_empty() {
        errors.push(CheckError::Empty {
            kind: NameKind::Entity,
            name: decl.name.name.clone(),
            span: decl.name.span,
        });
    }
    let mut keys = Vec::new();
    for (i, k) in decl.keys.iter().enumerate() {
        if let Some(first) = decl.keys[..i].iter().find(|o| o.name.name == k.name.name) {
            errors.push(CheckError::Duplicate {
                kind: NameKind::Key,
                name: k.name.name.clone(),
                span: k.name.span,
                first: first.name.span,
            });
            continue;
        }
        if k.ty.nullable {
            errors.push(CheckError::NullableKey {
                entity: decl.name.name.clone(),
                key: k.name.name.clone(),
                span: k.ty.span,
            });
        }
        match types::data_type(&k.ty) {
            Ok(ir::DataType::List(_)) => errors.push(CheckError::ListNotScalar {
                what: format!("key `{}` of entity `{}`", k.name.name, decl.name.name),
                span: k.ty.span,
            }),
            // Several texts spell one decimal (`1.5`, `1.50`): a key must not tell
            // them apart, and no store client sends one reliably (semantics.md).
            Ok(ty) if ty.is_decimal() => errors.push(CheckError::DecimalKey {
                entity: decl.name.name.clone(),
                key: k.name.name.clone(),
                ty,
                span: k.ty.span,
            }),
            Ok(ty) => keys.push(ir::Column {
                name: k.name.name.clone(),
                ty,
                nullable: false,
                span: span(k.span),
                path: None,
            }),
            Err(e) => errors.push(e),
        }
    }
    CheckedEntity {
        ir: ir::Entity {
            name: decl.name.name.clone(),
            keys,
            meta: meta(&decl.meta),
            span: span(decl.span),
        },
        decl,
        complete: errors.len() == before,
    }
}
