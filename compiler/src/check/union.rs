//! Checking a view over several sources (`from payments, logins`): each source once,
//! one type per column name (one shape per struct or map column), one delay, and the
//! scope of the union's columns (semantics.md, "Views over several sources").

use super::error::{CheckError, SourceSide};
use super::exprs::{Binding, Scope};
use super::nested::Shape;
use super::sources::CheckedSource;
use featc_grammar::ast;
use featc_runtime::ir::DataType;

/// A source of the view as written: its checked source and the name's span in the
/// view's `from`.
pub struct Member<'c, 'a> {
    pub source: &'c CheckedSource<'a>,
    pub at: ast::Span,
}

/// Reports a source named twice, columns of one name with different types, and
/// different delays among `members` (in `from` order). Returns the members kept: a
/// source named again is dropped, so that later checks see each source once.
pub fn check<'c, 'a>(
    view: &ast::ViewDecl,
    members: Vec<Member<'c, 'a>>,
    errors: &mut Vec<CheckError>,
) -> Vec<Member<'c, 'a>> {
    let mut kept: Vec<Member<'c, 'a>> = Vec::with_capacity(members.len());
    for m in members {
        if let Some(first) = kept.iter().find(|k| k.source.ir.name == m.source.ir.name) {
            errors.push(CheckError::SourceTwice {
                view: view.name.name.clone(),
                source: m.source.ir.name.clone(),
                span: m.at,
                first: first.at,
            });
            continue;
        }
        kept.push(m);
    }
    for (i, m) in kept.iter().enumerate() {
        for (name, ty, span) in typed_columns(m.source) {
            let earlier = kept[..i].iter().find_map(|o| {
                typed_columns(o.source)
                    .into_iter()
                    .find(|(n, _, _)| *n == name)
                    .map(|(_, t, s)| (o, t, s))
            });
            if let Some((other, other_ty, other_span)) = earlier {
                if other_ty != ty {
                    let side = |m: &Member, ty: String, span| SourceSide {
                        source: m.source.ir.name.clone(),
                        detail: ty,
                        span,
                    };
                    errors.push(CheckError::SourcesColumnType {
                        view: view.name.name.clone(),
                        column: name.to_string(),
                        sides: Box::new([side(m, ty, span), side(other, other_ty, other_span)]),
                    });
                }
            }
        }
    }
    if let Some(first) = kept.first() {
        let delay = first.source.ir.delay_us;
        if let Some(m) = kept.iter().find(|m| m.source.ir.delay_us != delay) {
            let side = |m: &Member| SourceSide {
                source: m.source.ir.name.clone(),
                detail: delay_text(m.source),
                span: m.at,
            };
            errors.push(CheckError::SourcesDelay {
                view: view.name.name.clone(),
                sides: Box::new([side(m), side(first)]),
            });
        }
    }
    kept
}

/// The scope of the union's rows: every column of every source, typed as its
/// sources declare it, nullable where some source lacks it or declares it nullable.
/// Poisoned (an invalid declared type) wherever one source's is.
pub fn scope(members: &[Member<'_, '_>], later_lets: Vec<String>) -> Scope {
    let names: Vec<&str> = members.iter().map(|m| m.source.ir.name.as_str()).collect();
    let mut scope = Scope::new(&names.join(", "), later_lets);
    let mut bound: Vec<&str> = Vec::new();
    // Struct and map columns, read by paths only: the first source's shape (`check`
    // refuses another), nullable where some source lacks it or declares it nullable.
    let mut nested: Vec<(String, Shape, bool)> = Vec::new();
    for m in members {
        for (name, shape, nullable) in &m.source.nested {
            if nested.iter().any(|(n, _, _)| n == name) {
                continue;
            }
            let in_every = members
                .iter()
                .all(|o| o.source.nested.iter().any(|(n, _, _)| n == name));
            let any_nullable = members.iter().any(|o| {
                o.source
                    .nested
                    .iter()
                    .any(|(n, _, null)| n == name && *null)
            });
            nested.push((
                name.clone(),
                shape.clone(),
                *nullable || any_nullable || !in_every,
            ));
        }
    }
    for m in members {
        let columns = m.source.decl.time.iter().map(|t| t.name.as_str());
        let columns = columns.chain(m.source.decl.columns.iter().map(|c| c.name.name.as_str()));
        for name in columns {
            if bound.contains(&name) || nested.iter().any(|(n, _, _)| n == name) {
                continue;
            }
            bound.push(name);
            let mut binding = None;
            let mut in_every = true;
            for o in members {
                match o.source.column(name) {
                    None => in_every = false,
                    Some((b, _)) => binding = merge(binding, b),
                }
            }
            let binding = match binding {
                Some(Binding::Typed { ty, nullable }) => Binding::Typed {
                    ty,
                    nullable: nullable || !in_every,
                },
                _ => Binding::Poisoned,
            };
            scope.bind(name, binding);
        }
    }
    scope.with_nested(nested)
}

/// Two sources' bindings of one name: nullable if either is; poisoned if either is
/// (the type mismatch, if any, is reported by `check`).
fn merge(acc: Option<Binding>, b: Binding) -> Option<Binding> {
    Some(match (acc, b) {
        (None, b) => b,
        (Some(Binding::Typed { ty, nullable }), Binding::Typed { nullable: n, .. }) => {
            Binding::Typed {
                ty,
                nullable: nullable || n,
            }
        }
        _ => Binding::Poisoned,
    })
}

/// A source's columns with a valid type (the time column first) and their spans.
/// The columns of `source` with their types as messages name them (a struct or map
/// column as written, without its `?`: two sources' must be the same shape).
fn typed_columns<'a>(source: &'a CheckedSource<'_>) -> Vec<(&'a str, String, ast::Span)> {
    let time = source.decl.time.iter().map(|t| {
        (
            t.name.as_str(),
            DataType::Timestamp.name().to_string(),
            t.span,
        )
    });
    let columns = source.ir.columns.iter().filter_map(|c| {
        let decl = source.decl.columns.iter().find(|d| d.name.name == c.name)?;
        Some((c.name.as_str(), c.ty.name().to_string(), decl.name.span))
    });
    let nested = source.decl.columns.iter().filter_map(|d| {
        source.nested.iter().find(|(n, _, _)| *n == d.name.name)?;
        let written = featc_grammar::type_text(&ast::TypeRef {
            nullable: false,
            ..d.ty.clone()
        });
        Some((d.name.name.as_str(), written, d.name.span))
    });
    time.chain(columns).chain(nested).collect()
}

fn delay_text(source: &CheckedSource<'_>) -> String {
    source
        .decl
        .delay
        .as_ref()
        .map_or_else(|| "none".to_string(), |d| d.text.clone())
}
