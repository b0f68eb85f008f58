//! featc's row functions (`ir::Function`, semantics.md "Functions") as DataFusion
//! scalar functions, and their lowering from `ExprKind::Call`.
//!
//! DataFusion has functions of most of these names, but not with featc's meaning
//! (its `abs` wraps on `i64::MIN`, its `sqrt(-1)` is NaN, its `least` orders floats
//! without featc's total order, its `substr` counts differently on edges), so each
//! one is featc's own, evaluated by the batch plan and, through `expr::evaluate`, by
//! the streaming path: both compute with this code. One file per family: `math`
//! (abs, sqrt, ln, exp, pow, floor, ceil, round), `compare` (least, greatest,
//! nullif), `strings`, `geo` (haversine), `lists` (size, element_at, contains of a
//! list) and `vector` (dot, cosine, l2_distance). The reference interpreter has its own
//! implementation, written from semantics.md, and the equivalence tests compare them.

pub mod compare;
pub mod geo;
pub mod lists;
pub mod math;
pub mod strings;
pub mod vector;

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType as ArrowType, Float64Type, Int64Type};
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{
    ColumnarValue, Expr as DfExpr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::{to_type, ExprError};
use crate::ir::{DataType, Function};
use crate::row::types::arrow_type;

/// The argument types `func` computes on, given the checked argument types and the
/// call's result type: an int64 where it wants a float64 is cast (`check` inserts
/// those casts; the lowering does it too, so a lowered call never needs DataFusion's
/// coercion).
pub(super) fn parameter_types(
    func: Function,
    args: &[DataType],
    result: DataType,
) -> Vec<DataType> {
    use Function::*;
    args.iter()
        .map(|&t| match func {
            Sqrt | Ln | Exp | Pow | Haversine => DataType::Float64,
            Least | Greatest | Nullif => result,
            _ => t,
        })
        .collect()
}

/// `func(args)` as a DataFusion expression; `args` are the lowered arguments with
/// their IR types, `result` the call's type.
pub fn lower(
    func: Function,
    args: Vec<(DfExpr, DataType)>,
    result: DataType,
) -> Result<DfExpr, ExprError> {
    let types: Vec<DataType> = args.iter().map(|(_, t)| *t).collect();
    let params = parameter_types(func, &types, result);
    let lowered: Vec<DfExpr> = args
        .into_iter()
        .zip(&params)
        .map(|((e, from), &to)| to_type(e, from, to))
        .collect();
    let udf = FunctionUdf::new(func, params)?;
    if udf.result != result {
        return Err(ExprError::Plan(format!(
            "`{}` of these arguments is {}, not {}",
            func.name(),
            udf.result.name(),
            result.name()
        )));
    }
    Ok(DfExpr::ScalarFunction(ScalarFunction::new_udf(
        Arc::new(ScalarUDF::new_from_impl(udf)),
        lowered,
    )))
}

/// Whether `func` of arguments of types `args` can be an error: only int64 `abs`
/// (`abs(i64::MIN)` overflows). Its arguments are looked at by the caller.
pub fn can_fail(func: Function, args: &[DataType]) -> bool {
    func == Function::Abs && args == [DataType::Int64]
}

/// One row function at one list of argument types.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FunctionUdf {
    func: Function,
    /// `featc_` and the function's name: what plans print.
    name: String,
    args: Vec<DataType>,
    result: DataType,
    signature: Signature,
}

impl FunctionUdf {
    /// `func` at argument types `args` (after promotion); an error when it does not
    /// take them.
    pub fn new(func: Function, args: Vec<DataType>) -> Result<FunctionUdf, ExprError> {
        let Some(result) = func.result_type(&args) else {
            let names: Vec<String> = args.iter().map(|t| t.name().into_owned()).collect();
            return Err(ExprError::Plan(format!(
                "`{}` does not take ({})",
                func.name(),
                names.join(", ")
            )));
        };
        let arrow: Vec<ArrowType> = args.iter().map(|t| arrow_type(*t)).collect();
        Ok(FunctionUdf {
            func,
            name: format!("featc_{}", func.name()),
            args,
            result,
            signature: Signature::exact(arrow, Volatility::Immutable),
        })
    }
}

impl ScalarUDFImpl for FunctionUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[ArrowType]) -> Result<ArrowType> {
        Ok(arrow_type(self.result))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        if arrays.len() != self.args.len() {
            return exec_err!(
                "{}: {} arguments, expected {}",
                self.name,
                arrays.len(),
                self.args.len()
            );
        }
        use Function::*;
        let out = match self.func {
            Abs | Sqrt | Ln | Exp | Pow | Floor | Ceil | Round => math::invoke(self.func, &arrays)?,
            Least | Greatest | Nullif => compare::invoke(self.func, &arrays)?,
            Contains if self.args.first().is_some_and(|t| lists::is_list(*t)) => {
                lists::invoke(self.func, &arrays)?
            }
            Lower | Upper | Length | StartsWith | EndsWith | Contains | Concat | Substr => {
                strings::invoke(self.func, &arrays)?
            }
            Haversine => geo::invoke(&arrays)?,
            Size | ElementAt => lists::invoke(self.func, &arrays)?,
            Dot | Cosine | L2Distance => vector::invoke(self.func, &arrays)?,
        };
        Ok(ColumnarValue::Array(out))
    }
}

/// Argument `i` as int64 values.
fn ints(args: &[ArrayRef], i: usize) -> Result<&datafusion::arrow::array::Int64Array> {
    match args.get(i).and_then(|a| a.as_primitive_opt::<Int64Type>()) {
        Some(a) => Ok(a),
        None => exec_err!("featc function: argument {i} is not int64"),
    }
}

