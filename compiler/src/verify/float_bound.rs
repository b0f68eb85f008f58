//! docs/scale-out.md's bound on how far an engine's float64 fold (`sum`, `avg`,
//! `var_pop`, `stddev_pop`, summed in the engine's order) may be from featc's exact
//! value: computed per window from the window's `Σ|x|`, `Σx²` and count, which the
//! reference folds exactly when they are added to the project as features of the
//! same view (same window, offset, end and filters).

use crate::ir::{
    AggKind, BinaryOp, DataType, Expr, ExprKind, Feature, FeatureId, FeatureKind, Function, Meta,
    Project,
};

/// The auxiliary features one float fold's bound is computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    pub feature: String,
    pub agg: AggKind,
    /// `Σ|x|` as float64.
    pub abs_sum: String,
    /// `Σx²` as float64.
    pub square_sum: String,
    /// The count of the window's values.
    pub count: String,
}

/// Whether `id` is a float fold: a float64 `sum`, or an `avg`, `var_pop` or
/// `stddev_pop`.
pub fn is_float_fold(project: &Project, id: FeatureId) -> bool {
    let feature = project.feature(id);
    match &feature.kind {
        FeatureKind::Aggregate(a) => match a.agg {
            AggKind::Sum => feature.ty == DataType::Float64,
            AggKind::Avg | AggKind::VarPop | AggKind::StddevPop => true,
            _ => false,
        },
        FeatureKind::Derived(_) => false,
    }
}

fn float_of(e: &Expr) -> Expr {
    match e.ty {
        DataType::Float64 => e.clone(),
        _ => Expr {
            kind: ExprKind::Cast(Box::new(e.clone())),
            ty: DataType::Float64,
            nullable: e.nullable,
            span: e.span,
        },
    }
}

/// Adds the auxiliary features of every float fold among `ids` to `project` (named
/// `FEATURE__abs`, `FEATURE__square`, `FEATURE__count`); their ids, and the bounds.
pub fn with_bounds(project: &mut Project, ids: &[FeatureId]) -> (Vec<FeatureId>, Vec<Bound>) {
    let mut extra = Vec::new();
    let mut bounds = Vec::new();
    for id in ids {
        let FeatureId::View { view, .. } = *id else {
            continue;
        };
        if !is_float_fold(project, *id) {
            continue;
        }
        let feature = project.feature(*id).clone();
        let FeatureKind::Aggregate(a) = &feature.kind else {
            continue;
        };
        let Some(arg) = a.arg.as_ref() else {
            continue;
        };
        let x = float_of(arg);
        let node = |kind: ExprKind| Expr {
            kind,
            ty: DataType::Float64,
            nullable: x.nullable,
            span: x.span,
        };
        let abs = node(ExprKind::Call {
            func: Function::Abs,
            args: vec![x.clone()],
        });
        let square = node(ExprKind::Binary {
            op: BinaryOp::Mul,
            lhs: Box::new(x.clone()),
            rhs: Box::new(x.clone()),
        });
        let mut add = |suffix: &str, agg: AggKind, arg: Expr, ty: DataType| {
            let name = format!("{}__{suffix}", feature.name);
            let mut aggregate = a.clone();
            aggregate.agg = agg;
            aggregate.arg = Some(arg);
            let Some(target) = project.views.get_mut(view) else {
                return name;
            };
            target.features.push(Feature {
                name: name.clone(),
                kind: FeatureKind::Aggregate(aggregate),
                ty,
                meta: Meta::default(),
                span: feature.span,
            });
            extra.push(FeatureId::View {
                view,
                feature: target.features.len() - 1,
            });
            name
        };
        bounds.push(Bound {
            feature: feature.name.clone(),
            agg: a.agg,
            abs_sum: add("abs", AggKind::Sum, abs, DataType::Float64),
            square_sum: add("square", AggKind::Sum, square, DataType::Float64),
            count: add("count", AggKind::Count, arg.clone(), DataType::Int64),
        });
    }
    (extra, bounds)
}

/// The bound on `agg`'s difference for `n` values with `Σ|x| = a` and `Σx² = q`,
/// around featc's value `v`.
pub fn allowed(agg: AggKind, n: f64, a: f64, q: f64, v: f64) -> f64 {
    let u = f64::EPSILON / 2.0;
    let gamma = |k: f64| k * u / (1.0 - k * u);
    match agg {
        AggKind::Sum => gamma(n + 1.0) * a,
        AggKind::Avg => gamma(n + 1.0) * a / n + 2.0 * u * v.abs(),
        AggKind::VarPop => 16.0 * (n + 2.0) * u * q / n,
        _ => (16.0 * (n + 2.0) * u * q / n).sqrt() + 2.0 * u * v.abs(),
    }
}

/// Whether an engine's `x` is within the bound of featc's `y` (window of `n` values,
/// `Σ|x| = a`, `Σx² = q`): equal, both NaN, within the bound, or the sums overflow
/// float64 (the engine may then give ±inf or NaN where featc is finite).
pub fn within(agg: AggKind, x: f64, y: f64, n: f64, a: f64, q: f64) -> bool {
    x == y
        || (x.is_nan() && y.is_nan())
        || (!y.is_nan() && (!a.is_finite() || !q.is_finite()))
        || (x - y).abs() <= allowed(agg, n, a, q, y) + 1e-300
}
