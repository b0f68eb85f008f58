//! `ExactSum`: the exact, order-independent, retractable sum of f64 and integer values,
//! rounded once at the end.

use num_bigint::{BigInt, Sign};

use super::fixed::FixedAcc;
use super::round::{round_digits, Mag};
use crate::snapshot::{Persist, Reader, SnapshotError, Writer};

/// Splits a finite f64 into `(mantissa, bit position, negative)` with
/// `|x| = mantissa * 2^(position - 1074)`; `None` for non-finite values.
#[inline]
pub fn decompose(x: f64) -> Option<(u64, u32, bool)> {
    let bits = x.to_bits();
    let e = ((bits >> 52) & 0x7FF) as u32;
    let frac = bits & ((1u64 << 52) - 1);
    let neg = bits >> 63 == 1;
    match e {
        0x7FF => None,
        0 => Some((frac, 0, neg)),
        _ => Some((frac | (1u64 << 52), e - 1, neg)),
    }
}

/// The exact sum of a multiset of f64 and integer values.
///
/// Invariants: the finite part is held exactly as an integer multiple of 2^-1074
/// (`SCALE`); non-finite inputs are counted (+inf, -inf, NaN) instead of added, so
/// they retract too. The state's value depends only on the multiset added minus the
/// multiset subtracted, never on order; `round` is a pure function of that value.
/// Subtracting a value that was never added is allowed (the value goes negative) but
/// non-finite counts then wrap, so callers only retract what they added.
#[derive(Debug, Default)]
pub struct ExactSum {
    acc: FixedAcc,
    pos_inf: u64,
    neg_inf: u64,
    nan: u64,
}

/// `clone_from` reuses the allocation (see `FixedAcc`).
impl Clone for ExactSum {
    fn clone(&self) -> Self {
        ExactSum {
            acc: self.acc.clone(),
            pos_inf: self.pos_inf,
            neg_inf: self.neg_inf,
            nan: self.nan,
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.acc.clone_from(&source.acc);
        self.pos_inf = source.pos_inf;
        self.neg_inf = source.neg_inf;
        self.nan = source.nan;
    }
}

impl ExactSum {
    /// The finite part is `numerator * 2^-SCALE`.
    pub const SCALE: u32 = 1074;

    pub const fn new() -> ExactSum {
        ExactSum {
            acc: FixedAcc::new(),
            pos_inf: 0,
            neg_inf: 0,
            nan: 0,
        }
    }

    pub fn clear(&mut self) {
        self.acc.clear();
        self.pos_inf = 0;
        self.neg_inf = 0;
        self.nan = 0;
    }

    pub fn approx_bytes(&self) -> usize {
        self.acc.approx_bytes() + 24
    }

    /// Starts loading the heap part (see `crate::prefetch`).
    #[inline]
    pub fn prefetch(&self) {
        self.acc.prefetch();
    }

    #[inline]
    fn put_f64(&mut self, x: f64, sub: bool) {
        match decompose(x) {
            Some((m, pos, neg)) => self.acc.add_u64_at(m, pos, neg != sub),
            None => {
                let c = if x.is_nan() {
                    &mut self.nan
                } else if x > 0.0 {
                    &mut self.pos_inf
                } else {
                    &mut self.neg_inf
                };
                *c = if sub {
                    c.wrapping_sub(1)
                } else {
                    c.wrapping_add(1)
                };
            }
        }
    }

    #[inline]
    pub fn add_f64(&mut self, x: f64) {
        self.put_f64(x, false)
    }

    #[inline]
    pub fn sub_f64(&mut self, x: f64) {
        self.put_f64(x, true)
    }

    #[inline]
    pub fn add_i64(&mut self, x: i64) {
        self.acc
            .add_u128_at(x.unsigned_abs() as u128, Self::SCALE, x < 0)
    }

    #[inline]
    pub fn sub_i64(&mut self, x: i64) {
        self.acc
            .add_u128_at(x.unsigned_abs() as u128, Self::SCALE, x >= 0)
    }

    pub fn add_i128(&mut self, x: i128) {
        self.acc.add_u128_at(x.unsigned_abs(), Self::SCALE, x < 0)
    }

    pub fn sub_i128(&mut self, x: i128) {
        self.acc.add_u128_at(x.unsigned_abs(), Self::SCALE, x >= 0)
    }

    /// Adds another sum (the monoid's combine).
    pub fn merge(&mut self, other: &ExactSum) {
        self.acc.merge(&other.acc, false);
        self.pos_inf = self.pos_inf.wrapping_add(other.pos_inf);
        self.neg_inf = self.neg_inf.wrapping_add(other.neg_inf);
        self.nan = self.nan.wrapping_add(other.nan);
    }

    /// Subtracts another sum (the inverse of `merge`).
    pub fn unmerge(&mut self, other: &ExactSum) {
        self.acc.merge(&other.acc, true);
        self.pos_inf = self.pos_inf.wrapping_sub(other.pos_inf);
        self.neg_inf = self.neg_inf.wrapping_sub(other.neg_inf);
        self.nan = self.nan.wrapping_sub(other.nan);
    }

