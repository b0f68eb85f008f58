//! IR row expressions as DataFusion expressions, and their evaluation on Arrow batches.
//!
//! The batch plan puts `to_datafusion`'s output in a `Projection`; the streaming path
//! calls `evaluate` (or `compile` once and `PhysicalExpr::evaluate` per batch) on the
//! same IR. Both go through DataFusion's `create_physical_expr` without the logical
//! optimizer's expression simplifier, so the two paths compute identical values.
//!
//! Mapping (semantics.md "Row transforms" and `ir::BinaryOp`'s docs):
//! - int64 `+ - *`, unary `-`, `/` and `%` are featc scalar functions (`arith`),
//!   because DataFusion wraps on overflow and errors or gives inf/NaN on a zero
//!   divisor; float `+ - *` and float negation are DataFusion's (plain IEEE);
//! - `/` casts both sides to float64; int64/float64 mixes are cast to float64 here
//!   even when `check` did not insert the `Cast`, so a lowered expression never needs
//!   DataFusion's type coercion;
//! - `and`/`or` whose operands can fail (int64 arithmetic) are featc functions that
//!   evaluate both sides (`logic`), so an overflow is an error whatever the batch;
//! - other `and`/`or`, `not`, other comparisons, `is [not] null`, `[not] in (...)` and `case` are
//!   DataFusion's (a float `in` as its SQL definition, an `or` of `=`), which follow SQL three-valued logic (a null `case` condition is
//!   false); `coalesce` is lowered to a `case` so no function registry is needed;
//! - float comparisons are featc scalar functions (`float_compare`): `-0.0 = +0.0` and
//!   every NaN one value above +inf, whatever its sign or payload, where Arrow's
//!   kernels order by `f64::total_cmp` (a negative NaN, what `inf - inf` gives on
//!   x86, below -inf and unequal to a positive one);
//! - row functions (`abs`, `least`, `substr`, ...) are featc scalar functions
//!   (`functions`), one per function and argument types, never DataFusion's
//!   same-named built-ins, whose edge cases differ;
//! - lets are already inlined (`plan::GroupPlan`'s expressions name source columns
//!   only).
//!
//! `scalar` compiles the same IR, node by node as `lower` does, into a program over one
//! row of `Value`s that computes these values without Arrow (online reads of derived
//! features); `runtime/tests/expr_scalar.rs` checks that it does, bit for bit.
//!
//! Column references are unqualified names; the schema an expression is evaluated
//! against must have a column of that name with the type `row::types::arrow_type`
//! gives.

pub mod arith;
pub mod decimal;
pub mod derived;
pub mod float_compare;
pub mod functions;
pub mod logic;
pub mod mask;
pub mod scalar;
pub mod slots;
pub mod stack;

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType as ArrowType, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::{Column, DFSchema, ScalarValue};
use datafusion::logical_expr::execution_props::ExecutionProps;
use datafusion::logical_expr::expr::{Case, InList, ScalarFunction};
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{binary_expr, cast, Expr as DfExpr, Operator};
use datafusion::physical_expr::PhysicalExpr;

use crate::ir::{BinaryOp, DataType, Expr, ExprKind, Literal};
use crate::row::types::UTC;
use arith::ArithOp;
use decimal::DecimalOp;
use float_compare::CmpOp;

/// Why an expression could not be lowered or evaluated.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprError {
    /// DataFusion rejected the lowered expression (an internal error).
    Plan(String),
    /// Evaluation failed on data, e.g. an int64 overflow.
    Eval(String),
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExprError::Plan(m) => write!(f, "cannot plan expression: {m}"),
            ExprError::Eval(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for ExprError {}

/// `not in` lists up to this long lower to `<>` comparisons joined by `and`
/// (DataFusion's `THRESHOLD_INLINE_INLIST`).
const INLINE_IN_LIST: usize = 3;

/// Whether `x [not] in (list)` (its items promoted to `common`) is lowered to its SQL
/// definition, comparisons joined by `or` (`<>` joined by `and` for `not in`), rather
/// than DataFusion's `InList`: for floats (`InList` tests identity, so `-0.0` would not
/// be in `(0.0)`), for short `not in` lists (faster, and printed unambiguously), and
/// whenever an item is not a constant. DataFusion's `InList` takes a list for constants
/// when it evaluates on an empty batch to single values, which a `case` (an `if`, a
/// `coalesce`) does whatever its rows would give, and it stops at the first item that
/// matches, where semantics.md evaluates every item (so an overflow in a later one is
/// an error). `expr::scalar` makes the same choice through this function.
pub(crate) fn in_list_as_comparisons(common: DataType, negated: bool, list: &[Expr]) -> bool {
    fn constant(e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Literal(_) => true,
            ExprKind::Cast(inner) => constant(inner),
            _ => false,
        }
    }
    common == DataType::Float64
        || (negated && list.len() <= INLINE_IN_LIST)
        || !list.iter().all(constant)
}

