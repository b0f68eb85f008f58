//! `var_pop(x)`: population variance `(n·Σx² − (Σx)²) / n²` of the exact sums, correctly rounded; float64 for int64 or float64 input; empty is null, any
//! non-finite input gives NaN.

use super::{MomentFinish, MomentsAgg};
use crate::exact::{self, ExactSum, SquareSum};

#[derive(Debug, Clone, Copy, Default)]
pub struct Variance;

pub type VarPop = MomentsAgg<Variance>;

impl MomentFinish for Variance {
    fn finish(s1: &ExactSum, s2: &SquareSum, n: u64) -> f64 {
        exact::var_pop(s1, s2, n)
    }
}
