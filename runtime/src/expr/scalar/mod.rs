//! Derived features on one row of `Value`s, without Arrow: the scalar program an
//! online read runs (`stream::derived::read`), compiled once from the same IR the
//! batch evaluator lowers to DataFusion, and computing exactly its values.
//!
//! A read used to build one-row Arrow arrays and a `RecordBatch` and run DataFusion's
//! physical expression, about 2.4 µs for `a / nullif(b, 0)`: six times the two
//! aggregations it reads (BENCHMARKS.md). The scalar program walks a small tree over
//! the inputs' values (by input index) and allocates nothing for a numeric or boolean
//! result.
//!
//! It mirrors `expr::lower` node by node, never a guess of SQL: the same casts where
//! the lowering casts (`to_type`, `promote`, `functions::parameter_types`); featc's own
//! operators through the very per-value functions their Arrow kernels call
//! (`arith::add_int`, `arith::div`, `functions::math::abs_int`,
//! `functions::compare::sql_float_eq`, `float_compare::sql_key` for float comparisons,
//! ...); DataFusion's operators as DataFusion computes them (`ops`: other comparisons,
//! `and`/`or` in three-valued logic, a `case` taking its first true branch and evaluating only
//! it, a constant `in` list stopping at its first match as `InListExpr` does, any other
//! comparing every item as the lowering joins `=`/`<>`: `in_list_as_comparisons`).
//!
//! What it does not cover is not compiled (`NotCompiled` says why), and such a feature
//! keeps the batch path: decimals, lists, string, geo, list and vector functions, and
//! expressions deeper than `MAX_DEPTH`. An evaluation that fails (an int64 overflow,
//! `i64::MIN % -1`, `abs(i64::MIN)`) returns `Fallback::Error`: the caller runs the
//! batch path, which fails the same way with its own message, so errors read the same
//! whichever path found them. The one value left to the batch path
//! (`Fallback::Batch`) is a float64 `+` or `*` of two NaNs, whose NaN depends on the
//! operands' order in the instruction.
//!
//! `runtime/tests/expr_scalar.rs` is the proof: generated typed expressions over every
//! covered node and rows of edge values (nulls, ±0, NaNs, ±inf, the int64 limits)
//! give the same value, bit for bit, or both an error, on both paths.

mod compile;
mod eval;
mod node;
mod ops;

use std::fmt;

use crate::ir::{DataType, Function};
use crate::value::Value;

pub use compile::{compile, MAX_DEPTH};

/// A derived feature's expression compiled for one row at a time.
#[derive(Debug, Clone)]
pub struct ScalarProgram {
    root: node::Node,
}

impl ScalarProgram {
    /// The expression's value on `row` (one value per input, in input order, each
    /// null or of its input's type), or why the batch path must give the outcome.
    pub fn evaluate(&self, row: &[Value]) -> Result<Value, Fallback> {
        self.root.eval(row)
    }
}

/// Why the scalar program gives no value: the batch evaluator gives the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// The evaluation fails (an int64 overflow): the batch path fails alike, and its
    /// error says how.
    Error,
    /// The value is the batch path's to give: two NaNs through a commutative `+` or
    /// `*` (which NaN comes out depends on the operands' order in the instruction the
    /// compiler chose), or a value of a type the node does not take (an internal
    /// inconsistency).
    Batch,
}

/// Why an expression has no scalar program (its reads keep the batch path).
#[derive(Debug, Clone, PartialEq)]
pub enum NotCompiled {
    /// A value of a type the scalar path does not hold (decimals, lists).
    Type(DataType),
    /// A row function the scalar path does not implement.
    Function(Function),
    /// An expression deeper than `MAX_DEPTH` levels.
    Depth(usize),
    /// A node outside what the scalar path mirrors (what it is, in words).
    Node(&'static str),
}

impl fmt::Display for NotCompiled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotCompiled::Type(t) => write!(f, "a value of type {}", t.name()),
            NotCompiled::Function(func) => write!(f, "the function `{}`", func.name()),
            NotCompiled::Depth(d) => {
                write!(f, "an expression {d} levels deep (at most {MAX_DEPTH})")
            }
            NotCompiled::Node(what) => write!(f, "{what}"),
        }
    }
}
