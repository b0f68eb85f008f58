//! `sum(x)` and `avg(x)` over `decimal(p, s)`: the exact total of the unscaled values
//! in 256 bits (it would take 2^128 inputs to overflow, and removal is exact). `sum`
//! is `decimal(38, s)`, an error when the total at the time read has more than 38
//! digits; `avg` is the total over `n * 10^s`, correctly rounded once (float64).

use datafusion::arrow::datatypes::i256;
use num_bigint::BigUint;

use super::{AggError, Aggregation, Invertible};
use crate::exact;
use crate::ir::AggKind;
use crate::row::decimal::{fits, pow10};
use crate::snapshot::{Persist, Reader, SnapshotError, Writer};
use crate::value::Value;

/// The count and exact total of the non-null decimal inputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecimalTotal {
    pub n: u64,
    pub total: i256,
}

impl Default for DecimalTotal {
    fn default() -> Self {
        DecimalTotal {
            n: 0,
            total: i256::ZERO,
        }
    }
}

impl DecimalTotal {
    #[inline]
    fn put(&mut self, v: &Value, remove: bool) {
        if let Some((u, _)) = v.as_decimal() {
            let u = i256::from_i128(u);
            if remove {
                self.total = self.total.wrapping_sub(u);
                self.n = self.n.wrapping_sub(1);
            } else {
                self.total = self.total.wrapping_add(u);
                self.n = self.n.wrapping_add(1);
            }
        }
    }

    fn merge(&mut self, other: &DecimalTotal, remove: bool) {
        if remove {
            self.total = self.total.wrapping_sub(other.total);
            self.n = self.n.wrapping_sub(other.n);
        } else {
            self.total = self.total.wrapping_add(other.total);
            self.n = self.n.wrapping_add(other.n);
        }
    }
}

impl Persist for DecimalTotal {
    fn save(&self, w: &mut Writer) {
        let (low, high) = self.total.to_parts();
        w.u64(self.n);
        w.i128(low as i128);
        w.i128(high);
    }

    fn load(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        let n = r.u64()?;
        let (low, high) = (r.i128()?, r.i128()?);
        Ok(DecimalTotal {
            n,
            total: i256::from_parts(low as u128, high),
        })
    }
}

/// `sum` over decimals of scale `scale`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SumDecimal {
    pub scale: u8,
}

/// `avg` over decimals of scale `scale`.
#[derive(Debug, Clone, Copy, Default)]
pub struct AvgDecimal {
    pub scale: u8,
}

macro_rules! total_monoid {
    ($agg:ty, $finish:expr) => {
        impl Aggregation for $agg {
            type State = DecimalTotal;
            const INVERTIBLE: bool = true;

            fn identity(&self) -> DecimalTotal {
                DecimalTotal::default()
            }

            fn combine(&self, into: &mut DecimalTotal, other: &DecimalTotal) {
                into.merge(other, false);
            }

            fn finish(&self, s: &DecimalTotal) -> Result<Value, AggError> {
                let finish: fn(&$agg, &DecimalTotal) -> Result<Value, AggError> = $finish;
                finish(self, s)
            }

            #[inline]
            fn insert(&self, s: &mut DecimalTotal, _ts: i64, v: &Value) {
                s.put(v, false);
            }

            fn state_bytes(&self, _s: &DecimalTotal) -> usize {
                std::mem::size_of::<DecimalTotal>()
            }
        }

        impl Invertible for $agg {
            #[inline]
            fn remove(&self, s: &mut DecimalTotal, _ts: i64, v: &Value) {
                s.put(v, true);
            }

            fn uncombine(&self, from: &mut DecimalTotal, other: &DecimalTotal) {
                from.merge(other, true);
            }
        }
    };
}

total_monoid!(SumDecimal, |a, s| {
    match s.total.to_i128().filter(|&t| fits(t, 38)) {
        Some(t) => Ok(Value::decimal(t, 38, a.scale)),
        None => Err(AggError::DecimalOverflow { agg: AggKind::Sum }),
    }
});

total_monoid!(AvgDecimal, |a, s| {
    if s.n == 0 {
        return Ok(Value::Null);
    }
    Ok(Value::Float64(ratio(s.total, s.n, a.scale)))
});

/// `total / (n * 10^scale)`, correctly rounded.
fn ratio(total: i256, n: u64, scale: u8) -> f64 {
    let negative = total < i256::ZERO;
    // |total| fits 255 bits: its magnitude as little-endian bytes.
    let magnitude = if negative {
        total.wrapping_neg()
    } else {
        total
    };
    let num = BigUint::from_bytes_le(&magnitude.to_le_bytes());
    let den = BigUint::from(n) * BigUint::from(pow10(scale).unsigned_abs());
    let x = exact::round_ratio(&num, &den, 0);
    if negative {
        -x
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold<A: Aggregation<State = DecimalTotal>>(a: &A, xs: &[i128]) -> DecimalTotal {
        let mut s = a.identity();
        for x in xs {
            a.insert(&mut s, 0, &Value::decimal(*x, 10, 2));
        }
        s
    }

    #[test]
    fn sums_are_exact_and_fail_past_38_digits() {
        let sum = SumDecimal { scale: 2 };
        let s = fold(&sum, &[150, -25, 1]);
        assert_eq!(sum.finish(&s), Ok(Value::decimal(126, 38, 2)));
        let max = pow10(38) - 1;
        let mut s = fold(&sum, &[max, max]);
        assert!(sum.finish(&s).is_err());
        sum.remove(&mut s, 0, &Value::decimal(max, 38, 2));
        assert_eq!(sum.finish(&s), Ok(Value::decimal(max, 38, 2)));
        assert_eq!(sum.finish(&sum.identity()), Ok(Value::decimal(0, 38, 2)));
    }

    #[test]
    fn averages_round_once() {
        let avg = AvgDecimal { scale: 2 };
        // (0.10 + 0.20) / 2 = 0.15 exactly, then rounded once: 0.15's nearest float.
        assert_eq!(avg.finish(&fold(&avg, &[10, 20])), Ok(Value::Float64(0.15)));
        assert_eq!(avg.finish(&fold(&avg, &[-1])), Ok(Value::Float64(-0.01)));
        assert_eq!(avg.finish(&avg.identity()), Ok(Value::Null));
        let max = pow10(38) - 1;
        assert_eq!(
            avg.finish(&fold(&avg, &[max, max, max])),
            Ok(Value::Float64(1e36))
        );
    }

    #[test]
    fn totals_survive_snapshots() {
        let s = DecimalTotal {
            n: 3,
            total: i256::from_i128(-(pow10(38) - 1)).wrapping_mul(i256::from_i128(7)),
        };
        let mut w = Writer::new();
        s.save(&mut w);
        let bytes = w.into_bytes();
        let mut r = Reader::new(&bytes);
        assert_eq!(DecimalTotal::load(&mut r), Ok(s));
    }
}
