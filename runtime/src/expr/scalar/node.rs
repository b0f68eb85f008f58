//! The scalar program's nodes: one per DataFusion expression `expr::lower` builds,
//! with the lowering's casts made explicit and featc's kernels resolved at compile time.

use std::cmp::Ordering;

use crate::expr::arith::{FloatFn, IntFn};
use crate::ir::{BinaryOp, Function};
use crate::value::Value;

/// One node; every node's value is null or of the type `compile` checked for it.
#[derive(Debug, Clone)]
pub(super) enum Node {
    /// Input `i`'s value (a column of the batch path's schema).
    Input(usize),
    Const(Value),
    /// int64 to float64 (Arrow's cast: Rust's `as`, nearest float).
    IntToFloat(Box<Node>),
    /// Checked int64 unary `-` (`arith::neg_int`).
    NegInt(Box<Node>),
    /// float64 unary `-`: the sign flipped (DataFusion's `NegativeExpr`).
    NegFloat(Box<Node>),
    /// Three-valued `not`.
    Not(Box<Node>),
    /// int64 `+ - * %`: featc's per-row function (`arith`), both operands evaluated.
    IntArith(IntFn, Box<[Node; 2]>),
    /// float64 `+ - *` (DataFusion's, IEEE) or featc's `/` and `%`.
    FloatArith(FloatOp, Box<[Node; 2]>),
    /// A comparison (`BinaryOp::is_comparison`) of two values of one type.
    Compare(BinaryOp, Box<[Node; 2]>),
    /// Three-valued `and` (`true`) or `or`, both operands evaluated.
    Logic(bool, Box<[Node; 2]>),
    IsNull {
        operand: Box<Node>,
        negated: bool,
    },
    /// DataFusion's `InListExpr`: the operand, then the items in order until one is
    /// equal (the rest are not evaluated).
    InSet {
        operand: Box<Node>,
        items: Vec<Node>,
        negated: bool,
    },
    /// A list the lowering writes as comparisons (`x = a or x = b`, or for a short
    /// `not in`, `x <> a and x <> b`): every item compared.
    InChain {
        operand: Box<Node>,
        items: Vec<Node>,
        negated: bool,
    },
    /// The first branch whose condition is true (null is false) and only its value;
    /// else `otherwise`, or null.
    Case {
        branches: Vec<(Node, Node)>,
        otherwise: Option<Box<Node>>,
    },
    /// The first non-null argument, later ones not evaluated (the lowering's `case`).
    Coalesce(Vec<Node>),
    /// A one-argument math function.
    Math(Math, Box<Node>),
    /// `pow(x, y)` (`functions::math::pow`).
    Pow(Box<[Node; 2]>),
    /// `least` (`Ordering::Less` wins) or `greatest` (`Greater`).
    Pick(Ordering, Vec<Node>),
    /// `nullif(a, b)`.
    NullIf(Box<[Node; 2]>),
}

/// A float64 binary operator.
#[derive(Debug, Clone, Copy)]
pub(super) enum FloatOp {
    /// DataFusion's `+` (IEEE).
    Add,
    /// DataFusion's `-` (IEEE).
    Sub,
    /// DataFusion's `*` (IEEE).
    Mul,
    /// featc's `/` or `%` (`arith::div`, `arith::mod_float`).
    Featc(FloatFn),
}

/// A one-argument math function at its argument type (`functions::math`'s kernels).
#[derive(Debug, Clone, Copy)]
pub(super) enum Math {
    AbsInt,
    AbsFloat,
    /// int64 `floor`, `ceil`, `round`: the value itself.
    IntIdentity,
    /// float64 `floor`, `ceil` or `round`.
    Round(Function),
    Sqrt,
    Ln,
    Exp,
}