/// Lowers `expr` (lets inlined) to a DataFusion expression over unqualified column
/// names.
pub fn to_datafusion(expr: &Expr) -> Result<DfExpr, ExprError> {
    lower(expr)
}

/// Plans `expr` against `schema` once, for repeated evaluation on batches of that
/// schema. No simplification is applied, so the batch plan and the streaming path
/// evaluate exactly the same expression tree.
pub fn compile(expr: &Expr, schema: &Schema) -> Result<Arc<dyn PhysicalExpr>, ExprError> {
    stack::with_stack_for(stack::depth(expr), || {
        compile_datafusion(&to_datafusion(expr)?, schema)
    })
}

/// Plans an already lowered expression against `schema` (see `compile`).
pub fn compile_datafusion(
    expr: &DfExpr,
    schema: &Schema,
) -> Result<Arc<dyn PhysicalExpr>, ExprError> {
    let df_schema =
        DFSchema::try_from(schema.clone()).map_err(|e| ExprError::Plan(e.to_string()))?;
    datafusion::physical_expr::create_physical_expr(
        expr,
        &df_schema,
        &ExecutionProps::new(),
        &PhysicalPlanningContext::default(),
    )
    .map_err(|e| ExprError::Plan(e.to_string()))
}

/// Evaluates `expr` on every row of `batch`, giving an array of `batch.num_rows()`
/// values of type `arrow_type(expr.ty)`.
pub fn evaluate(expr: &Expr, batch: &RecordBatch) -> Result<ArrayRef, ExprError> {
    let physical = compile(expr, &batch.schema())?;
    stack::with_stack_for(stack::depth(expr), || evaluate_compiled(&physical, batch))
}

/// Evaluates a compiled expression on `batch` (always an array, never a scalar).
pub fn evaluate_compiled(
    physical: &Arc<dyn PhysicalExpr>,
    batch: &RecordBatch,
) -> Result<ArrayRef, ExprError> {
    physical
        .evaluate(batch)
        .and_then(|v| v.into_array(batch.num_rows()))
        .map_err(|e| match e {
            // featc's own functions say what failed: no "Execution error:" prefix.
            datafusion::error::DataFusionError::Execution(m) => ExprError::Eval(m),
            e => ExprError::Eval(e.strip_backtrace()),
        })
}

