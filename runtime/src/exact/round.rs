//! Correct rounding (nearest, ties to even) of exact binary magnitudes to f64, and
//! `Mag`, the allocation-free scratch magnitude the rounding reads.

use num_bigint::BigUint;
use num_traits::ToPrimitive;

const INLINE: usize = 160;

/// A non-negative integer `sum_i d[i] * 2^(32 * (shift + i))` in base-2^32 digits,
/// least significant first. Inline up to 160 digits (covers every f64 sum and sum of
/// squares); spills to the heap beyond that, so it never fails.
pub struct Mag {
    inline: [u32; INLINE],
    spill: Vec<u32>,
    len: usize,
    /// Limb index (in units of 32 bits) of digit 0.
    pub shift: u32,
}

impl Default for Mag {
    fn default() -> Self {
        Mag::new()
    }
}

impl Mag {
    pub fn new() -> Mag {
        Mag {
            inline: [0; INLINE],
            spill: Vec::new(),
            len: 0,
            shift: 0,
        }
    }

    /// Empties the magnitude, preparing room for `cap` digits.
    pub fn reset(&mut self, shift: u32, cap: usize) {
        self.shift = shift;
        self.len = 0;
        self.spill.clear();
        if cap > INLINE {
            self.spill.reserve(cap);
        }
    }

    fn spilled(&self) -> bool {
        !self.spill.is_empty() || self.len > INLINE
    }

    #[inline]
    pub fn push(&mut self, d: u32) {
        if self.len < INLINE && self.spill.is_empty() {
            self.inline[self.len] = d;
        } else {
            if self.spill.is_empty() {
                self.spill.extend_from_slice(&self.inline[..self.len]);
            }
            self.spill.push(d);
        }
        self.len += 1;
    }

    pub fn digits(&self) -> &[u32] {
        if self.spilled() {
            &self.spill[..self.len]
        } else {
            &self.inline[..self.len]
        }
    }

    fn digits_mut(&mut self) -> &mut [u32] {
        if self.spilled() {
            &mut self.spill[..self.len]
        } else {
            &mut self.inline[..self.len]
        }
    }

    /// Replaces `v` (read as `v - 2^(32 len)`, a negative number) by its magnitude.
    pub fn negate(&mut self) {
        let mut carry = 1u64;
        for d in self.digits_mut() {
            let v = (!*d) as u64 + carry;
            *d = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.push(1);
        }
    }

    /// Drops leading (most significant) zero digits.
    pub fn trim(&mut self) {
        while self.len > 0 && self.digits()[self.len - 1] == 0 {
            self.len -= 1;
        }
    }

    pub fn is_zero(&self) -> bool {
        self.digits().iter().all(|&d| d == 0)
    }

    /// Divides by `n > 0` in place (long division); returns true when the remainder
    /// is non-zero.
    pub fn div_rem_u64(&mut self, n: u64) -> bool {
        let mut rem: u128 = 0;
        for d in self.digits_mut().iter_mut().rev() {
            let cur = (rem << 32) | *d as u128;
            *d = (cur / n as u128) as u32;
            rem = cur % n as u128;
        }
        self.trim();
        rem != 0
    }

    /// The magnitude as a `BigUint` together with its binary exponent `32 * shift`.
    pub fn to_biguint(&self) -> (BigUint, i64) {
        (BigUint::from_slice(self.digits()), 32 * self.shift as i64)
    }
}

fn bit_len(d: &[u32]) -> i64 {
    match d.iter().rposition(|&x| x != 0) {
        None => 0,
        Some(i) => 32 * i as i64 + (32 - d[i].leading_zeros() as i64),
    }
}

fn bit(d: &[u32], i: i64) -> bool {
    if i < 0 {
        return false;
    }
    let w = (i / 32) as usize;
    w < d.len() && (d[w] >> (i % 32)) & 1 == 1
}

/// True when any bit below position `i` is set.
fn any_below(d: &[u32], i: i64) -> bool {
    if i <= 0 {
        return false;
    }
    let w = ((i / 32) as usize).min(d.len());
    if d[..w].iter().any(|&x| x != 0) {
        return true;
    }
    let r = i % 32;
    w < d.len() && r > 0 && d[w] & ((1u32 << r) - 1) != 0
}

/// Bits `[from, from + 53)` as an integer (bits beyond the end read as zero).
fn bits_from(d: &[u32], from: i64) -> u64 {
    debug_assert!(from >= 0);
    let w = (from / 32) as usize;
    let r = from % 32;
    let mut acc: u128 = 0;
    for k in (0..3).rev() {
        acc = (acc << 32) | d.get(w + k).copied().unwrap_or(0) as u128;
    }
    ((acc >> r) as u64) & ((1u64 << 53) - 1)
}

