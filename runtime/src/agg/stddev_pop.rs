//! `stddev_pop(x)`: population standard deviation, the square root of the exact variance, correctly rounded; float64 for int64 or float64 input; empty is null, any
//! non-finite input gives NaN.

use super::{MomentFinish, MomentsAgg};
use crate::exact::{self, ExactSum, SquareSum};

#[derive(Debug, Clone, Copy, Default)]
pub struct StandardDeviation;

pub type StddevPop = MomentsAgg<StandardDeviation>;

impl MomentFinish for StandardDeviation {
    fn finish(s1: &ExactSum, s2: &SquareSum, n: u64) -> f64 {
        exact::stddev_pop(s1, s2, n)
    }
}
