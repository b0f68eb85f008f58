//! `avg(x)` of a numeric list column: element-wise. Item `i` of the result is the
//! mean of item `i` over the window's non-null lists that have a non-null item `i`
//! (a ragged mean), each position an `avg` of its own (exact sum rounded once), so it
//! is order-independent and exactly invertible; the result is as long as the longest
//! list, null where no list has a value; an empty window (no non-null list) is null.

use std::sync::Arc;

use super::avg::AvgState;
use super::{AggError, Aggregation, Invertible};
use crate::exact;
use crate::ir::Scalar;
use crate::snapshot::{Persist, Reader, SnapshotError, Writer};
use crate::value::{List, Value};

#[derive(Debug, Clone, Copy, Default)]
pub struct AvgItems;

/// The non-null lists folded, and per position how many of them reach it and the
/// `avg` state of its non-null items.
///
/// Invariant: `reach` and `items` have one entry per position, and the last
/// position (if any) is reached by at least one list, so the state of a multiset is
/// one value whatever was inserted and removed (and holds at most the longest list's
/// positions, which the reader caps: `row::list_column::MAX_LIST_ITEMS`).
#[derive(Debug, Clone, Default)]
pub struct AvgItemsState {
    pub lists: u64,
    pub reach: Vec<u64>,
    pub items: Vec<AvgState>,
}

impl AvgItemsState {
    fn grow(&mut self, len: usize) {
        if self.reach.len() < len {
            self.reach.resize(len, 0);
            self.items.resize_with(len, AvgState::default);
        }
    }

    /// Drops the positions no list reaches any more (after a removal).
    fn trim(&mut self) {
        while self.reach.last() == Some(&0) {
            self.reach.pop();
            self.items.pop();
        }
    }

    /// Adds (`sub == false`) or removes one list.
    fn put(&mut self, list: &List, sub: bool) {
        self.grow(list.items.len());
        self.lists = step(self.lists, 1, sub);
        for (i, v) in list.items.iter().enumerate() {
            self.reach[i] = step(self.reach[i], 1, sub);
            let cell = &mut self.items[i];
            match (v, sub) {
                (Value::Float64(x), false) => cell.s1.add_f64(*x),
                (Value::Float64(x), true) => cell.s1.sub_f64(*x),
                (Value::Int64(x), false) => cell.s1.add_i64(*x),
                (Value::Int64(x), true) => cell.s1.sub_i64(*x),
                _ => continue,
            }
            cell.n = step(cell.n, 1, sub);
        }
        if sub {
            self.trim();
        }
    }

    /// Merges (`sub == false`) or unmerges another state.
    fn put_state(&mut self, other: &AvgItemsState, sub: bool) {
        self.grow(other.reach.len());
        self.lists = step(self.lists, other.lists, sub);
        for (i, (r, cell)) in other.reach.iter().zip(&other.items).enumerate() {
            self.reach[i] = step(self.reach[i], *r, sub);
            let mine = &mut self.items[i];
            mine.n = step(mine.n, cell.n, sub);
            if sub {
                mine.s1.unmerge(&cell.s1);
            } else {
                mine.s1.merge(&cell.s1);
            }
        }
        if sub {
            self.trim();
        }
    }
}

fn step(a: u64, b: u64, sub: bool) -> u64 {
    if sub {
        a.wrapping_sub(b)
    } else {
        a.wrapping_add(b)
    }
}

/// The list a value holds, when it is a numeric list.
fn numeric_list(v: &Value) -> Option<&List> {
    match v {
        Value::List(l)
            if l.counts.is_none() && matches!(l.item, Scalar::Int64 | Scalar::Float64) =>
        {
            Some(l)
        }
        _ => None,
    }
}

impl Aggregation for AvgItems {
    type State = AvgItemsState;
    const INVERTIBLE: bool = true;

    fn identity(&self) -> AvgItemsState {
        AvgItemsState::default()
    }

    fn combine(&self, into: &mut AvgItemsState, other: &AvgItemsState) {
        into.put_state(other, false);
    }

    fn finish(&self, s: &AvgItemsState) -> Result<Value, AggError> {
        if s.lists == 0 {
            return Ok(Value::Null);
        }
        let items = s
            .items
            .iter()
            .map(|c| match c.n {
                0 => Value::Null,
                n => Value::Float64(exact::avg(&c.s1, n)),
            })
            .collect();
        Ok(Value::List(Arc::new(List {
            item: Scalar::Float64,
            items,
            counts: None,
        })))
    }

    #[inline]
    fn insert(&self, s: &mut AvgItemsState, _ts: i64, v: &Value) {
        if let Some(l) = numeric_list(v) {
            s.put(l, false);
        }
    }