/// Argument `i` as float64 values.
fn floats(args: &[ArrayRef], i: usize) -> Result<&datafusion::arrow::array::Float64Array> {
    match args
        .get(i)
        .and_then(|a| a.as_primitive_opt::<Float64Type>())
    {
        Some(a) => Ok(a),
        None => exec_err!("featc function: argument {i} is not float64"),
    }
}

/// Argument `i` as strings.
fn strs(args: &[ArrayRef], i: usize) -> Result<&datafusion::arrow::array::StringArray> {
    match args.get(i).and_then(|a| a.as_string_opt::<i32>()) {
        Some(a) => Ok(a),
        None => exec_err!("featc function: argument {i} is not a string"),
    }
}

/// The number of rows of a call's arguments (all have it).
fn rows(args: &[ArrayRef]) -> usize {
    args.first().map_or(0, |a| a.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{evaluate, to_datafusion};
    use crate::ir::{BinaryOp, Expr, ExprKind, Literal};
    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::arrow::record_batch::RecordBatch;

    #[test]
    fn every_function_has_a_udf_at_its_documented_types() {
        use DataType::*;
        let floats = List(crate::ir::ListType {
            item: crate::ir::Scalar::Float64,
            counted: false,
        });
        for func in Function::ALL {
            let args: Vec<DataType> = match func {
                Function::Size => vec![floats],
                Function::ElementAt => vec![floats, Int64],
                Function::Dot | Function::Cosine | Function::L2Distance => vec![floats; 2],
                _ => match func.arity() {
                    crate::ir::Arity::Exactly(n) | crate::ir::Arity::AtLeast(n) => {
                        let t = match func {
                            Function::Abs | Function::Floor | Function::Ceil | Function::Round => {
                                Int64
                            }
                            Function::Least | Function::Greatest | Function::Nullif => Timestamp,
                            Function::Sqrt
                            | Function::Ln
                            | Function::Exp
                            | Function::Pow
                            | Function::Haversine => Float64,
                            _ => String,
                        };
                        vec![t; n]
                    }
                    crate::ir::Arity::Between(..) => vec![String, Int64, Int64],
                },
            };
            let udf = FunctionUdf::new(func, args).expect("documented types");
            assert_eq!(udf.name(), format!("featc_{}", func.name()));
            assert_ne!(func.arity().describe(), "another number of", "{func:?}");
            assert_eq!(Function::by_name(func.name()), Some(func));
        }
        assert!(FunctionUdf::new(Function::Lower, vec![Int64]).is_err());
        assert!(FunctionUdf::new(Function::Least, vec![Int64, Float64]).is_err());
        assert!(FunctionUdf::new(Function::Concat, vec![]).is_err());
        assert!(FunctionUdf::new(Function::Contains, vec![floats, Float64]).is_ok());
        assert!(FunctionUdf::new(Function::Contains, vec![floats, String]).is_err());
        assert!(FunctionUdf::new(Function::Size, vec![String]).is_err());
    }

    #[test]
    fn only_int_abs_can_fail() {
        assert!(can_fail(Function::Abs, &[DataType::Int64]));
        assert!(!can_fail(Function::Abs, &[DataType::Float64]));
        assert!(!can_fail(Function::Round, &[DataType::Int64]));
    }

    fn node(kind: ExprKind, ty: DataType) -> Expr {
        Expr {
            kind,
            ty,
            nullable: true,
            span: Default::default(),
        }
    }

    /// `true or abs(n) < 0`.
    fn true_or_abs() -> Expr {
        let n = node(ExprKind::Column("n".into()), DataType::Int64);
        let abs = node(
            ExprKind::Call {
                func: Function::Abs,
                args: vec![n],
            },
            DataType::Int64,
        );
        let zero = node(ExprKind::Literal(Literal::Int64(0)), DataType::Int64);
        let lt = ExprKind::Binary {
            op: BinaryOp::Lt,
            lhs: Box::new(abs),
            rhs: Box::new(zero),
        };
        let yes = node(ExprKind::Literal(Literal::Bool(true)), DataType::Bool);
        let or = ExprKind::Binary {
            op: BinaryOp::Or,
            lhs: Box::new(yes),
            rhs: Box::new(node(lt, DataType::Bool)),
        };
        node(or, DataType::Bool)
    }

    /// Like `+`'s overflow (`expr::logic`): an `or` that an int `abs` can fail in
    /// evaluates both sides, so `abs(i64::MIN)` fails whatever else is in the batch.
    #[test]
    fn an_abs_overflow_in_a_deciding_or_fails_whatever_the_batch() {
        let e = true_or_abs();
        let lowered = to_datafusion(&e).expect("lowers").to_string();
        assert!(lowered.starts_with("featc_or("), "{lowered}");
        assert!(lowered.contains("featc_abs(n)"), "{lowered}");
        let schema = Schema::new(vec![Field::new("n", ArrowType::Int64, true)]);
        let batch = |values: Vec<i64>| {
            let column = Arc::new(Int64Array::from(values));
            RecordBatch::try_new(Arc::new(schema.clone()), vec![column]).expect("a valid batch")
        };
        for rows in [vec![i64::MIN], vec![1, i64::MIN], vec![i64::MIN, -3, 7]] {
            let got = evaluate(&e, &batch(rows.clone()));
            assert!(got.is_err(), "{rows:?}: {got:?}");
        }
        assert!(evaluate(&e, &batch(vec![1, i64::MIN + 1])).is_ok());
    }
}
