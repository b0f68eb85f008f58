//! Checking derived features (`feature f = EXPR` over other features, in views and
//! services) once every aggregation is typed: name resolution (a feature by its
//! global name or `view.feature`, a request field as `request.field`), the entity
//! rule for views, cycles, and typing by the shared expression checker.
//!
//! Derived features may read each other in any declaration order: each is checked
//! when first needed (depth first), and one met again while it is being checked
//! closes a cycle.

use std::collections::HashMap;

use super::error::CheckError;
use super::exprs::{span, Binding, Exprs, Scope};
use super::resolve::Symbols;
use super::suggest::closest;
use featc_grammar::ast::{self, Ident};
use featc_runtime::ir::{self, DataType, FeatureId, FeatureKind};

/// A derived feature waiting to be checked.
pub struct Pending {
    pub id: FeatureId,
    pub name: Ident,
    pub expr: ast::Expr,
}

/// The outcome of checking one feature: its type and nullability, or `None` when its
/// definition had errors (already reported; readers report nothing more).
type Typing = Option<(DataType, bool)>;

enum State {
    Checking,
    Done(Typing),
}

/// Checks every pending derived feature and writes its IR into `views` / `services`
/// (which hold placeholders at their ids).
pub fn check(
    pending: Vec<Pending>,
    symbols: &Symbols,
    requests: &[ir::Request],
    views: &mut [ir::View],
    services: &mut [ir::Service],
    errors: &mut Vec<CheckError>,
) {
    let mut checker = Checker {
        symbols,
        requests,
        views,
        services,
        errors,
        pending: pending.into_iter().map(|p| (p.id, p)).collect(),
        state: HashMap::new(),
        stack: Vec::new(),
    };
    let mut ids: Vec<FeatureId> = checker.pending.keys().copied().collect();
    ids.sort();
    for id in ids {
        checker.typing(id, None);
    }
}

struct Checker<'a, 's> {
    symbols: &'a Symbols<'s>,
    requests: &'a [ir::Request],
    views: &'a mut [ir::View],
    services: &'a mut [ir::Service],
    errors: &'a mut Vec<CheckError>,
    pending: HashMap<FeatureId, Pending>,
    state: HashMap<FeatureId, State>,
    /// The derived features being checked, outermost first (a cycle's path).
    stack: Vec<String>,
}

impl Checker<'_, '_> {
    fn feature(&mut self, id: FeatureId) -> &mut ir::Feature {
        match id {
            FeatureId::View { view, feature } => &mut self.views[view].features[feature],
            FeatureId::Service { service, feature } => &mut self.services[service].own[feature],
        }
    }

    /// The type of feature `id`, checking it first when it is a derived feature not
    /// yet checked; `used_at` is where another derived feature names it (for a cycle).
    fn typing(&mut self, id: FeatureId, used_at: Option<ast::Span>) -> Typing {
        if !self.pending.contains_key(&id) {
            let nullable = match id {
                FeatureId::View { view, feature } => {
                    let v = &self.views[view];
                    v.can_be_null(&v.features[feature])
                }
                FeatureId::Service { .. } => true,
            };
            return Some((self.feature(id).ty, nullable));
        }
        match self.state.get(&id) {
            Some(State::Done(t)) => return *t,
            Some(State::Checking) => {
                let name = self.feature(id).name.clone();
                let from = self.stack.iter().position(|n| *n == name).unwrap_or(0);
                self.errors.push(CheckError::DerivedCycle {
                    name,
                    span: used_at.unwrap_or(self.pending[&id].name.span),
                    path: self.stack[from..].to_vec(),
                });
                return None;
            }
            None => {}
        }
        self.state.insert(id, State::Checking);
        let typing = self.check_one(id);
        self.state.insert(id, State::Done(typing));
        typing
    }

