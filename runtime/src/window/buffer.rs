//! `EventBuffer`: one key's events sorted by (ts, seq), with the input values and
//! filter bits the features need, stored column-major-free in flat vectors.

use crate::value::Value;

/// Invariants: rows `start..len()` are live and sorted by `(ts, seq)`; rows below
/// `start` are dead (dropped) and physically removed by `compact`; row `i` owns
/// `values[i * n_inputs..][..n_inputs]` and `filters[i * n_filters..][..n_filters]`.
#[derive(Debug, Clone)]
pub(crate) struct EventBuffer {
    pub ts: Vec<i64>,
    pub seq: Vec<u64>,
    values: Vec<Value>,
    filters: Vec<bool>,
    n_inputs: usize,
    n_filters: usize,
    pub start: usize,
}

impl EventBuffer {
    pub fn new(n_inputs: usize, n_filters: usize) -> Self {
        EventBuffer {
            ts: Vec::new(),
            seq: Vec::new(),
            values: Vec::new(),
            filters: Vec::new(),
            n_inputs,
            n_filters,
            start: 0,
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    #[inline]
    pub fn values(&self, i: usize) -> &[Value] {
        &self.values[i * self.n_inputs..(i + 1) * self.n_inputs]
    }

    #[inline]
    pub fn filters(&self, i: usize) -> &[bool] {
        &self.filters[i * self.n_filters..(i + 1) * self.n_filters]
    }

    /// The row index where `(ts, seq)` belongs: after every live row `<= (ts, seq)`.
    #[inline]
    pub fn position(&self, ts: i64, seq: u64) -> usize {
        let n = self.len();
        if n == self.start || (self.ts[n - 1], self.seq[n - 1]) <= (ts, seq) {
            return n;
        }
        let lo = self.start + self.ts[self.start..n].partition_point(|&t| t < ts);
        let hi = lo + self.ts[lo..n].partition_point(|&t| t <= ts);
        lo + self.seq[lo..hi].partition_point(|&s| s <= seq)
    }

    /// The first live row with `ts > bound` (binary search).
    pub fn first_after(&self, bound: i64) -> usize {
        self.start + self.ts[self.start..].partition_point(|&t| t <= bound)
    }

    /// Inserts a row at `at` (from `position`); missing inputs read as null and
    /// missing filters as false, extra ones are ignored.
    pub fn insert(&mut self, at: usize, ts: i64, seq: u64, inputs: &[Value], filters: &[bool]) {
        let fill = |i: usize| inputs.get(i).cloned().unwrap_or(Value::Null);
        let flt = |i: usize| filters.get(i).copied().unwrap_or(false);
        if at == self.len() {
            self.ts.push(ts);
            self.seq.push(seq);
            self.values.extend((0..self.n_inputs).map(fill));
            self.filters.extend((0..self.n_filters).map(flt));
        } else {
            self.ts.insert(at, ts);
            self.seq.insert(at, seq);
            let v = at * self.n_inputs;
            self.values.splice(v..v, (0..self.n_inputs).map(fill));
            let f = at * self.n_filters;
            self.filters.splice(f..f, (0..self.n_filters).map(flt));
        }
    }

    /// Physically removes the dead prefix when it is at least as large as the live
    /// part (amortized O(1) per dropped row); returns how many rows were removed.
    pub fn compact(&mut self) -> usize {
        let dead = self.start;
        if dead == 0 || dead < self.len() - dead {
            return 0;
        }
        self.ts.drain(..dead);
        self.seq.drain(..dead);
        self.values.drain(..dead * self.n_inputs);
        self.filters.drain(..dead * self.n_filters);
        self.start = 0;
        dead
    }

    pub fn approx_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.ts.capacity() * 16
            + self.values.capacity() * std::mem::size_of::<Value>()
            + self.filters.capacity()
    }
}
