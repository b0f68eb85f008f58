//! featc's arithmetic as DataFusion scalar functions: the operators whose featc meaning
//! differs from DataFusion's built-ins (int64 overflow is an error, `/` is float
//! division with null on a zero divisor, `%` by zero is null).
//!
//! DataFusion's `+ - *` and unary minus wrap on int64 overflow, and its `/` and `%`
//! error (ints) or give inf/NaN (floats) on a zero divisor; semantics.md wants neither.
//! These functions are evaluated by the batch plan and, through `expr::evaluate`, by the
//! streaming path, so both get the same results. Each operator's meaning on one row is
//! one plain function (`add_int`, `div`, ...): the Arrow kernels below map it over
//! arrays and the scalar path (`expr::scalar`, online reads of derived features) calls
//! it on single values, so the two cannot drift apart.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Float64Array, Int64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// An int64 operation whose exact result does not fit in int64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow;

/// One row of a two-operand int64 operator, operands not null: `Ok(None)` is a null
/// result (`x % 0`).
pub type IntFn = fn(i64, i64) -> Result<Option<i64>, Overflow>;

/// One row of featc's float64 `/` or `%`, operands not null: `None` is a null result
/// (a zero divisor).
pub type FloatFn = fn(f64, f64) -> Option<f64>;

/// Checked int64 `+`.
pub fn add_int(x: i64, y: i64) -> Result<Option<i64>, Overflow> {
    x.checked_add(y).map(Some).ok_or(Overflow)
}

/// Checked int64 `-`.
pub fn sub_int(x: i64, y: i64) -> Result<Option<i64>, Overflow> {
    x.checked_sub(y).map(Some).ok_or(Overflow)
}

/// Checked int64 `*`.
pub fn mul_int(x: i64, y: i64) -> Result<Option<i64>, Overflow> {
    x.checked_mul(y).map(Some).ok_or(Overflow)
}

/// int64 `%`, truncated like SQL and Rust: null when `y` is 0, an overflow on
/// `i64::MIN % -1`.
pub fn mod_int(x: i64, y: i64) -> Result<Option<i64>, Overflow> {
    if y == 0 {
        return Ok(None);
    }
    x.checked_rem(y).map(Some).ok_or(Overflow)
}

/// Checked int64 unary `-` (`-i64::MIN` overflows).
pub fn neg_int(x: i64) -> Result<i64, Overflow> {
    x.checked_neg().ok_or(Overflow)
}

/// float64 `/`: null when the divisor is a zero (`==` makes `-0.0` one too), IEEE
/// division otherwise (a NaN divisor gives NaN).
pub fn div(x: f64, y: f64) -> Option<f64> {
    if y == 0.0 {
        None
    } else {
        Some(x / y)
    }
}

/// float64 `%` (C `fmod`, Rust's `%`): null when the divisor is a zero.
pub fn mod_float(x: f64, y: f64) -> Option<f64> {
    if y == 0.0 {
        None
    } else {
        Some(x % y)
    }
}

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

    /// The per-row function of a two-operand int64 operator (`AddInt`, `SubInt`,
    /// `MulInt`, `ModInt`); `None` for the others.
    pub fn int_fn(self) -> Option<IntFn> {
        match self {
            ArithOp::AddInt => Some(add_int),
            ArithOp::SubInt => Some(sub_int),
            ArithOp::MulInt => Some(mul_int),
            ArithOp::ModInt => Some(mod_int),
            ArithOp::NegInt | ArithOp::Div | ArithOp::ModFloat => None,
        }
    }

    /// The per-row function of a float64 operator (`Div`, `ModFloat`); `None` for the
    /// others.
    pub fn float_fn(self) -> Option<FloatFn> {
        match self {
            ArithOp::Div => Some(div),
            ArithOp::ModFloat => Some(mod_float),
            ArithOp::AddInt
            | ArithOp::SubInt
            | ArithOp::MulInt
            | ArithOp::NegInt
            | ArithOp::ModInt => None,
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
        let out: ArrayRef = if self.op == ArithOp::NegInt {
            let a = int_arg(&arrays, 0)?;
            let mut out = Vec::with_capacity(a.len());
            for v in a.iter() {
                out.push(match v {
                    None => None,
                    Some(v) => Some(neg_int(v).map_err(|Overflow| overflow_unary(v))?),
                });
            }
            Arc::new(Int64Array::from(out))
        } else if let Some(f) = self.op.int_fn() {
            let (a, b) = (int_arg(&arrays, 0)?, int_arg(&arrays, 1)?);
            let mut out = Vec::with_capacity(a.len());
            for (x, y) in a.iter().zip(b.iter()) {
                out.push(match (x, y) {
                    (Some(x), Some(y)) => f(x, y).map_err(|Overflow| self.overflow(x, y))?,
                    _ => None,
                });
            }
            Arc::new(Int64Array::from(out))
        } else if let Some(f) = self.op.float_fn() {
            let (a, b) = (float_arg(&arrays, 0)?, float_arg(&arrays, 1)?);
            let out: Float64Array = a.iter().zip(b.iter()).map(|(x, y)| f(x?, y?)).collect();
            Arc::new(out)
        } else {
            return exec_err!("featc arithmetic: no kernel for `{}`", self.op.name());
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
