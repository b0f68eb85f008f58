//! Correct rounding of exact rationals to f64 (nearest, ties to even, subnormals,
//! overflow to infinity), and a correctly rounded square root of a rational.
//!
//! Both work on `num / den * 2^exp2` so that callers can keep power-of-two scales out
//! of the big integers. The method is the schoolbook one: find the result's binomial
//! exponent exactly, scale so that the integer part of the quotient is the 53-bit (or
//! shorter, subnormal) significand, and round with the exact remainder.

use std::cmp::Ordering;

use num_bigint::{BigInt, BigUint, Sign};
use num_traits::{ToPrimitive, Zero};

const MANTISSA_BITS: i64 = 52;
/// The exponent of the smallest subnormal's unit, 2^-1074.
const MIN_UNIT_EXP: i64 = -1074;
const MAX_EXP: i64 = 1023;

/// `floor(log2(a / b))` for positive `a`, `b`.
fn floor_log2_ratio(a: &BigUint, b: &BigUint) -> i64 {
    let e = a.bits() as i64 - b.bits() as i64;
    // a / b lies in [2^(e-1), 2^(e+1)); one comparison decides which half.
    let at_least = if e >= 0 {
        *a >= (b << (e as u64))
    } else {
        (a << ((-e) as u64)) >= *b
    };
    if at_least {
        e
    } else {
        e - 1
    }
}

/// `(a * 2^s, b)` or `(a, b * 2^-s)`, so that a quotient by 2^-s needs no fractions.
fn scaled(a: &BigUint, b: &BigUint, s: i64) -> (BigUint, BigUint) {
    if s >= 0 {
        (a << (s as u64), b.clone())
    } else {
        (a.clone(), b << ((-s) as u64))
    }
}

/// The f64 `q * 2^unit_exp` where `q <= 2^53` is an already rounded significand and
/// `unit_exp >= -1074`; overflows to infinity.
fn compose(negative: bool, mut q: u64, mut unit_exp: i64) -> f64 {
    if q == 1 << 53 {
        q = 1 << 52;
        unit_exp += 1;
    }
    let bits = if q < 1 << 52 {
        // Only reachable at the subnormal unit: the significand is the bit pattern.
        q
    } else {
        let biased = unit_exp + 1075;
        if biased >= 2047 {
            return if negative {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            };
        }
        ((biased as u64) << 52) | (q & ((1 << 52) - 1))
    };
    let magnitude = f64::from_bits(bits);
    if negative {
        -magnitude
    } else {
        magnitude
    }
}

fn infinity(negative: bool) -> f64 {
    if negative {
        f64::NEG_INFINITY
    } else {
        f64::INFINITY
    }
}

/// Rounds the significand `q` (the floor of the exact value in units) up or not,
/// given how the dropped fraction compares with one half.
fn round_half_even(q: BigUint, fraction_vs_half: Ordering) -> Option<u64> {
    let q = q.to_u64()?;
    Some(match fraction_vs_half {
        Ordering::Greater => q + 1,
        Ordering::Equal if q & 1 == 1 => q + 1,
        _ => q,
    })
}

/// `num / den * 2^exp2` correctly rounded to the nearest f64, ties to even. An exact
/// zero gives `+0.0`; a nonzero value too small for the smallest subnormal gives a
/// zero of its sign. `den == 0` gives NaN (callers never divide by zero).
pub fn round_ratio(num: &BigInt, den: &BigInt, exp2: i64) -> f64 {
    if den.is_zero() {
        return f64::NAN;
    }
    if num.is_zero() {
        return 0.0;
    }
    let negative = (num.sign() == Sign::Minus) != (den.sign() == Sign::Minus);
    let a = num.magnitude();
    let b = den.magnitude();
    let exponent = floor_log2_ratio(a, b).saturating_add(exp2);
    if exponent > MAX_EXP {
        return infinity(negative);
    }
    if exponent < MIN_UNIT_EXP - 2 {
        // Below 2^-1076 < half the smallest subnormal.
        return if negative { -0.0 } else { 0.0 };
    }
    let unit_exp = (exponent - MANTISSA_BITS).max(MIN_UNIT_EXP);
    let (n, d) = scaled(a, b, exp2 - unit_exp);
    let q = &n / &d;
    let r = &n - &q * &d;
    match round_half_even(q, (r << 1u32).cmp(&d)) {
        Some(q) => compose(negative, q, unit_exp),
        None => f64::NAN,
    }
}

/// The square root of `num / den * 2^exp2` correctly rounded to the nearest f64,
/// ties to even. A negative value gives NaN; zero gives `+0.0`.
pub fn sqrt_ratio(num: &BigInt, den: &BigInt, exp2: i64) -> f64 {
    if den.is_zero() {
        return f64::NAN;
    }
    if num.is_zero() {
        return 0.0;
    }
    if (num.sign() == Sign::Minus) != (den.sign() == Sign::Minus) {
        return f64::NAN;
    }
    let a = num.magnitude();
    let b = den.magnitude();
    // floor(log2(sqrt(x))) = floor(floor(log2(x)) / 2).
    let exponent = floor_log2_ratio(a, b).saturating_add(exp2).div_euclid(2);
    if exponent > MAX_EXP {
        return f64::INFINITY;
    }
    if exponent < MIN_UNIT_EXP - 2 {
        return 0.0;
    }
    let unit_exp = (exponent - MANTISSA_BITS).max(MIN_UNIT_EXP);
    // In units of 2^unit_exp the root is sqrt(x * 2^(-2 unit_exp)) = sqrt(n / d).
    let (n, d) = scaled(a, b, exp2 - 2 * unit_exp);
    // floor(sqrt(n / d)) = isqrt(floor(n / d)).
    let q = (&n / &d).sqrt();
    // Root vs q + 1/2  <=>  n / d vs (2q + 1)^2 / 4.
    let twice_plus_one: BigUint = (&q << 1u32) + 1u32;
    let vs_half = (n << 2u32).cmp(&(d * &twice_plus_one * &twice_plus_one));
    match round_half_even(q, vs_half) {
        Some(q) => compose(false, q, unit_exp),
        None => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ratio(n: i64, d: i64, e: i64) -> f64 {
        round_ratio(&BigInt::from(n), &BigInt::from(d), e)
    }

    #[test]
    fn simple_values() {
        assert_eq!(ratio(1, 3, 0), 1.0 / 3.0);
        assert_eq!(ratio(-2, 3, 0), -2.0 / 3.0);
        assert_eq!(ratio(1, 1, -1074), f64::from_bits(1));
        assert_eq!(ratio(1, 1, 1024), f64::INFINITY);
        assert_eq!(ratio(0, 5, 0).to_bits(), 0.0f64.to_bits());
    }

    #[test]
    fn square_roots() {
        for x in [2.0f64, 3.0, 0.5, 1e-300, 1e300, f64::from_bits(1), f64::MAX] {
            let bits = x.to_bits();
            let exp_field = ((bits >> 52) & 0x7ff) as i64;
            let frac = bits & ((1 << 52) - 1);
            let (m, e) = if exp_field == 0 {
                (frac, -1074)
            } else {
                (frac | (1 << 52), exp_field - 1075)
            };
            let got = sqrt_ratio(&BigInt::from(m), &BigInt::from(1), e);
            assert_eq!(got.to_bits(), x.sqrt().to_bits(), "sqrt({x})");
        }
    }
}
