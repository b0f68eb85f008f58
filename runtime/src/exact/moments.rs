//! The correctly rounded finishes of avg, var_pop and stddev_pop over exact sums.

use num_bigint::BigUint;

use super::round::{round_digits, round_ratio, round_sqrt_ratio, Mag};
use super::sum::{ExactSum, SquareSum};

/// `S1 / n` correctly rounded (n > 0). With non-finite inputs: that sum's IEEE value
/// divided by n (NaN or ±inf).
pub fn avg(s1: &ExactSum, n: u64) -> f64 {
    if n == 0 {
        return f64::NAN;
    }
    if let Some(x) = s1.non_finite() {
        return x / n as f64;
    }
    let mut m = Mag::new();
    let neg = s1.magnitude(&mut m);
    if m.is_zero() {
        return 0.0;
    }
    // Two extra low digits keep the rounding bits of tiny quotients inside the digits.
    let shift = m.shift;
    let mut w = Mag::new();
    w.reset(0, m.digits().len() + 2);
    w.push(0);
    w.push(0);
    for &d in m.digits() {
        w.push(d);
    }
    let sticky = w.div_rem_u64(n);
    let exp = 32 * shift as i64 - 64 - ExactSum::SCALE as i64;
    let r = round_digits(w.digits(), sticky, exp);
    if neg {
        -r
    } else {
        r
    }
}

/// The exact `n * S2 - S1^2` as `(numerator, binary exponent)`; never negative when
/// the sums come from the same multiset (clamped to zero otherwise).
fn var_numerator(s1: &ExactSum, s2: &SquareSum, n: u64) -> (BigUint, i64) {
    let mut m = Mag::new();
    s1.magnitude(&mut m);
    let (a, ea) = m.to_biguint();
    let ea = ea - ExactSum::SCALE as i64;
    let neg2 = s2.magnitude(&mut m);
    let (b, eb) = m.to_biguint();
    let eb = eb - SquareSum::SCALE as i64;
    let (b, eb) = if neg2 {
        (BigUint::from(0u32), 0)
    } else {
        (b, eb)
    };
    let nb = b * n;
    let a2 = &a * &a;
    let e2a = 2 * ea;
    let e0 = eb.min(e2a);
    let lhs = nb << ((eb - e0) as u64);
    let rhs = a2 << ((e2a - e0) as u64);
    if lhs <= rhs {
        (BigUint::from(0u32), 0)
    } else {
        (lhs - rhs, e0)
    }
}

/// `(n * S2 - S1^2) / n^2` correctly rounded (n > 0); NaN with any non-finite input.
/// `s2` must be the sum of squares of the same finite inputs as `s1`.
pub fn var_pop(s1: &ExactSum, s2: &SquareSum, n: u64) -> f64 {
    if n == 0 || !s1.is_finite() {
        return f64::NAN;
    }
    let (p, e) = var_numerator(s1, s2, n);
    let n2 = BigUint::from(n as u128 * n as u128);
    round_ratio(&p, &n2, e)
}

/// `sqrt((n * S2 - S1^2) / n^2)` correctly rounded (n > 0); NaN with any non-finite input.
pub fn stddev_pop(s1: &ExactSum, s2: &SquareSum, n: u64) -> f64 {
    if n == 0 || !s1.is_finite() {
        return f64::NAN;
    }
    let (p, e) = var_numerator(s1, s2, n);
    let n2 = BigUint::from(n as u128 * n as u128);
    round_sqrt_ratio(&p, &n2, e)
}
