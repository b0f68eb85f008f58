//! `FixedAcc`: an exact signed integer accumulator in base 2^32 with deferred carries,
//! storing only the range of limbs in use. The fixed-point sums build on it.

use super::round::Mag;
use crate::snapshot::{vec_with_capacity, Persist, Reader, SnapshotError, Writer};

/// Adds between two carry normalizations. Each add puts less than 2^32 into a limb,
/// and a normalized limb is below 2^32 in magnitude, so limbs stay below 2^62.
const MAX_PENDING: u32 = 1 << 30;

/// An exact integer `sum_i limbs[i] * 2^(32 * (lo + i))`.
///
/// Invariants: every limb's magnitude stays below 2^63 (carries are propagated every
/// `MAX_PENDING` adds); the value does not depend on the order of adds; adding then
/// subtracting the same amount restores the same value (not necessarily the same
/// limbs). Storage grows to cover the limbs touched and never shrinks except on `clear`.
#[derive(Debug, Default)]
pub struct FixedAcc {
    lo: u32,
    limbs: Vec<i64>,
    pending: u32,
}

/// `clone_from` reuses the limbs' allocation (a lifetime state is copied in place at
/// every drop, see `KeyState`).
impl Clone for FixedAcc {
    fn clone(&self) -> Self {
        FixedAcc {
            lo: self.lo,
            limbs: self.limbs.clone(),
            pending: self.pending,
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.lo = source.lo;
        self.limbs.clone_from(&source.limbs);
        self.pending = source.pending;
    }
}

impl FixedAcc {
    pub const fn new() -> FixedAcc {
        FixedAcc {
            lo: 0,
            limbs: Vec::new(),
            pending: 0,
        }
    }

    pub fn clear(&mut self) {
        self.limbs.clear();
        self.lo = 0;
        self.pending = 0;
    }

    /// Starts loading the limbs (see `crate::prefetch`).
    #[inline]
    pub fn prefetch(&self) {
        crate::prefetch::prefetch_slice(&self.limbs);
    }

    /// Approximate heap + inline size, for state accounting.
    pub fn approx_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.limbs.capacity() * 8
    }

    /// Makes limbs `k_lo..=k_hi` addressable; returns the index of `k_lo` in `limbs`.
    #[inline]
    fn reserve(&mut self, k_lo: u32, k_hi: u32) -> usize {
        // Nearly every add lands in limbs already there.
        if k_lo >= self.lo && ((k_hi - self.lo) as usize) < self.limbs.len() {
            return (k_lo - self.lo) as usize;
        }
        self.grow(k_lo, k_hi)
    }

