//! Checking `request` declarations: field names and types, and that a field name
//! shared by two requests means one thing.

use super::error::{CheckError, NameKind};
use super::exprs::{ast_span, span};
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
            Ok(ir::DataType::List(_)) => errors.push(CheckError::ListNotScalar {
                what: format!("field `{}` of request `{}`", f.name.name, decl.name.name),
                span: f.ty.span,
            }),
            Ok(ty) => fields.push(ir::Column {
                name: f.name.name.clone(),
                ty,
                nullable: f.ty.nullable,
                span: span(f.span),
                path: None,
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

/// A field name two requests share is one spine column (training sets) and one
/// `request_context` key (reads): both declarations must give it one type.
pub fn check_shared_fields(requests: &[ir::Request], errors: &mut Vec<CheckError>) {
    for (i, r) in requests.iter().enumerate() {
        for f in &r.fields {
            let first = requests[..i]
                .iter()
                .find_map(|o| Some((o, o.fields.iter().find(|g| g.name == f.name)?)));
            if let Some((other, g)) = first {
                if (g.ty, g.nullable) != (f.ty, f.nullable) {
                    errors.push(CheckError::RequestFieldConflict {
                        field: f.name.clone(),
                        request: r.name.clone(),
                        other: other.name.clone(),
                        span: ast_span(f.span),
                        first: ast_span(g.span),
                    });
                }
            }
        }
    }
}
