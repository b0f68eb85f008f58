//! Exact arithmetic: retractable exact sums rounded once, and the correctly rounded
//! finishes of avg, var_pop and stddev_pop (semantics.md, "Float results are
//! correctly rounded").

mod fixed;
mod moments;
mod round;
mod sum;

pub use fixed::FixedAcc;
pub use moments::{avg, stddev_pop, var_pop};
pub use round::{round_digits, round_ratio, round_sqrt_ratio, Mag};
pub use sum::{decompose, ExactSum, SquareSum};