    fn check_one(&mut self, id: FeatureId) -> Typing {
        let p = self.pending.get(&id)?;
        let (name, expr) = (p.name.clone(), p.expr.clone());
        self.stack.push(name.name.clone());
        let owner = match id {
            FeatureId::View { view, .. } => self.views[view].name.clone(),
            FeatureId::Service { service, .. } => self.services[service].name.clone(),
        };
        let mut scope = Scope::new(&owner, Vec::new());
        let mut reads: Vec<FeatureId> = Vec::new();
        let mut request_fields: Vec<(usize, usize)> = Vec::new();
        let mut refs = Vec::new();
        names_in(&expr, &mut refs);
        for r in refs {
            match r {
                Ref::Plain(ident) => {
                    let binding = match self.symbols.feature(None, ident) {
                        Ok(other) => self.read(id, other, ident.span, &mut reads),
                        Err(e) => {
                            self.errors.push(e);
                            Binding::Poisoned
                        }
                    };
                    scope.bind(&ident.name, binding);
                }
                Ref::Qualified(q, n) => {
                    let written = format!("{}.{}", q.name, n.name);
                    let (column, binding) =
                        self.qualified(id, q, n, &mut reads, &mut request_fields);
                    scope.bind_qualified(written, column, binding);
                }
            }
        }
        let checked = Exprs::new(&scope, self.errors).value(&expr, None);
        self.stack.pop();
        let checked = checked?;
        let typing = (checked.ty, checked.nullable);
        let feature = self.feature(id);
        feature.ty = checked.ty;
        feature.kind = FeatureKind::Derived(ir::Derived {
            expr: checked,
            reads,
            request_fields,
        });
        Some(typing)
    }

    /// Resolves `q.n`: a request's field (services only) or a view's feature; the
    /// IR column it becomes and its binding.
    fn qualified(
        &mut self,
        id: FeatureId,
        q: &Ident,
        n: &Ident,
        reads: &mut Vec<FeatureId>,
        request_fields: &mut Vec<(usize, usize)>,
    ) -> (String, Binding) {
        let written = format!("{}.{}", q.name, n.name);
        if let Some(r) = self.symbols.request(&q.name) {
            if let FeatureId::View { view, .. } = id {
                self.errors.push(CheckError::RequestInView {
                    request: q.name.clone(),
                    field: n.name.clone(),
                    span: q.span.to(n.span),
                    view: self.views[view].name.clone(),
                });
                return (written, Binding::Poisoned);
            }
            let request = &self.requests[r];
            return match request.fields.iter().position(|f| f.name == n.name) {
                Some(f) => {
                    if !request_fields.contains(&(r, f)) {
                        request_fields.push((r, f));
                    }
                    let field = &request.fields[f];
                    let binding = Binding::Typed {
                        ty: field.ty,
                        nullable: field.nullable,
                    };
                    (request.column_name(&field.name), binding)
                }
                None => {
                    self.errors.push(CheckError::UnknownRequestField {
                        request: q.name.clone(),
                        field: n.name.clone(),
                        span: n.span,
                        suggestion: closest(
                            &n.name,
                            request.fields.iter().map(|f| f.name.as_str()),
                        ),
                    });
                    (written, Binding::Poisoned)
                }
            };
        }
        if !self.symbols.is_view(&q.name) {
            self.errors.push(CheckError::UnknownQualifier {
                name: q.name.clone(),
                span: q.span,
                suggestion: closest(&q.name, self.symbols.qualifiers()),
            });
            return (written, Binding::Poisoned);
        }
        let found = self
            .symbols
            .view(q)
            .and_then(|v| self.symbols.feature(Some((v, q)), n));
        match found {
            Ok(other) => {
                let binding = self.read(id, other, q.span.to(n.span), reads);
                (self.feature(other).name.clone(), binding)
            }
            Err(e) => {
                self.errors.push(e);
                (written, Binding::Poisoned)
            }
        }
    }

    /// Records that `id` reads feature `other` (named at `at`) and gives its binding,
    /// after the entity rule for views' derived features.
    fn read(
        &mut self,
        id: FeatureId,
        other: FeatureId,
        at: ast::Span,
        reads: &mut Vec<FeatureId>,
    ) -> Binding {
        if let FeatureId::View { view, .. } = id {
            let entity = self.views[view].entity.0;
            let other_entity = other.view().map(|v| self.views[v].entity.0);
            if other_entity != Some(entity) {
                let entity_name = |e: usize| {
                    self.symbols
                        .entities
                        .get(e)
                        .map_or(String::new(), |d| d.name.name.clone())
                };
                let error = CheckError::DerivedEntity {
                    feature: self.feature(id).name.clone(),
                    span: at,
                    entity: entity_name(entity),
                    other: self.feature(other).name.clone(),
                    other_entity: other_entity.map(entity_name),
                };
                self.errors.push(error);
                return Binding::Poisoned;
            }
        }
        match self.typing(other, Some(at)) {
            // A list is a result only: no expression reads one (semantics.md, "Lists").
            Some((ty, _)) if ty.scalar().is_none() => {
                let error = CheckError::ListRead {
                    feature: self.feature(other).name.clone(),
                    ty: ty.name().to_string(),
                    span: at,
                };
                self.errors.push(error);
                Binding::Poisoned
            }
            Some((ty, nullable)) => {
                if !reads.contains(&other) {
                    reads.push(other);
                }
                Binding::Typed { ty, nullable }
            }
            None => Binding::Poisoned,
        }
    }
}

