//! Paths into struct and map columns: `address.city`, `address.geo.lat`,
//! `attrs['color']`, `size(attrs)`, `contains(attrs, 'k')`. Each becomes a read of a
//! flat column of the source named by the path as written (`ir::ColumnPath`), with
//! the leaf's type, nullable when a step is (a map lookup always is). A whole struct
//! or map is never a value.

use super::{span, Exprs, Typed};
use crate::check::error::CheckError;
use crate::check::nested::Shape;
use crate::check::suggest::closest;
use featc_grammar::ast;
use featc_runtime::ir::{self, ColumnPath, DataType, ExprKind, PathStep};

/// A path resolved so far: where it starts and goes, what it reaches, whether a step
/// may be null.
pub(super) struct Reached {
    path: ColumnPath,
    shape: Shape,
    nullable: bool,
}

impl Exprs<'_> {
    /// `e` read as a path into a struct or map column: `None` when `e` does not start
    /// at one (it is no path), `Some(None)` after an error (reported).
    pub(super) fn reach(&mut self, e: &ast::Expr) -> Option<Option<Reached>> {
        match &e.kind {
            ast::ExprKind::Column(ident) => self.root(ident).map(Some),
            ast::ExprKind::Field { qualifier, name } => {
                let base = self.root(qualifier)?;
                Some(self.field(base, name))
            }
            ast::ExprKind::Member { base, name } => {
                let base = self.reach(base)?;
                Some(base.and_then(|b| self.field(b, name)))
            }
            _ => None,
        }
    }

    fn root(&self, ident: &ast::Ident) -> Option<Reached> {
        let (name, shape, nullable) = self
            .scope
            .nested
            .iter()
            .find(|(n, _, _)| *n == ident.name)?;
        Some(Reached {
            path: ColumnPath {
                physical: name.clone(),
                steps: Vec::new(),
            },
            shape: shape.clone(),
            nullable: *nullable,
        })
    }

    fn field(&mut self, base: Reached, name: &ast::Ident) -> Option<Reached> {
        let parent = base.path.written();
        let fields = match &base.shape {
            Shape::Struct(fields) => fields,
            Shape::Map { .. } => {
                return self.fail(CheckError::UnknownField {
                    field: name.name.clone(),
                    parent,
                    span: name.span,
                    suggestion: Some(format!(
                        "{}['{}']",
                        base.path.written(),
                        name.name.replace('\'', "''")
                    )),
                })
            }
            Shape::Value(_) => {
                return self.fail(CheckError::UnknownField {
                    field: name.name.clone(),
                    parent,
                    span: name.span,
                    suggestion: None,
                })
            }
        };
        let Some(f) = fields.iter().find(|f| f.name == name.name) else {
            let suggestion = closest(&name.name, fields.iter().map(|f| f.name.as_str()));
            return self.fail(CheckError::UnknownField {
                field: name.name.clone(),
                parent,
                span: name.span,
                suggestion,
            });
        };
        let mut path = base.path;
        path.steps.push(PathStep::Field(f.name.clone()));
        Some(Reached {
            path,
            shape: f.shape.clone(),
            nullable: base.nullable || f.nullable,
        })
    }

    /// A path used as a value: its flat column when it reaches a scalar or a list,
    /// else an error (a whole struct or map is no value).
    pub(super) fn path_value(&mut self, reached: Reached, at: ast::Span) -> Option<Typed> {
        match reached.shape {
            Shape::Value(ty) => Some(self.path_column(reached.path, ty, reached.nullable, at)),
            other => self.fail(CheckError::NestedValue {
                column: reached.path.written(),
                kind: other.kind(),
                span: at,
            }),
        }
    }

    /// `element_at(m, 'k')` (`m['k']`), `size(m)` and `contains(m, 'k')` of a map
    /// column `m`: `None` when `func` is none of these or its first argument no map.
    pub(super) fn map_access(
        &mut self,
        func: &ast::Ident,
        args: &[ast::Expr],
        at: ast::Span,
    ) -> Option<Option<Typed>> {
        let arity = match func.name.as_str() {
            "size" => 1,
            "contains" | "element_at" => 2,
            _ => return None,
        };
        let first = args.first().filter(|_| args.len() == arity)?;
        let reached = match self.reach(first)? {
            Some(r) if matches!(r.shape, Shape::Map { .. }) => r,
            Some(_) => return None,
            None => return Some(None),
        };
        let Shape::Map { value, .. } = reached.shape else {
            return None;
        };
        let key = match args.get(1).map(|k| &k.kind) {
            None => None,
            Some(ast::ExprKind::String(k)) => Some(k.clone()),
            Some(_) => {
                let span = args.get(1).map_or(at, |k| k.span);
                return Some(self.fail(CheckError::MapKeyNotLiteral {
                    map: reached.path.written(),
                    span,
                }));
            }
        };
        let (step, ty, nullable) = match (func.name.as_str(), key) {
            ("size", _) => (PathStep::Size, DataType::Int64, reached.nullable),
            ("contains", Some(k)) => (PathStep::HasKey(k), DataType::Bool, reached.nullable),
            // A missing key gives null: a lookup is always nullable.
            (_, Some(k)) => (PathStep::Key(k), value, true),
            (_, None) => return None,
        };
        let mut path = reached.path;
        path.steps.push(step);
        Some(Some(self.path_column(path, ty, nullable, at)))
    }

    fn path_column(
        &mut self,
        path: ColumnPath,
        ty: DataType,
        nullable: bool,
        at: ast::Span,
    ) -> Typed {
        let name = path.written();
        let sp = span(at);
        let mut paths = self.scope.paths.borrow_mut();
        if !paths.iter().any(|c| c.name == name) {
            paths.push(ir::Column {
                name: name.clone(),
                ty,
                nullable,
                span: sp,
                path: Some(path),
            });
        }
        Typed {
            expr: ir::Expr {
                kind: ExprKind::Column(name),
                ty,
                nullable,
                span: sp,
            },
            known: true,
        }
    }
}
