//! `EvalError`: why the oracle could not evaluate an expression, a row function or an
//! aggregation on one row (an integer overflow; value kinds a checked project never
//! produces), as data; rendered to text in one place (`Display`). The caller adds
//! the source and row (`ReferenceError`).

use std::fmt;

use num_bigint::BigInt;

/// Why one row's evaluation failed.
#[derive(Debug, Clone, PartialEq)]
pub enum EvalError {
    /// `what` (a function, an operator, `not`) applied to a value of kind `found`.
    OperandKind {
        what: &'static str,
        found: &'static str,
    },
    /// A cast to float64 of a value of kind `found`.
    Cast { found: &'static str },
    /// A unary minus of a value of kind `found`.
    Minus { found: &'static str },
    /// A row function called without its argument `index`.
    MissingArgument {
        function: &'static str,
        index: usize,
    },
    /// `nullif` called without two arguments.
    NullifArity,
    /// `nullif` of two values of kinds it cannot compare.
    NullifKinds {
        left: &'static str,
        right: &'static str,
    },
    /// A comparison of two values of kinds that do not compare.
    Incomparable {
        left: &'static str,
        right: &'static str,
    },
    /// `abs` of int64's smallest value.
    AbsOverflow(i64),
    /// The negation of int64's smallest value.
    MinusOverflow(i64),
    /// An int64 `left op right` out of range.
    Overflow {
        left: i64,
        op: &'static str,
        right: i64,
    },
    /// An int64 sum over a value of kind `found`.
    IntSumKind { found: &'static str },
    /// An int64 sum out of range.
    SumOverflow(BigInt),
    /// A numeric aggregation over a value of kind `found`.
    NumericKind { found: &'static str },
    /// A decimal result with more digits than its type (the operation, as text).
    DecimalOverflow(String),
    /// A column (or let) the row does not have.
    UnknownColumn(String),
    /// A name a derived feature reads that its inputs do not have.
    UnknownName(String),
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::OperandKind { what, found } => write!(f, "`{what}` of a {found}"),
            EvalError::Cast { found } => write!(f, "cannot cast a {found} to float64"),
            EvalError::Minus { found } => write!(f, "unary minus of a {found}"),
            EvalError::MissingArgument { function, index } => {
                write!(f, "`{function}` lacks argument {index}")
            }
            EvalError::NullifArity => f.write_str("`nullif` takes two arguments"),
            EvalError::NullifKinds { left, right } => {
                write!(f, "`nullif` of a {left} and a {right}")
            }
            EvalError::Incomparable { left, right } => {
                write!(f, "cannot compare a {left} with a {right}")
            }
            EvalError::AbsOverflow(x) => write!(f, "integer overflow in abs({x})"),
            EvalError::MinusOverflow(x) => write!(f, "integer overflow in -({x})"),
            EvalError::Overflow { left, op, right } => {
                write!(f, "integer overflow in {left} {op} {right}")
            }
            EvalError::IntSumKind { found } => write!(f, "sum of int64 got a {found} value"),
            EvalError::SumOverflow(total) => write!(f, "integer sum {total} overflows int64"),
            EvalError::NumericKind { found } => {
                write!(f, "numeric aggregation got a {found} value")
            }
            EvalError::DecimalOverflow(what) => {
                write!(f, "decimal overflow: {what} does not fit its type")
            }
            EvalError::UnknownColumn(column) => write!(f, "unknown column `{column}`"),
            EvalError::UnknownName(name) => write!(f, "unknown name `{name}`"),
        }
    }
}

impl std::error::Error for EvalError {}
