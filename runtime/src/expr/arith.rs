//! featc's arithmetic as DataFusion scalar functions: the operators whose featc meaning
//! differs from DataFusion's built-ins (int64 overflow is an error, `/` is float
//! division with null on a zero divisor, `%` by zero is null).
//!
//! DataFusion's `+ - *` and unary minus wrap on int64 overflow, and its `/` and `%`
//! error (ints) or give inf/NaN (floats) on a zero divisor; semantics.md wants neither.
//! These functions are evaluated by the batch plan and, through `expr::evaluate`, by the
//! streaming path, so both get the same results.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Float64Array, Int64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// An operator implemented by a featc scalar function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArithOp {
    /// Checked int64 `+`.
    AddInt,
    /// Checked int64 `-`.
    SubInt,
    /// Checked int64 `*`.
    MulInt,
    /// Checked int64 unary `-`.
    NegInt,
    /// Float64 `/` (both operands already float64); null when the divisor is ±0.
    Div,
    /// int64 `%` (truncated, like SQL and Rust); null when the divisor is 0, an error on
    /// `i64::MIN % -1`.
    ModInt,
    /// float64 `%` (C `fmod`); null when the divisor is ±0.
    ModFloat,
}

impl ArithOp {
    /// The function name shown in plans.
    pub fn name(self) -> &'static str {
        match self {
            ArithOp::AddInt => "featc_add",
            ArithOp::SubInt => "featc_sub",
            ArithOp::MulInt => "featc_mul",
            ArithOp::NegInt => "featc_neg",
            ArithOp::Div => "featc_div",
            ArithOp::ModInt | ArithOp::ModFloat => "featc_mod",
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            ArithOp::AddInt => "+",
            ArithOp::SubInt | ArithOp::NegInt => "-",
            ArithOp::MulInt => "*",
            ArithOp::Div => "/",
            ArithOp::ModInt | ArithOp::ModFloat => "%",
        }
    }

    fn arg_type(self) -> DataType {
        match self {
            ArithOp::Div | ArithOp::ModFloat => DataType::Float64,
            _ => DataType::Int64,
        }
    }

    fn arity(self) -> usize {
        if self == ArithOp::NegInt {
            1
        } else {
            2
        }
    }
}

/// The scalar function implementing one `ArithOp`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ArithUdf {
    op: ArithOp,
    signature: Signature,
}

impl ArithUdf {
    pub fn new(op: ArithOp) -> Self {
        let args = vec![op.arg_type(); op.arity()];
        ArithUdf {
            op,
            signature: Signature::exact(args, Volatility::Immutable),
        }
    }
}

/// The `ScalarUDF` for `op` (cheap: build one per use).
pub fn udf(op: ArithOp) -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::new_from_impl(ArithUdf::new(op)))
}

impl ScalarUDFImpl for ArithUdf {
    fn name(&self) -> &str {
        self.op.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.op.arg_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let out: ArrayRef = match self.op {
            ArithOp::NegInt => {
                let a = int_arg(&arrays, 0)?;
                let mut out = Vec::with_capacity(a.len());
                for v in a.iter() {
                    out.push(match v {
                        None => None,
                        Some(v) => Some(v.checked_neg().ok_or_else(|| overflow_unary(v))?),
                    });
                }
                Arc::new(Int64Array::from(out))
            }
            ArithOp::AddInt | ArithOp::SubInt | ArithOp::MulInt | ArithOp::ModInt => {
                let (a, b) = (int_arg(&arrays, 0)?, int_arg(&arrays, 1)?);
                let mut out = Vec::with_capacity(a.len());
                for (x, y) in a.iter().zip(b.iter()) {
                    let (Some(x), Some(y)) = (x, y) else {
                        out.push(None);
                        continue;
                    };
                    let r = match self.op {
                        ArithOp::AddInt => x.checked_add(y),
                        ArithOp::SubInt => x.checked_sub(y),
                        ArithOp::MulInt => x.checked_mul(y),
                        _ if y == 0 => {
                            out.push(None);
                            continue;
                        }
                        _ => x.checked_rem(y),
                    };
                    out.push(Some(r.ok_or_else(|| self.overflow(x, y))?));
                }
                Arc::new(Int64Array::from(out))
            }
            ArithOp::Div | ArithOp::ModFloat => {
                let (a, b) = (float_arg(&arrays, 0)?, float_arg(&arrays, 1)?);
                let out: Float64Array = a
                    .iter()
                    .zip(b.iter())
                    .map(|(x, y)| match (x, y) {
                        // A float pattern compares with `==`: `-0.0` is a zero too.
                        (Some(_), Some(0.0)) => None,
                        (Some(x), Some(y)) if self.op == ArithOp::Div => Some(x / y),
                        (Some(x), Some(y)) => Some(x % y),
                        _ => None,
                    })
                    .collect();
                Arc::new(out)
            }
        };
        Ok(ColumnarValue::Array(out))
    }
}

impl ArithUdf {
    fn overflow(&self, x: i64, y: i64) -> DataFusionError {
        DataFusionError::Execution(format!(
            "int64 overflow: {x} {} {y} does not fit in int64",
            self.op.symbol()
        ))
    }
}

fn overflow_unary(v: i64) -> DataFusionError {
    DataFusionError::Execution(format!("int64 overflow: -({v}) does not fit in int64"))
}

fn int_arg(arrays: &[ArrayRef], i: usize) -> Result<&Int64Array> {
    match arrays
        .get(i)
        .and_then(|a| a.as_any().downcast_ref::<Int64Array>())
    {
        Some(a) => Ok(a),
        None => exec_err!("featc arithmetic: argument {i} is not int64"),
    }
}

fn float_arg(arrays: &[ArrayRef], i: usize) -> Result<&Float64Array> {
    match arrays
        .get(i)
        .and_then(|a| a.as_any().downcast_ref::<Float64Array>())
    {
        Some(a) => Ok(a),
        None => exec_err!("featc arithmetic: argument {i} is not float64"),
    }
}