/// Correctly rounds `(m + s) * 2^exp` to f64 (nearest, ties to even), where `m` is the
/// magnitude `d` and `s` is an unknown quantity in (0, 1) when `sticky` (else 0).
/// Requirement when `sticky`: the rounding bit of the result lies inside `d` (at
/// least 55 significant bits for a normal result; `exp <= -1076` for a subnormal one). Returns a non-negative f64 (+inf on overflow, +0.0 for 0).
pub fn round_digits(d: &[u32], sticky: bool, exp: i64) -> f64 {
    let len = bit_len(d);
    if len == 0 {
        return 0.0;
    }
    let top = len - 1 + exp;
    if top >= 1024 {
        return f64::INFINITY;
    }
    let kept_low = (top - 52).max(-1074);
    let drop = kept_low - exp;
    let mut q;
    if drop <= 0 {
        // Exact: every bit fits.
        q = bits_from(d, 0) << (-drop);
    } else {
        q = bits_from(d, drop);
        let half = bit(d, drop - 1);
        let rest = sticky || any_below(d, drop - 1);
        if half && (rest || q & 1 == 1) {
            q += 1;
        }
    }
    let bits = (((kept_low + 1074) as u64) << 52) + q;
    if bits >= f64::INFINITY.to_bits() {
        return f64::INFINITY;
    }
    f64::from_bits(bits)
}

/// Lowest power of two the quotient digits must reach so that `round_digits` sees
/// the rounding bit: for a result that may be subnormal (`log2_low`, a lower bound of
/// the result's binary logarithm, below -1021) the digits must extend to the smallest
/// subnormal's rounding bit (`-1076`); a normal result only needs its own 53 bits plus
/// two, which the callers' 56-bit quotients always have. Shifting every quotient down
/// to 2^-1076 would be correct too, but costs a ~1000-bit division per read.
fn may_be_subnormal(log2_low: i64) -> bool {
    log2_low < -1021
}

/// Correctly rounds `num / den * 2^exp` (den > 0) to f64; non-negative.
pub fn round_ratio(num: &BigUint, den: &BigUint, exp: i64) -> f64 {
    if num.bits() == 0 {
        return 0.0;
    }
    let nb = num.bits() as i64;
    let db = den.bits() as i64;
    // num / den >= 2^(nb - 1 - db).
    let mut sh = (56 + db - nb).max(0);
    if may_be_subnormal(nb - 1 - db + exp) {
        sh = sh.max(exp + 1076);
    }
    let scaled = num << (sh as u64);
    let (q, r) = num_integer::Integer::div_rem(&scaled, den);
    let sticky = r.bits() != 0;
    round_digits(&q.to_u32_digits(), sticky, exp - sh)
}

/// Correctly rounds `sqrt(num / den * 2^exp)` (den > 0) to f64; non-negative.
pub fn round_sqrt_ratio(num: &BigUint, den: &BigUint, exp: i64) -> f64 {
    if num.bits() == 0 {
        return 0.0;
    }
    // Make the exponent even so it halves exactly.
    let (num, exp) = if exp % 2 != 0 {
        (num << 1u32, exp - 1)
    } else {
        (num.clone(), exp)
    };
    let half = exp / 2;
    let nb = num.bits() as i64;
    let db = den.bits() as i64;
    // sqrt(num/den * 2^exp) = sqrt(num * 2^(2k) / den) * 2^(half - k); pick k so the
    // integer radicand M = floor(num * 2^(2k) / den) has 113 to 116 bits, so that its
    // root has >= 56 (and, for a possibly subnormal result, so that the root's last
    // bit is below the subnormal rounding bit). A negative k drops low bits of num
    // into the sticky bit: with M + f (0 <= f < 1) under the root, sqrt(M + f) lies
    // in [isqrt(M), isqrt(M) + 1), so only "exactly isqrt(M)" needs telling apart.
    let mut k = (115 + db - nb).div_euclid(2);
    // The root is >= 2^((nb - 1 - db + exp) / 2), rounded down.
    if may_be_subnormal((nb - 1 - db + exp).div_euclid(2) - 1) {
        k = k.max(half + 1076);
    }
    let (scaled, dropped) = if k >= 0 {
        (&num << ((2 * k) as u64), false)
    } else {
        let drop = (-2 * k) as u64;
        let dropped = num.trailing_zeros().is_some_and(|z| z < drop);
        (&num >> drop, dropped)
    };
    let (m, rem) = num_integer::Integer::div_rem(&scaled, den);
    let exact_div = !dropped && rem.bits() == 0;
    // The radicand fits a u128 unless the result may be subnormal; a u128's integer
    // root costs a tenth of BigUint's Newton iteration (which took a quarter of a
    // 32-feature read).
    if let Some(x) = m.to_u128() {
        let r = x.isqrt();
        let sticky = !exact_div || r * r != x;
        return round_digits(&u128_digits(r), sticky, half - k);
    }
    let r = m.sqrt();
    let sticky = !exact_div || &r * &r != m;
    round_digits(&r.to_u32_digits(), sticky, half - k)
}

/// The base-2^32 digits of `x`, least significant first.
fn u128_digits(x: u128) -> [u32; 4] {
    [
        x as u32,
        (x >> 32) as u32,
        (x >> 64) as u32,
        (x >> 96) as u32,
    ]
}