    /// `reserve`'s slow path: the limbs do not cover `k_lo..=k_hi` yet.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, k_lo: u32, k_hi: u32) -> usize {
        if self.limbs.is_empty() {
            self.lo = k_lo;
            self.limbs.resize((k_hi - k_lo + 1) as usize, 0);
            return 0;
        }
        if k_lo < self.lo {
            let extra = (self.lo - k_lo) as usize;
            self.limbs.splice(0..0, std::iter::repeat_n(0, extra));
            self.lo = k_lo;
        }
        let need = (k_hi - self.lo + 1) as usize;
        if need > self.limbs.len() {
            self.limbs.resize(need, 0);
        }
        (k_lo - self.lo) as usize
    }

    #[inline]
    fn tick(&mut self) {
        self.pending += 1;
        if self.pending >= MAX_PENDING {
            self.normalize();
        }
    }

    /// Adds (or subtracts, when `neg`) `mag * 2^pos` for `mag < 2^64`.
    #[inline]
    pub fn add_u64_at(&mut self, mag: u64, pos: u32, neg: bool) {
        if mag == 0 {
            return;
        }
        let k = pos / 32;
        let wide = (mag as u128) << (pos % 32);
        let i = self.reserve(k, k + 2);
        let c0 = (wide & 0xFFFF_FFFF) as i64;
        let c1 = ((wide >> 32) & 0xFFFF_FFFF) as i64;
        let c2 = (wide >> 64) as i64;
        let l = &mut self.limbs[i..i + 3];
        if neg {
            l[0] -= c0;
            l[1] -= c1;
            l[2] -= c2;
        } else {
            l[0] += c0;
            l[1] += c1;
            l[2] += c2;
        }
        self.tick();
    }

    /// Adds (or subtracts, when `neg`) `mag * 2^pos` for any `mag < 2^128`.
    pub fn add_u128_at(&mut self, mag: u128, pos: u32, neg: bool) {
        if mag == 0 {
            return;
        }
        let k = pos / 32;
        let r = pos % 32;
        let low = mag << r;
        let high = if r == 0 { 0 } else { (mag >> (128 - r)) as u64 };
        let i = self.reserve(k, k + 4);
        let chunks = [
            (low & 0xFFFF_FFFF) as i64,
            ((low >> 32) & 0xFFFF_FFFF) as i64,
            ((low >> 64) & 0xFFFF_FFFF) as i64,
            (low >> 96) as i64,
            high as i64,
        ];
        for (l, c) in self.limbs[i..i + 5].iter_mut().zip(chunks) {
            if neg {
                *l -= c;
            } else {
                *l += c;
            }
        }
        self.tick();
    }

    /// Adds (or subtracts, when `neg`) another accumulator's value.
    pub fn merge(&mut self, other: &FixedAcc, neg: bool) {
        if other.limbs.is_empty() {
            return;
        }
        let mut o = other.clone();
        o.normalize();
        self.normalize();
        let k_hi = o.lo + o.limbs.len() as u32 - 1;
        let i = self.reserve(o.lo, k_hi);
        for (l, c) in self.limbs[i..].iter_mut().zip(&o.limbs) {
            if neg {
                *l -= c;
            } else {
                *l += c;
            }
        }
        self.tick();
    }

    /// Propagates carries: afterwards every limb but the last is in `[0, 2^32)`.
    pub fn normalize(&mut self) {
        self.pending = 0;
        let mut carry: i64 = 0;
        for l in self.limbs.iter_mut() {
            let v = *l as i128 + carry as i128;
            *l = (v & 0xFFFF_FFFF) as i64;
            carry = (v >> 32) as i64;
        }
        while carry != 0 && carry != -1 {
            self.limbs.push(carry & 0xFFFF_FFFF);
            carry >>= 32;
        }
        if carry == -1 {
            // The value is negative: fold the infinite sign extension into the top limb.
            match self.limbs.last_mut() {
                Some(top) => *top -= 1 << 32,
                None => self.limbs.push(-1),
            }
        }
    }

    /// True when the exact value is zero.
    pub fn is_zero(&self) -> bool {
        if self.limbs.iter().all(|&l| l == 0) {
            return true;
        }
        let mut m = Mag::new();
        self.magnitude(&mut m);
        m.is_zero()
    }

    /// Writes `|value|` into `out` (base-2^32 digits, least significant first, with
    /// `out.shift` = the limb index of digit 0) and returns true when negative.
    pub fn magnitude(&self, out: &mut Mag) -> bool {
        out.reset(self.lo, self.limbs.len() + 4);
        let mut carry: i128 = 0;
        for &l in &self.limbs {
            let v = l as i128 + carry;
            out.push((v & 0xFFFF_FFFF) as u32);
            carry = v >> 32;
        }
        while carry != 0 && carry != -1 {
            out.push((carry & 0xFFFF_FFFF) as u32);
            carry >>= 32;
        }
        let neg = carry == -1;
        if neg {
            out.negate();
        }
        out.trim();
        neg
    }
}

/// The limbs as they are (not normalized: `pending` decides when the next
/// normalization happens), with their capacity (`approx_bytes` counts it).
impl Persist for FixedAcc {
    fn save(&self, w: &mut Writer) {
        w.u32(self.lo);
        w.u32(self.pending);
        w.usize(self.limbs.len());
        w.usize(self.limbs.capacity());
        for &l in &self.limbs {
            w.i64(l);
        }
    }

    fn load(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        let lo = r.u32()?;
        let pending = r.u32()?;
        let n = r.count(1)?;
        let mut limbs = vec_with_capacity(r.capacity(n)?)?;
        for _ in 0..n {
            limbs.push(r.i64()?);
        }
        if pending >= MAX_PENDING || (lo as usize).saturating_add(n) > (u32::MAX as usize) {
            return Err(SnapshotError::Malformed(
                "exact sum limbs out of range".into(),
            ));
        }
        Ok(FixedAcc { lo, limbs, pending })
    }
}