#[recursive::recursive]
fn lower(expr: &Expr) -> Result<DfExpr, ExprError> {
    let sub = lower;
    Ok(match &expr.kind {
        ExprKind::Column(name) => DfExpr::Column(Column::new_unqualified(name.clone())),
        ExprKind::Literal(lit) => DfExpr::Literal(literal(lit, expr.ty), None),
        ExprKind::Cast(inner) if expr.ty.is_decimal() => {
            decimal::call(DecimalOp::Widen, vec![(sub(inner)?, inner.ty)], expr.ty)
        }
        ExprKind::Cast(inner) if inner.ty.is_decimal() => {
            decimal::call(DecimalOp::ToFloat, vec![(sub(inner)?, inner.ty)], expr.ty)
        }
        ExprKind::Cast(inner) => to_type(sub(inner)?, inner.ty, expr.ty),
        ExprKind::Not(inner) => DfExpr::Not(Box::new(sub(inner)?)),
        ExprKind::Neg(inner) => {
            let e = to_type(sub(inner)?, inner.ty, expr.ty);
            match expr.ty {
                DataType::Int64 => call(ArithOp::NegInt, vec![e]),
                _ => DfExpr::Negative(Box::new(e)),
            }
        }
        ExprKind::Binary { op, lhs, rhs } => {
            let (l, r) = (sub(lhs)?, sub(rhs)?);
            let eager =
                matches!(op, BinaryOp::And | BinaryOp::Or) && (can_fail(lhs) || can_fail(rhs));
            if lhs.ty.is_decimal() || rhs.ty.is_decimal() {
                return decimal_binary(*op, (l, lhs.ty), (r, rhs.ty), expr.ty);
            }
            match eager {
                true => logic_call(*op == BinaryOp::And, l, r),
                false => binary(*op, l, lhs.ty, r, rhs.ty),
            }
        }
        ExprKind::IsNull {
            expr: inner,
            negated,
        } => {
            let e = Box::new(sub(inner)?);
            if *negated {
                DfExpr::IsNotNull(e)
            } else {
                DfExpr::IsNull(e)
            }
        }
        ExprKind::InList {
            expr: inner,
            list,
            negated,
        } => {
            let common = list.iter().fold(inner.ty, |t, i| promote(t, i.ty));
            let e = to_type(sub(inner)?, inner.ty, common);
            let items = list
                .iter()
                .map(|i| Ok(to_type(sub(i)?, i.ty, common)))
                .collect::<Result<Vec<_>, ExprError>>()?;
            if in_list_as_comparisons(common, *negated, list) {
                // SQL defines `x in (a, b)` as `x = a or x = b`. DataFusion's float
                // `InList` tests identity (`-0.0` is not in `(0.0)`), featc's `=`
                // does not, so floats take the definition itself. So do short `not in`
                // lists, which compare faster than `InList` hashes every row
                // (DataFusion's simplifier inlines them the same way), in De Morgan's
                // form `x <> a and x <> b`: equal under three-valued logic
                // (`<>` is `=` negated, zeros and NaN included), and
                // unlike `not (x = a or x = b)` it prints unambiguously (plans print
                // `not` without parentheses, so a short positive list under a `not`
                // would read wrong; it stays an `InList`).
                let (cmp, join) = match negated {
                    true => (CmpOp::NotEq, Operator::And),
                    false => (CmpOp::Eq, Operator::Or),
                };
                // A balanced tree: a list of thousands of literals must not become a
                // chain thousands deep (every pass over a plan recurses).
                let compared = items
                    .into_iter()
                    .map(|i| comparison(cmp, e.clone(), i, common));
                let eager = can_fail(inner) || list.iter().any(can_fail);
                let all = join_balanced(compared.collect(), &|a, b| match eager {
                    true => logic_call(join == Operator::And, a, b),
                    false => binary_expr(a, join, b),
                });
                match all {
                    Some(all) => all,
                    None => DfExpr::InList(InList::new(Box::new(e), Vec::new(), *negated)),
                }
            } else {
                DfExpr::InList(InList::new(Box::new(e), items, *negated))
            }
        }
        ExprKind::Coalesce(args) => {
            let mut lowered = args
                .iter()
                .map(|a| Ok(to_type(sub(a)?, a.ty, expr.ty)))
                .collect::<Result<Vec<_>, ExprError>>()?;
            match lowered.pop() {
                None => DfExpr::Literal(literal(&Literal::Null, expr.ty), None),
                Some(last) if lowered.is_empty() => last,
                Some(last) => DfExpr::Case(Case {
                    expr: None,
                    when_then_expr: lowered
                        .into_iter()
                        .map(|a| {
                            (
                                Box::new(DfExpr::IsNotNull(Box::new(a.clone()))),
                                Box::new(a),
                            )
                        })
                        .collect(),
                    else_expr: Some(Box::new(last)),
                }),
            }
        }
        ExprKind::Call { func, args } => {
            let lowered = args
                .iter()
                .map(|a| Ok((sub(a)?, a.ty)))
                .collect::<Result<Vec<_>, ExprError>>()?;
            functions::lower(*func, lowered, expr.ty)?
        }
        ExprKind::Case {
            branches,
            otherwise,
        } => {
            let when_then_expr = branches
                .iter()
                .map(|(c, v)| Ok((Box::new(sub(c)?), Box::new(to_type(sub(v)?, v.ty, expr.ty)))))
                .collect::<Result<Vec<_>, ExprError>>()?;
            let else_expr = match otherwise {
                Some(o) => Some(Box::new(to_type(sub(o)?, o.ty, expr.ty))),
                None => None,
            };
            DfExpr::Case(Case {
                expr: None,
                when_then_expr,
                else_expr,
            })
        }
    })
}