/// A name a derived feature's expression uses.
enum Ref<'e> {
    Plain(&'e Ident),
    Qualified(&'e Ident, &'e Ident),
}

/// The names `e` uses, each once, in order of first use.
fn names_in<'e>(e: &'e ast::Expr, out: &mut Vec<Ref<'e>>) {
    let mut stack = vec![e];
    let mut seen: Vec<String> = Vec::new();
    while let Some(e) = stack.pop() {
        match &e.kind {
            ast::ExprKind::Column(ident) => {
                if !seen.contains(&ident.name) {
                    seen.push(ident.name.clone());
                    out.push(Ref::Plain(ident));
                }
            }
            ast::ExprKind::Field { qualifier, name } => {
                let written = format!("{}.{}", qualifier.name, name.name);
                if !seen.contains(&written) {
                    seen.push(written);
                    out.push(Ref::Qualified(qualifier, name));
                }
            }
            ast::ExprKind::Int(_)
            | ast::ExprKind::Float(_)
            | ast::ExprKind::String(_)
            | ast::ExprKind::Bool(_)
            | ast::ExprKind::Null => {}
            ast::ExprKind::Unary { expr, .. } | ast::ExprKind::IsNull { expr, .. } => {
                stack.push(expr)
            }
            // `a.b.c`: what `a.b` names (the checker refuses the member).
            ast::ExprKind::Member { base, .. } => stack.push(base),
            ast::ExprKind::Binary { lhs, rhs, .. } => {
                stack.push(rhs);
                stack.push(lhs);
            }
            ast::ExprKind::InList { expr, list, .. } => {
                stack.extend(list.iter().rev());
                stack.push(expr);
            }
            ast::ExprKind::Call { args, .. } => stack.extend(args.iter().rev()),
            ast::ExprKind::Case {
                branches,
                otherwise,
            } => {
                stack.extend(otherwise.as_deref());
                for (c, v) in branches.iter().rev() {
                    stack.push(v);
                    stack.push(c);
                }
            }
        }
    }
}

/// The placeholder a derived feature holds until `check` replaces it (a project with
/// a placeholder left has errors, so it is never returned).
pub fn placeholder(name: &Ident, docs: &[String], at: ast::Span) -> ir::Feature {
    ir::Feature {
        name: name.name.clone(),
        kind: FeatureKind::Derived(ir::Derived {
            expr: ir::Expr {
                kind: ir::ExprKind::Literal(ir::Literal::Null),
                ty: DataType::Int64,
                nullable: true,
                span: span(at),
            },
            reads: Vec::new(),
            request_fields: Vec::new(),
        }),
        ty: DataType::Int64,
        meta: ir::Meta {
            docs: docs.to_vec(),
            owner: None,
            tags: Vec::new(),
        },
        span: span(at),
    }
}

/// `feature f = g(args)` parsed like an aggregation: the expression it is when `g` is
/// a row function and nothing makes it an aggregation (no `*`, `where` or `over`).
pub fn call_as_expr(decl: &ast::FeatureDecl) -> Option<ast::Expr> {
    let plain = decl.filter.is_none()
        && decl.window.is_none()
        && decl.offset.is_none()
        && decl.exclusive.is_none();
    match &decl.agg.args {
        ast::AggArgs::Exprs(args)
            if plain && super::exprs::is_row_function(&decl.agg.func.name) =>
        {
            Some(ast::Expr {
                kind: ast::ExprKind::Call {
                    func: decl.agg.func.clone(),
                    args: args.clone(),
                },
                span: decl.agg.span,
            })
        }
        _ => None,
    }
}
