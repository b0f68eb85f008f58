//! `Moments`: count, exact sum and exact sum of squares, the state shared by var_pop
//! and stddev_pop.

use crate::exact::{ExactSum, SquareSum};
use crate::value::Value;

/// Invariant: `s2` holds the squares of exactly the finite values whose sum is in
/// `s1`; non-finite values are only counted in `s1` (and make the finishes NaN).
#[derive(Debug, Clone, Default)]
pub struct Moments {
    pub n: u64,
    pub s1: ExactSum,
    pub s2: SquareSum,
}

impl Moments {
    /// Adds (`sub == false`) or retracts one value; non-numeric values are ignored.
    #[inline]
    pub fn put(&mut self, v: &Value, sub: bool) {
        match v {
            Value::Float64(x) => {
                if sub {
                    self.s1.sub_f64(*x)
                } else {
                    self.s1.add_f64(*x)
                }
                self.s2.put_f64(*x, sub);
            }
            Value::Int64(x) => {
                if sub {
                    self.s1.sub_i64(*x)
                } else {
                    self.s1.add_i64(*x)
                }
                self.s2.put_i64(*x, sub);
            }
            _ => return,
        }
        self.n = if sub { self.n.wrapping_sub(1) } else { self.n.wrapping_add(1) };
    }

    pub fn merge(&mut self, other: &Moments, sub: bool) {
        if sub {
            self.n = self.n.wrapping_sub(other.n);
            self.s1.unmerge(&other.s1);
        } else {
            self.n = self.n.wrapping_add(other.n);
            self.s1.merge(&other.s1);
        }
        self.s2.merge(&other.s2, sub);
    }

    pub fn approx_bytes(&self) -> usize {
        8 + self.s1.approx_bytes() + self.s2.approx_bytes()
    }
}
