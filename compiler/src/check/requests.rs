//! Checking `request` declarations: field names and types.

use super::error::{CheckError, NameKind};
use super::exprs::span;
use super::{meta, types};
use featc_grammar::ast;
use featc_runtime::ir;

pub fn check(decl: &ast::RequestDecl, errors: &mut Vec<CheckError>) -> ir::Request {
    if decl.fields.is_empty() {
        errors.push(CheckError::Empty {
            kind: NameKind::Request,
            name: decl.name.name.clone(),
            span: decl.name.span,
        });
    }
    let mut fields: Vec<ir::Column> = Vec::new();
    for (i, f) in decl.fields.iter().enumerate() {
        if let Some(first) = decl.fields[..i].iter().find(|o| o.name.name == f.name.name) {
            errors.push(CheckError::Duplicate {
                kind: NameKind::Column,
                name: f.name.name.clone(),
                span: f.name.span,
                first: first.name.span,
            });
            continue;
        }
        match types::data_type(&f.ty) {
            Ok(ty) => fields.push(ir::Column {
                name: f.name.name.clone(),
                ty,
                nullable: f.ty.nullable,
                span: span(f.span),
            }),
            Err(e) => errors.push(e),
        }
    }
    ir::Request {
        name: decl.name.name.clone(),
        fields,
        meta: meta(&decl.meta),
        span: span(decl.span),
    }
}
