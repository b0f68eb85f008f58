//! Slow, independent oracles for the algebra tests: exact rationals (BigRational)
//! rounded to f64 by bisection over f64 bit patterns, not by the code under test.
#![allow(dead_code)]

pub mod cases;
pub mod naive;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};

/// The exact rational value of a finite f64.
pub fn rat(x: f64) -> BigRational {
    assert!(x.is_finite());
    let bits = x.to_bits();
    let e = ((bits >> 52) & 0x7FF) as i64;
    let frac = bits & ((1u64 << 52) - 1);
    let (m, p) = if e == 0 {
        (frac, -1074)
    } else {
        (frac | (1 << 52), e - 1075)
    };
    let mut r = BigRational::from_integer(BigInt::from(m));
    let two = BigRational::from_integer(BigInt::from(2));
    let scale = num_traits::pow(two, p.unsigned_abs() as usize);
    if p >= 0 {
        r *= scale;
    } else {
        r /= scale;
    }
    if bits >> 63 == 1 {
        -r
    } else {
        r
    }
}

/// The positive finite f64 with the given bits (bits < inf).
fn pos(bits: u64) -> BigRational {
    rat(f64::from_bits(bits))
}

/// Largest non-negative finite f64 bits `b` with `below(b)` true (`below` monotone).
fn bisect(below: impl Fn(u64) -> bool) -> u64 {
    let (mut lo, mut hi) = (0u64, f64::MAX.to_bits());
    if below(hi) {
        return hi;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if below(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// `r` correctly rounded to f64 (nearest, ties to even); exact zero is +0.0.
pub fn round_rat(r: &BigRational) -> f64 {
    if r.is_zero() {
        return 0.0;
    }
    let a = r.abs();
    let lo = bisect(|b| pos(b) <= a);
    let out = if lo == f64::MAX.to_bits() {
        // Overflow threshold: MAX + half an ulp of MAX (2^1024 - 2^970).
        let half_ulp = rat(2f64.powi(970));
        if a >= pos(lo) + half_ulp {
            f64::INFINITY
        } else {
            f64::MAX
        }
    } else {
        let (l, h) = (pos(lo), pos(lo + 1));
        let dl = &a - &l;
        let dh = &h - &a;
        if dl < dh || (dl == dh && lo % 2 == 0) {
            f64::from_bits(lo)
        } else {
            f64::from_bits(lo + 1)
        }
    };
    if r.is_negative() {
        -out
    } else {
        out
    }
}

/// `sqrt(r)` correctly rounded (r >= 0).
pub fn round_sqrt_rat(r: &BigRational) -> f64 {
    assert!(!r.is_negative());
    if r.is_zero() {
        return 0.0;
    }
    let lo = bisect(|b| {
        let x = pos(b);
        &x * &x <= *r
    });
    let two = BigRational::from_integer(BigInt::from(2));
    // Above f64::MAX the next "value" is 2^1024 (IEEE overflow threshold at the midpoint).
    let l = pos(lo);
    let h = if lo == f64::MAX.to_bits() {
        rat(2f64.powi(970)) * rat(2f64.powi(54))
    } else {
        pos(lo + 1)
    };
    let m = (&l + &h) / two;
    let m2 = &m * &m;
    if *r < m2 || (*r == m2 && lo % 2 == 0) {
        f64::from_bits(lo)
    } else {
        f64::from_bits(lo + 1)
    }
}

pub fn rat_int(x: i64) -> BigRational {
    BigRational::from_integer(BigInt::from(x))
}

/// Exact avg / var_pop of finite values (as rationals), `None` when empty.
pub fn exact_avg(xs: &[BigRational]) -> Option<BigRational> {
    if xs.is_empty() {
        return None;
    }
    let n = rat_int(xs.len() as i64);
    let s: BigRational = xs.iter().fold(BigRational::zero(), |a, b| a + b);
    Some(s / n)
}

pub fn exact_var(xs: &[BigRational]) -> Option<BigRational> {
    if xs.is_empty() {
        return None;
    }
    let n = rat_int(xs.len() as i64);
    let s1: BigRational = xs.iter().fold(BigRational::zero(), |a, b| a + b);
    let s2: BigRational = xs.iter().fold(BigRational::zero(), |a, b| a + b * b);
    Some((&n * s2 - &s1 * &s1) / (&n * &n))
}