    /// Propagates deferred carries now (the value is unchanged; this happens
    /// automatically every 2^30 adds).
    pub fn normalize(&mut self) {
        self.acc.normalize();
    }

    /// True when no non-finite value is present.
    pub fn is_finite(&self) -> bool {
        self.pos_inf == 0 && self.neg_inf == 0 && self.nan == 0
    }

    /// The IEEE result of the non-finite inputs alone: NaN if a NaN or both
    /// infinities are present, else that infinity; `None` when all inputs are finite.
    pub fn non_finite(&self) -> Option<f64> {
        if self.nan > 0 || (self.pos_inf > 0 && self.neg_inf > 0) {
            Some(f64::NAN)
        } else if self.pos_inf > 0 {
            Some(f64::INFINITY)
        } else if self.neg_inf > 0 {
            Some(f64::NEG_INFINITY)
        } else {
            None
        }
    }

    /// The exact sum correctly rounded to f64 (nearest, ties to even); exact zero is
    /// +0.0, overflow is ±inf, non-finite inputs as in `non_finite`.
    pub fn round(&self) -> f64 {
        if let Some(x) = self.non_finite() {
            return x;
        }
        let mut m = Mag::new();
        let neg = self.acc.magnitude(&mut m);
        let r = round_digits(m.digits(), false, 32 * m.shift as i64 - Self::SCALE as i64);
        if neg {
            -r
        } else {
            r
        }
    }

    /// Writes the finite part's magnitude into `out` (see `FixedAcc::magnitude`);
    /// returns true when negative. The value is `out * 2^(32 * out.shift - SCALE)`.
    pub fn magnitude(&self, out: &mut Mag) -> bool {
        self.acc.magnitude(out)
    }

    /// The finite part as an exact numerator: value = `to_bigint() * 2^-SCALE`.
    pub fn to_bigint(&self) -> BigInt {
        let mut m = Mag::new();
        let neg = self.acc.magnitude(&mut m);
        let (u, e) = m.to_biguint();
        let sign = if neg { Sign::Minus } else { Sign::Plus };
        BigInt::from_biguint(sign, u << (e as u64))
    }
}

/// The exact sum of squares of f64 and integer values, held as an integer multiple of
/// 2^-2148 (the square of the smallest subnormal), so every square is exact.
/// Only finite values may be added (callers count non-finite inputs themselves).
#[derive(Debug, Default)]
pub struct SquareSum {
    acc: FixedAcc,
}

/// `clone_from` reuses the allocation (see `FixedAcc`).
impl Clone for SquareSum {
    fn clone(&self) -> Self {
        SquareSum {
            acc: self.acc.clone(),
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.acc.clone_from(&source.acc);
    }
}

impl SquareSum {
    /// The value is `numerator * 2^-SCALE`.
    pub const SCALE: u32 = 2148;

    /// Starts loading the heap part (see `crate::prefetch`).
    #[inline]
    pub fn prefetch(&self) {
        self.acc.prefetch();
    }

    pub const fn new() -> SquareSum {
        SquareSum {
            acc: FixedAcc::new(),
        }
    }

    pub fn clear(&mut self) {
        self.acc.clear()
    }

    pub fn approx_bytes(&self) -> usize {
        self.acc.approx_bytes()
    }

    /// Adds (or with `sub`, subtracts) `x^2`; non-finite `x` is ignored.
    #[inline]
    pub fn put_f64(&mut self, x: f64, sub: bool) {
        if let Some((m, pos, _)) = decompose(x) {
            self.acc
                .add_u128_at((m as u128) * (m as u128), 2 * pos, sub);
        }
    }

    /// Adds (or with `sub`, subtracts) `x^2`.
    #[inline]
    pub fn put_i64(&mut self, x: i64, sub: bool) {
        let a = x.unsigned_abs() as u128;
        self.acc.add_u128_at(a * a, Self::SCALE, sub);
    }

    pub fn merge(&mut self, other: &SquareSum, sub: bool) {
        self.acc.merge(&other.acc, sub);
    }

    /// Writes the magnitude into `out`; the value is `out * 2^(32 * out.shift - SCALE)`.
    /// Returns true when negative (only possible after retracting what was not added).
    pub fn magnitude(&self, out: &mut Mag) -> bool {
        self.acc.magnitude(out)
    }
}

impl Persist for ExactSum {
    fn save(&self, w: &mut Writer) {
        self.acc.save(w);
        w.u64(self.pos_inf);
        w.u64(self.neg_inf);
        w.u64(self.nan);
    }

    fn load(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        Ok(ExactSum {
            acc: FixedAcc::load(r)?,
            pos_inf: r.u64()?,
            neg_inf: r.u64()?,
            nan: r.u64()?,
        })
    }
}

impl Persist for SquareSum {
    fn save(&self, w: &mut Writer) {
        self.acc.save(w);
    }

    fn load(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        Ok(SquareSum {
            acc: FixedAcc::load(r)?,
        })
    }
}