/// Whether evaluating `expr` can be an error: it contains int64 arithmetic (`+ - * %`
/// or unary `-`) or int64 `abs`, which fail on overflow. Nothing else featc lowers
/// can fail. Walks with an explicit stack: expressions are as deep as `check` allows.
fn can_fail(expr: &Expr) -> bool {
    let mut stack = vec![expr];
    while let Some(e) = stack.pop() {
        match &e.kind {
            ExprKind::Column(_) | ExprKind::Literal(_) => {}
            ExprKind::Neg(_) if e.ty == DataType::Int64 => return true,
            ExprKind::Cast(inner) | ExprKind::Not(inner) | ExprKind::Neg(inner) => {
                stack.push(inner)
            }
            ExprKind::IsNull { expr, .. } => stack.push(expr),
            ExprKind::Binary { op, lhs, rhs } => {
                let int = lhs.ty == DataType::Int64 && rhs.ty == DataType::Int64;
                use BinaryOp::*;
                if (int || e.ty.is_decimal()) && matches!(op, Add | Sub | Mul | Mod) {
                    return true;
                }
                stack.push(lhs);
                stack.push(rhs);
            }
            ExprKind::InList { expr, list, .. } => {
                stack.push(expr);
                stack.extend(list);
            }
            ExprKind::Coalesce(args) => stack.extend(args),
            ExprKind::Call { func, args } => {
                let types: Vec<DataType> = args.iter().map(|a| a.ty).collect();
                if functions::can_fail(*func, &types) {
                    return true;
                }
                stack.extend(args);
            }
            ExprKind::Case {
                branches,
                otherwise,
            } => {
                for (c, v) in branches {
                    stack.push(c);
                    stack.push(v);
                }
                stack.extend(otherwise.as_deref());
            }
        }
    }
    false
}

/// `items` joined pairwise by `join` as a balanced tree, in order: depth
/// `ceil(log2(n))` where a fold would be `n` deep. `None` for no item. For associative
/// joins (`and`, `or`) the value is the fold's.
pub fn join_balanced<T>(mut items: Vec<T>, join: &impl Fn(T, T) -> T) -> Option<T> {
    if items.len() <= 1 {
        return items.pop();
    }
    let right = items.split_off(items.len().div_ceil(2));
    let lhs = join_balanced(items, join)?;
    let rhs = join_balanced(right, join)?;
    Some(join(lhs, rhs))
}

/// A binary operator with a decimal operand (`check`'s rules): exact `+ - *`, `/` on
/// the operands' nearest floats (already cast by `check`), and comparisons exactly,
/// both sides widened to one `Decimal256` scale (76 digits hold any two decimals
/// and int64s at the larger scale, so the cast is exact).
fn decimal_binary(
    op: BinaryOp,
    l: (DfExpr, DataType),
    r: (DfExpr, DataType),
    ty: DataType,
) -> Result<DfExpr, ExprError> {
    use BinaryOp::*;
    let dop = match op {
        Add => Some(DecimalOp::Add),
        Sub => Some(DecimalOp::Sub),
        Mul => Some(DecimalOp::Mul),
        _ => None,
    };
    if let (Some(dop), true) = (dop, ty.is_decimal()) {
        return Ok(decimal::call(dop, vec![l, r], ty));
    }
    if !op.is_comparison() {
        return Err(ExprError::Plan(format!(
            "`{}` of {} and {}",
            op.symbol(),
            l.1.name(),
            r.1.name()
        )));
    }
    let scale = [l.1, r.1]
        .iter()
        .filter_map(|t| t.decimal_parts())
        .map(|(_, s)| s)
        .max()
        .unwrap_or(0);
    let wide = ArrowType::Decimal256(76, scale as i8);
    Ok(binary(
        op,
        cast(l.0, wide.clone()),
        DataType::Bool,
        cast(r.0, wide),
        DataType::Bool,
    ))
}

