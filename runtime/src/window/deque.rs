//! `DequeWindow`: a sliding window for min, max, first and last: a monotonic deque of
//! the events that can still become the answer, keyed by (ts, seq).

use std::collections::VecDeque;

use super::accumulator::assign_same;
use super::check::InputCheck;
use super::run::BufferRun;
use super::WindowAccumulator;
use crate::agg::{AggError, Select, ValueRun};
use crate::snapshot::{vec_with_capacity, Persist, Reader, SnapshotError, Writer};
use crate::value::Value;

/// Invariants: entries are in strictly increasing `(ts, seq)` order and strictly
/// decreasing preference (front = the answer); every inserted, not yet evicted
/// non-null event is either in the deque or has a later entry at least as good
/// (so it can never be the answer again). In-order inserts and evictions are O(1)
/// amortized; a late insert is a binary search plus O(window) shifting.
#[derive(Debug, Clone)]
pub struct DequeWindow<S: Select> {
    entries: VecDeque<(i64, u64, S::Key)>,
    check: InputCheck,
}

impl<S: Select> DequeWindow<S> {
    pub fn new(check: InputCheck) -> Self {
        DequeWindow {
            entries: VecDeque::new(),
            check,
        }
    }

    /// Inserts the event `(ts, seq)` of (non-null) key `key`.
    #[inline]
    fn insert_key(&mut self, ts: i64, seq: u64, key: S::Key) {
        let in_order = self.entries.back().is_none_or(|b| (b.0, b.1) < (ts, seq));
        if in_order {
            while self
                .entries
                .back()
                .is_some_and(|b| S::at_least_as_good(&key, &b.2))
            {
                self.entries.pop_back();
            }
            self.entries.push_back((ts, seq, key));
            return;
        }
        let pos = self.entries.partition_point(|e| (e.0, e.1) < (ts, seq));
        if self
            .entries
            .get(pos)
            .is_some_and(|e| S::at_least_as_good(&e.2, &key))
        {
            return;
        }
        let mut start = pos;
        while start > 0 && S::at_least_as_good(&key, &self.entries[start - 1].2) {
            start -= 1;
        }
        self.entries.drain(start..pos);
        self.entries.insert(start, (ts, seq, key));
    }
}

impl<S: Select> WindowAccumulator for DequeWindow<S> {
    fn insert(&mut self, ts: i64, seq: u64, v: &Value) {
        if !self.check.accept(v) {
            return;
        }
        if let Some(key) = S::key(ts, v) {
            self.insert_key(ts, seq, key);
        }
    }

    /// Evicting a run needs no values: an entry is evicted exactly when it is not
    /// after the run's last event (the run starts at the window's oldest event, and
    /// events that did not pass the filter were never entries). Inserting reads
    /// stored words when the selection has a word key.
    #[inline]
    fn fold_run(&mut self, run: &BufferRun<'_>, insert: bool) -> bool {
        if !insert {
            if let Some(last) = run.last_event() {
                while self.entries.front().is_some_and(|f| (f.0, f.1) <= last) {
                    self.entries.pop_front();
                }
            }
            return true;
        }
        if let Some(ty) = S::STORED {
            return run.each_word(ty, |ts, seq, w| {
                if let Some(key) = S::stored_key(ts, w) {
                    self.insert_key(ts, seq, key);
                }
            });
        }
        // Values: the run's own survivors are found on borrowed values (a monotonic
        // stack, as the deque itself would evolve), and only they are copied.
        let mut stack: Vec<(i64, u64, &Value)> = Vec::new();
        let typed = run.each_value(|ts, seq, v| {
            while stack
                .last()
                .is_some_and(|b| S::at_least_as_good_values((ts, v), (b.0, b.2)))
            {
                stack.pop();
            }
            stack.push((ts, seq, v));
        });
        if !typed {
            return false;
        }
        // Each entry of the stack is strictly worse than the one before it, so past
        // the first insert nothing more leaves the deque: only the survivors are copied.
        for &(ts, seq, v) in &stack {
            if let Some(key) = S::key(ts, v) {
                self.insert_key(ts, seq, key);
            }
        }
        true
    }

    fn evict(&mut self, ts: i64, seq: u64, _v: &Value) {
        while self
            .entries
            .front()
            .is_some_and(|f| (f.0, f.1) <= (ts, seq))
        {
            self.entries.pop_front();
        }
    }

    fn finish(&self) -> Result<Value, AggError> {
        if let Some(e) = self.check.error() {
            return Err(e);
        }
        Ok(self.entries.front().map_or(Value::Null, |f| S::value(&f.2)))
    }

    fn approx_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.entries.capacity() * std::mem::size_of::<(i64, u64, S::Key)>()
    }

    fn reset(&mut self) {
        self.entries.clear();
        self.check.reset();
    }

    fn shrink_to_fit(&mut self) {
        self.entries.shrink_to_fit();
    }

    /// Evictions read the front, in-order inserts the back.
    #[inline]
    fn prefetch_heap(&self) {
        if let Some(front) = self.entries.front() {
            crate::prefetch::prefetch(front);
        }
        if let Some(back) = self.entries.back() {
            crate::prefetch::prefetch(back);
        }
    }

    fn assign_from(&mut self, other: &dyn WindowAccumulator) -> bool {
        assign_same(self, other, |to, from: &Self| {
            to.entries.clone_from(&from.entries);
            to.check = from.check.clone();
        })
    }

    /// The entries and the deque's capacity (counted by `approx_bytes`); each
    /// entry's time and seq as the difference from the entry before (entries are in
    /// increasing order, so the differences are small).
    fn save(&self, w: &mut Writer) {
        self.check.save(w);
        w.usize(self.entries.len());
        w.usize(self.entries.capacity());
        let (mut ts0, mut seq0) = (0i64, 0u64);
        for (ts, seq, key) in &self.entries {
            w.i64(ts.wrapping_sub(ts0));
            w.i64(seq.wrapping_sub(seq0) as i64);
            (ts0, seq0) = (*ts, *seq);
            key.save(w);
        }
    }

    fn load(&mut self, r: &mut Reader<'_>) -> Result<(), SnapshotError> {
        self.check.load(r)?;
        let n = r.count(3)?;
        let cap = r.capacity(n)?;
        let mut entries: VecDeque<_> = vec_with_capacity(cap)?.into();
        let (mut ts, mut seq) = (0i64, 0u64);
        for _ in 0..n {
            ts = ts.wrapping_add(r.i64()?);
            seq = seq.wrapping_add(r.i64()? as u64);
            entries.push_back((ts, seq, S::Key::load(r)?));
        }
        self.entries = entries;
        Ok(())
    }
}