    fn state_bytes(&self, s: &AvgItemsState) -> usize {
        // By length, not capacity: a restored state (allocated to fit) must weigh
        // what the state it was saved from did.
        8 + s.reach.len() * 8
            + s.items
                .iter()
                .map(|c| 8 + c.s1.approx_bytes())
                .sum::<usize>()
    }

    fn shrink_state(&self, s: &mut AvgItemsState) {
        s.reach.shrink_to_fit();
        s.items.shrink_to_fit();
    }
}

impl Invertible for AvgItems {
    #[inline]
    fn remove(&self, s: &mut AvgItemsState, _ts: i64, v: &Value) {
        if let Some(l) = numeric_list(v) {
            s.put(l, true);
        }
    }

    fn uncombine(&self, from: &mut AvgItemsState, other: &AvgItemsState) {
        from.put_state(other, true);
    }
}

impl Persist for AvgItemsState {
    fn save(&self, w: &mut Writer) {
        w.u64(self.lists);
        w.usize(self.reach.len());
        for (r, c) in self.reach.iter().zip(&self.items) {
            w.u64(*r);
            c.save(w);
        }
    }

    fn load(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        let lists = r.u64()?;
        let n = r.count(8)?;
        let mut s = AvgItemsState {
            lists,
            reach: Vec::with_capacity(n),
            items: Vec::with_capacity(n),
        };
        for _ in 0..n {
            s.reach.push(r.u64()?);
            s.items.push(AvgState::load(r)?);
        }
        if s.reach.last() == Some(&0) {
            return Err(SnapshotError::Malformed(
                "an element-wise avg with an unreached last position".to_string(),
            ));
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[Option<f64>]) -> Value {
        Value::List(Arc::new(List {
            item: Scalar::Float64,
            items: items
                .iter()
                .map(|x| x.map_or(Value::Null, Value::Float64))
                .collect(),
            counts: None,
        }))
    }

    fn finish(s: &AvgItemsState) -> Value {
        AvgItems.finish(s).unwrap()
    }

    #[test]
    fn the_mean_is_ragged_and_eviction_is_exact() {
        let a = list(&[Some(1.0), Some(0.1), None]);
        let b = list(&[Some(2.0)]);
        let c = list(&[Some(4.0), Some(0.2), None, Some(-1.0)]);
        let mut s = AvgItems.identity();
        assert!(finish(&s).is_null());
        for v in [&a, &b, &c, &Value::Null] {
            AvgItems.insert(&mut s, 0, v);
        }
        // 0.1 + 0.2 exactly, divided by 2, rounded once (not 0.15000000000000002).
        let want = list(&[
            Some(7.0 / 3.0),
            Some(exact_mean(&[0.1, 0.2])),
            None,
            Some(-1.0),
        ]);
        assert!(finish(&s).same_bits(&want), "{:?}", finish(&s));
        // Evicting the longest list shortens the result to the longest left.
        AvgItems.remove(&mut s, 0, &c);
        assert!(finish(&s).same_bits(&list(&[Some(1.5), Some(0.1), None])));
        AvgItems.remove(&mut s, 0, &a);
        assert!(finish(&s).same_bits(&list(&[Some(2.0)])));
        AvgItems.remove(&mut s, 0, &b);
        assert!(finish(&s).is_null());
        assert!(s.reach.is_empty() && s.items.is_empty());
        // An empty list counts as a list: the mean of nothing per position is `[]`.
        AvgItems.insert(&mut s, 0, &list(&[]));
        assert!(finish(&s).same_bits(&list(&[])));
    }

    fn exact_mean(xs: &[f64]) -> f64 {
        let mut s = AvgState::default();
        for x in xs {
            s.s1.add_f64(*x);
            s.n += 1;
        }
        exact::avg(&s.s1, s.n)
    }

    #[test]
    fn combine_and_uncombine_agree_with_inserts_in_any_order() {
        let xs = [
            list(&[Some(1e308), Some(3.0)]),
            list(&[Some(1e308), None, Some(f64::INFINITY)]),
            list(&[Some(-1e308)]),
        ];
        let mut one = AvgItems.identity();
        for v in &xs {
            AvgItems.insert(&mut one, 0, v);
        }
        let mut two = AvgItems.lift(0, &xs[2]);
        let mut rest = AvgItems.lift(0, &xs[1]);
        AvgItems.combine(&mut rest, &AvgItems.lift(0, &xs[0]));
        AvgItems.combine(&mut two, &rest);
        assert!(finish(&one).same_bits(&finish(&two)));
        AvgItems.uncombine(&mut two, &rest);
        assert!(finish(&two).same_bits(&list(&[Some(-1e308)])));
        let mut w = Writer::default();
        one.save(&mut w);
        let bytes = w.into_bytes();
        let back = AvgItemsState::load(&mut Reader::new(&bytes)).unwrap();
        assert!(finish(&back).same_bits(&finish(&one)));
    }
}
