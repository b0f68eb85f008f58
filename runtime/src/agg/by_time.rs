//! `ByTime`: the monoid of `last_k` and `first_k`, the `k` non-null values at one end
//! of the order by `(ts, value)` (values in the featc total order), as a list.
//!
//! The state is an ordered multiset of `(ts, value)` keys: a window's holds every
//! event it folds, so an event leaving the window is removed exactly (O(log n)) and a
//! read walks the `k` keys at the chosen end (O(k), no sort). A lifetime state is
//! never removed from and keeps only the `k` best keys (`ByTime::bounded`): the `k`
//! best of a union are among the `k` best of its parts, so it stays a monoid.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::Arc;

use super::{AggError, Aggregation, Invertible};
use crate::ir::Scalar;
use crate::snapshot::{Persist, Reader, SnapshotError, Writer};
use crate::value::{List, Value, ValueKey};

/// Which end of the `(ts, value)` order a list starts from.
pub trait End: Clone + Copy + Send + Sync + std::fmt::Debug + Default + 'static {
    /// True for the newest first (`last_k`: greatest key first), false for the
    /// oldest first (`first_k`: smallest key first).
    const NEWEST: bool;
}

/// The `k` values at end `E`, over inputs of type `item`.
#[derive(Debug, Clone, Copy)]
pub struct ByTime<E: End> {
    k: u32,
    item: Scalar,
    /// Keep only the `k` best keys (a lifetime state, never removed from).
    bounded: bool,
    end: PhantomData<E>,
}

impl<E: End> ByTime<E> {
    /// The aggregation for a window: every folded event is kept, so removal is exact.
    pub fn new(k: u32, item: Scalar) -> ByTime<E> {
        ByTime {
            k,
            item,
            bounded: false,
            end: PhantomData,
        }
    }

    /// The aggregation for a lifetime: only the `k` best keys are kept. `remove` and
    /// `uncombine` are not exact on it (nothing calls them on a lifetime state).
    pub fn bounded(k: u32, item: Scalar) -> ByTime<E> {
        ByTime {
            bounded: true,
            ..ByTime::new(k, item)
        }
    }

    /// Drops keys from the worse end until at most `k` events are left.
    fn trim(&self, s: &mut ByTimeState) {
        let k = u64::from(self.k);
        while self.bounded && s.n > k {
            let worst = if E::NEWEST {
                s.entries.first_entry()
            } else {
                s.entries.last_entry()
            };
            let Some(mut e) = worst else { break };
            let drop = (*e.get()).min(s.n - k);
            *e.get_mut() -= drop;
            s.n -= drop;
            if *e.get() == 0 {
                e.remove();
            }
        }
    }
}

/// `(ts, canonical value)` -> multiplicity, and the number of events it holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ByTimeState {
    entries: BTreeMap<(i64, ValueKey), u64>,
    n: u64,
}

impl ByTimeState {
    fn add(&mut self, key: (i64, ValueKey), count: u64) {
        *self.entries.entry(key).or_insert(0) += count;
        self.n += count;
    }

    fn sub(&mut self, key: &(i64, ValueKey), count: u64) {
        if let Some(c) = self.entries.get_mut(key) {
            let taken = (*c).min(count);
            *c -= taken;
            self.n -= taken;
            if *c == 0 {
                self.entries.remove(key);
            }
        }
    }
}

/// The key of a non-null value; `None` for null.
fn key(ts: i64, v: &Value) -> Option<(i64, ValueKey)> {
    (!v.is_null()).then(|| (ts, ValueKey(v.canonical())))
}

impl<E: End> Aggregation for ByTime<E> {
    type State = ByTimeState;
    const INVERTIBLE: bool = true;

    fn identity(&self) -> ByTimeState {
        ByTimeState::default()
    }

    fn combine(&self, into: &mut ByTimeState, other: &ByTimeState) {
        for (k, c) in &other.entries {
            into.add(k.clone(), *c);
        }
        self.trim(into);
    }

    fn finish(&self, s: &ByTimeState) -> Result<Value, AggError> {
        let k = self.k as usize;
        let mut items = Vec::with_capacity(k.min(s.n as usize));
        let mut take = |((_, v), c): (&(i64, ValueKey), &u64)| {
            for _ in 0..*c {
                if items.len() == k {
                    return false;
                }
                items.push(v.0.clone());
            }
            items.len() < k
        };
        if E::NEWEST {
            for e in s.entries.iter().rev() {
                if !take(e) {
                    break;
                }
            }
        } else {
            for e in s.entries.iter() {
                if !take(e) {
                    break;
                }
            }
        }
        Ok(Value::List(Arc::new(List {
            item: self.item,
            items,
            counts: None,
        })))
    }

    #[inline]
    fn insert(&self, s: &mut ByTimeState, ts: i64, v: &Value) {
        if let Some(k) = key(ts, v) {
            s.add(k, 1);
            self.trim(s);
        }
    }

    fn state_bytes(&self, s: &ByTimeState) -> usize {
        // A B-tree entry: the key, the count and about a third of a node's overhead.
        48 + s.entries.len() * (std::mem::size_of::<((i64, ValueKey), u64)>() + 16)
    }
}

impl<E: End> Invertible for ByTime<E> {
    #[inline]
    fn remove(&self, s: &mut ByTimeState, ts: i64, v: &Value) {
        if let Some(k) = key(ts, v) {
            s.sub(&k, 1);
        }
    }

    fn uncombine(&self, from: &mut ByTimeState, other: &ByTimeState) {
        for (k, c) in &other.entries {
            from.sub(k, *c);
        }
    }
}

/// The entries in key order: `(ts, value, multiplicity)`.
impl Persist for ByTimeState {
    fn save(&self, w: &mut Writer) {
        w.usize(self.entries.len());
        for ((ts, v), c) in &self.entries {
            w.i64(*ts);
            v.save(w);
            w.u64(*c);
        }
    }

    fn load(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        let malformed = |m: &str| SnapshotError::Malformed(format!("a last_k/first_k state {m}"));
        let n = r.count(3)?;
        let mut s = ByTimeState::default();
        let mut last: Option<(i64, ValueKey)> = None;
        for _ in 0..n {
            let key = (r.i64()?, ValueKey::load(r)?);
            let c = r.u64()?;
            if c == 0 || key.1 .0.is_null() || last.as_ref().is_some_and(|l| *l >= key) {
                return Err(malformed("out of order"));
            }
            s.n = s.n.checked_add(c).ok_or_else(|| malformed("too large"))?;
            last = Some(key.clone());
            s.entries.insert(key, c);
        }
        Ok(s)
    }
}