fn binary(op: BinaryOp, l: DfExpr, lt: DataType, r: DfExpr, rt: DataType) -> DfExpr {
    use BinaryOp::*;
    let common = promote(lt, rt);
    let (l, r) = match op {
        Div => (
            to_type(l, lt, DataType::Float64),
            to_type(r, rt, DataType::Float64),
        ),
        And | Or => (l, r),
        _ => (to_type(l, lt, common), to_type(r, rt, common)),
    };
    let int = common == DataType::Int64;
    match op {
        Or => binary_expr(l, Operator::Or, r),
        And => binary_expr(l, Operator::And, r),
        Eq => comparison(CmpOp::Eq, l, r, common),
        NotEq => comparison(CmpOp::NotEq, l, r, common),
        Lt => comparison(CmpOp::Lt, l, r, common),
        LtEq => comparison(CmpOp::LtEq, l, r, common),
        Gt => comparison(CmpOp::Gt, l, r, common),
        GtEq => comparison(CmpOp::GtEq, l, r, common),
        Add if int => call(ArithOp::AddInt, vec![l, r]),
        Sub if int => call(ArithOp::SubInt, vec![l, r]),
        Mul if int => call(ArithOp::MulInt, vec![l, r]),
        Add => binary_expr(l, Operator::Plus, r),
        Sub => binary_expr(l, Operator::Minus, r),
        Mul => binary_expr(l, Operator::Multiply, r),
        Div => call(ArithOp::Div, vec![l, r]),
        Mod if int => call(ArithOp::ModInt, vec![l, r]),
        Mod => call(ArithOp::ModFloat, vec![l, r]),
    }
}

/// `l op r`, both of type `common`: featc's function for float64s (`float_compare`),
/// DataFusion's operator for every other type.
fn comparison(op: CmpOp, l: DfExpr, r: DfExpr, common: DataType) -> DfExpr {
    if common == DataType::Float64 {
        let udf = float_compare::udf(op);
        return DfExpr::ScalarFunction(ScalarFunction::new_udf(udf, vec![l, r]));
    }
    let op = match op {
        CmpOp::Eq => Operator::Eq,
        CmpOp::NotEq => Operator::NotEq,
        CmpOp::Lt => Operator::Lt,
        CmpOp::LtEq => Operator::LtEq,
        CmpOp::Gt => Operator::Gt,
        CmpOp::GtEq => Operator::GtEq,
    };
    binary_expr(l, op, r)
}

/// The type two operands meet at: float64 when one is float64 and the other int64.
fn promote(a: DataType, b: DataType) -> DataType {
    match (a, b) {
        (DataType::Int64, DataType::Float64) | (DataType::Float64, DataType::Int64) => {
            DataType::Float64
        }
        _ => a,
    }
}

/// Casts an int64 expression to float64 when `to` asks for it; otherwise unchanged.
fn to_type(e: DfExpr, from: DataType, to: DataType) -> DfExpr {
    if from == DataType::Int64 && to == DataType::Float64 {
        cast(e, ArrowType::Float64)
    } else {
        e
    }
}

/// `l and r` (`is_and`) or `l or r`, both sides evaluated on every row.
fn logic_call(is_and: bool, l: DfExpr, r: DfExpr) -> DfExpr {
    DfExpr::ScalarFunction(ScalarFunction::new_udf(logic::udf(is_and), vec![l, r]))
}

fn call(op: ArithOp, args: Vec<DfExpr>) -> DfExpr {
    DfExpr::ScalarFunction(ScalarFunction::new_udf(arith::udf(op), args))
}

fn literal(lit: &Literal, ty: DataType) -> ScalarValue {
    match lit {
        Literal::Int64(v) if ty == DataType::Float64 => ScalarValue::Float64(Some(*v as f64)),
        Literal::Int64(v) => ScalarValue::Int64(Some(*v)),
        Literal::Float64(v) => ScalarValue::Float64(Some(*v)),
        Literal::String(s) => ScalarValue::Utf8(Some(s.clone())),
        Literal::Bool(b) => ScalarValue::Boolean(Some(*b)),
        Literal::Decimal(v) => {
            let (precision, scale) = ty.decimal_parts().unwrap_or((38, 0));
            ScalarValue::Decimal128(Some(*v), precision, scale as i8)
        }
        Literal::Null => match ty {
            DataType::Int64 => ScalarValue::Int64(None),
            DataType::Float64 => ScalarValue::Float64(None),
            DataType::String => ScalarValue::Utf8(None),
            DataType::Bool => ScalarValue::Boolean(None),
            DataType::Timestamp => ScalarValue::TimestampMicrosecond(None, Some(UTC.into())),
            DataType::Date => ScalarValue::Date32(None),
            DataType::Decimal { precision, scale } => {
                ScalarValue::Decimal128(None, precision, scale as i8)
            }
            // No expression has a list type (`check` refuses them).
            DataType::List(_) => ScalarValue::Null,
        },
    }
}
