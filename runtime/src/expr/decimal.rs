//! Decimal expressions as DataFusion scalar functions (semantics.md "Decimals"):
//! exact `+ - *` whose result does not fit its type is an error (as an int64
//! overflow is), exact widening to a decimal type, and the nearest float64. The
//! arithmetic is `row::decimal`'s, so every path computes it with one code.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Decimal128Array, Float64Array};
use datafusion::arrow::datatypes::{DataType as ArrowType, Decimal128Type};
use datafusion::common::{exec_err, DataFusionError, Result};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{
    ColumnarValue, Expr as DfExpr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use crate::ir::DataType;
use crate::row::decimal::{add, format_decimal, mul, to_decimal, to_f64};

/// What one decimal function computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecimalOp {
    Add,
    Sub,
    Mul,
    /// To the result type exactly (a wider decimal, or an int64 as a decimal).
    Widen,
    /// To the nearest float64.
    ToFloat,
}

impl DecimalOp {
    fn name(self) -> &'static str {
        match self {
            DecimalOp::Add => "featc_decimal_add",
            DecimalOp::Sub => "featc_decimal_sub",
            DecimalOp::Mul => "featc_decimal_mul",
            DecimalOp::Widen => "featc_decimal",
            DecimalOp::ToFloat => "featc_float64",
        }
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct DecimalUdf {
    op: DecimalOp,
    result: DataType,
    signature: Signature,
}

/// `op(args)` of result type `result`: the operands already lowered, decimals or
/// int64s (an int64 is widened to `decimal(19, 0)` first).
pub fn call(op: DecimalOp, args: Vec<(DfExpr, DataType)>, result: DataType) -> DfExpr {
    let args = args
        .into_iter()
        .map(|(e, t)| match (op, t) {
            (DecimalOp::Add | DecimalOp::Sub | DecimalOp::Mul, DataType::Int64) => call(
                DecimalOp::Widen,
                vec![(e, t)],
                DataType::Decimal {
                    precision: 19,
                    scale: 0,
                },
            ),
            _ => e,
        })
        .collect();
    let udf = DecimalUdf {
        op,
        result,
        signature: Signature::variadic_any(Volatility::Immutable),
    };
    DfExpr::ScalarFunction(ScalarFunction::new_udf(
        Arc::new(ScalarUDF::new_from_impl(udf)),
        args,
    ))
}

fn decimals(arrays: &[ArrayRef], i: usize) -> Result<(&Decimal128Array, u8)> {
    match arrays
        .get(i)
        .map(|a| (a.as_primitive_opt::<Decimal128Type>(), a.data_type()))
    {
        Some((Some(a), ArrowType::Decimal128(_, s))) => Ok((a, *s as u8)),
        _ => exec_err!("featc decimal: argument {i} is not a decimal"),
    }
}

impl ScalarUDFImpl for DecimalUdf {
    fn name(&self) -> &str {
        self.op.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[ArrowType]) -> Result<ArrowType> {
        Ok(crate::row::types::arrow_type(self.result))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let out: ArrayRef = match (self.op, self.result) {
            (DecimalOp::ToFloat, _) => {
                let (a, s) = decimals(&arrays, 0)?;
                Arc::new(
                    a.iter()
                        .map(|v| v.map(|v| to_f64(v, s)))
                        .collect::<Float64Array>(),
                )
            }
            (DecimalOp::Widen, DataType::Decimal { precision, scale }) => {
                let Some(a) = arrays.first() else {
                    return exec_err!("featc decimal: no argument");
                };
                to_decimal(a, precision, scale)
                    .map_err(|e| DataFusionError::Execution(format!("decimal overflow: {e}")))?
            }
            (op, DataType::Decimal { precision, scale }) => {
                let ((a, sa), (b, sb)) = (decimals(&arrays, 0)?, decimals(&arrays, 1)?);
                let mut out = Vec::with_capacity(a.len());
                for (x, y) in a.iter().zip(b.iter()) {
                    let (Some(x), Some(y)) = (x, y) else {
                        out.push(None);
                        continue;
                    };
                    let r = match op {
                        DecimalOp::Mul => mul(x, y, precision),
                        _ => add(x, sa, y, sb, op == DecimalOp::Sub, precision, scale),
                    };
                    out.push(Some(r.ok_or_else(|| {
                        let symbol = match op {
                            DecimalOp::Add => "+",
                            DecimalOp::Sub => "-",
                            _ => "*",
                        };
                        DataFusionError::Execution(format!(
                            "decimal overflow: {} {symbol} {} does not fit {}",
                            format_decimal(x, sa),
                            format_decimal(y, sb),
                            self.result.name()
                        ))
                    })?));
                }
                Arc::new(
                    Decimal128Array::from(out).with_precision_and_scale(precision, scale as i8)?,
                )
            }
            (_, other) => return exec_err!("featc decimal: result type {}", other.name()),
        };
        Ok(ColumnarValue::Array(out))
    }
}
