//! Exact sums of numbers for sum, avg, var_pop and stddev_pop: every finite f64 is
//! `m * 2^e` with integer `m`, so the sums are big integers at one common scale.

use num_bigint::BigInt;

/// A finite number as `mantissa * 2^exp`, with the mantissa odd (or zero with exp 0)
/// so that common scales stay as coarse as the data allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dyadic {
    pub mantissa: i64,
    pub exp: i64,
}

impl Dyadic {
    pub fn from_i64(v: i64) -> Dyadic {
        Dyadic::normalized(v, 0)
    }

    /// `None` for NaN and infinities.
    pub fn from_f64(x: f64) -> Option<Dyadic> {
        if !x.is_finite() {
            return None;
        }
        let bits = x.to_bits();
        let exp_field = ((bits >> 52) & 0x7ff) as i64;
        let fraction = (bits & ((1u64 << 52) - 1)) as i64;
        let (m, e) = if exp_field == 0 {
            (fraction, -1074)
        } else {
            (fraction | (1i64 << 52), exp_field - 1075)
        };
        let m = if x.is_sign_negative() { -m } else { m };
        Some(Dyadic::normalized(m, e))
    }

    fn normalized(m: i64, e: i64) -> Dyadic {
        if m == 0 {
            return Dyadic {
                mantissa: 0,
                exp: 0,
            };
        }
        let tz = m.trailing_zeros() as i64;
        // i64::MIN has 63 trailing zeros; shifting it right arithmetically keeps it -1.
        Dyadic {
            mantissa: m >> tz,
            exp: e + tz,
        }
    }
}

/// `n` values with `Σx = s1 * 2^exp` and `Σx² = s2 * 2^(2 exp)`, exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct Moments {
    pub n: u64,
    pub s1: BigInt,
    pub s2: BigInt,
    pub exp: i64,
}

pub fn moments(values: &[Dyadic]) -> Moments {
    let exp = values
        .iter()
        .filter(|d| d.mantissa != 0)
        .map(|d| d.exp)
        .min()
        .unwrap_or(0);
    let mut s1 = BigInt::from(0);
    let mut s2 = BigInt::from(0);
    for d in values {
        if d.mantissa == 0 {
            continue;
        }
        let scaled = BigInt::from(d.mantissa) << ((d.exp - exp) as u64);
        s2 += &scaled * &scaled;
        s1 += scaled;
    }
    Moments {
        n: values.len() as u64,
        s1,
        s2,
        exp,
    }
}

impl Moments {
    /// `n Σx² − (Σx)²` at scale `2^(2 exp)`: n² times the population variance.
    pub fn n2_variance(&self) -> BigInt {
        BigInt::from(self.n) * &self.s2 - &self.s1 * &self.s1
    }
}
