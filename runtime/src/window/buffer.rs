//! `EventBuffer`: one key's events sorted by (ts, seq), each row encoded in a few
//! 64-bit words by the spec's `RowLayout` (times kept apart for the binary searches).

use super::encoded::EncodedRow;
use super::layout::{get_bits, Cell, RowLayout};
use crate::prefetch::{prefetch, prefetch_slice};
use crate::value::Value;

const NULL: Value = Value::Null;

/// Rows a buffer makes room for at its first event (about 2 KB on the synthetic spec).
const FIRST_ROWS: usize = 32;

/// An input whose value does not have its slot's declared type, kept whole.
#[derive(Debug, Clone)]
pub(crate) struct OddCell {
    pub(super) ts: i64,
    pub(super) seq: u64,
    pub(super) slot: usize,
    pub(super) value: Value,
}

/// Invariants: rows `start..len()` are live and sorted by `(ts, seq)`; rows below
/// `start` are dead (dropped) and physically removed by `compact`; row `i` owns
/// `words[i * stride..][..stride]` and `boxed[i * n_boxed..][..n_boxed]`, encoded by
/// the `RowLayout` the buffer was built for (every call passes that same layout);
/// `odd` holds one entry per odd-tagged cell of a row still present.
///
/// `repr(C)`: what a push reads comes first and `odd`, rarely used, last (see
/// `KeyState`'s layout).
#[derive(Debug, Clone)]
#[repr(C)]
pub(crate) struct EventBuffer {
    pub ts: Vec<i64>,
    pub(super) words: Vec<u64>,
    pub(super) boxed: Vec<Value>,
    pub start: usize,
    pub(super) stride: u32,
    pub(super) n_boxed: u32,
    pub(crate) odd: Vec<OddCell>,
}

impl EventBuffer {
    pub fn new(layout: &RowLayout) -> Self {
        EventBuffer {
            ts: Vec::new(),
            words: Vec::new(),
            boxed: Vec::new(),
            odd: Vec::new(),
            stride: layout.stride as u32,
            n_boxed: layout.n_boxed as u32,
            start: 0,
        }
    }

    #[inline]
    fn stride(&self) -> usize {
        self.stride as usize
    }

    #[inline]
    fn n_boxed(&self) -> usize {
        self.n_boxed as usize
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    #[inline]
    pub fn seq(&self, i: usize) -> u64 {
        self.words[i * self.stride()]
    }

    /// True when row `i` passes filter slot `f`.
    #[inline]
    pub fn filter(&self, layout: &RowLayout, i: usize, f: usize) -> bool {
        f < layout.n_filters && get_bits(self.flags(layout, i), f as u32, 1) == 1
    }

    /// True when some present row holds a value of another variant than its slot's.
    #[inline]
    pub fn has_odd(&self) -> bool {
        !self.odd.is_empty()
    }

    /// Value word `word` of row `i` (a `SlotStore::Word` slot's bits).
    #[inline]
    pub fn value_word(&self, layout: &RowLayout, i: usize, word: usize) -> u64 {
        self.words[i * self.stride() + layout.value_base() + word]
    }

    #[inline]
    pub fn flags(&self, layout: &RowLayout, i: usize) -> &[u64] {
        let base = i * self.stride() + 1;
        &self.words[base..base + layout.flag_words]
    }

    /// The value of input slot `slot` in row `i` (null for a slot no feature reads).
    #[inline]
    pub fn cell(&self, layout: &RowLayout, i: usize, slot: usize) -> Cell<'_> {
        let row = &self.words[i * self.stride() + 1..(i + 1) * self.stride()];
        let (flags, values) = row.split_at(layout.flag_words);
        let boxed = &self.boxed[i * self.n_boxed()..(i + 1) * self.n_boxed()];
        layout.decode(slot, flags, values, boxed, || self.odd_value(i, slot))
    }

    /// Boxed cell `index` of row `i` (a `SlotStore::Boxed` slot's value).
    #[inline]
    pub fn boxed_cell(&self, i: usize, index: usize) -> &Value {
        &self.boxed[i * self.n_boxed() + index]
    }

    fn odd_value(&self, i: usize, slot: usize) -> &Value {
        let (ts, seq) = (self.ts[i], self.seq(i));
        self.odd
            .iter()
            .find(|o| o.ts == ts && o.seq == seq && o.slot == slot)
            .map_or(&NULL, |o| &o.value)
    }

    /// Starts loading every cache line rows `rows` occupy (see `crate::prefetch`).
    #[inline]
    pub fn prefetch_rows(&self, rows: std::ops::Range<usize>) {
        if rows.is_empty() {
            return;
        }
        prefetch_slice(&self.ts[rows.clone()]);
        prefetch_slice(&self.words[rows.start * self.stride()..rows.end * self.stride()]);
        prefetch_slice(&self.boxed[rows.start * self.n_boxed()..rows.end * self.n_boxed()]);
    }

    /// Starts loading the last row and the space after it: what `position` compares
    /// first and where an in-order `insert` writes (see `crate::prefetch`).
    #[inline]
    pub fn prefetch_tail(&self) {
        let n = self.len();
        if n == 0 {
            return;
        }
        prefetch(&self.ts[n - 1]);
        let row = self.words.as_ptr().wrapping_add((n - 1) * self.stride());
        prefetch(row);
        prefetch(row.wrapping_add(2 * self.stride() - 1));
        if self.n_boxed() > 0 {
            prefetch(self.boxed.as_ptr().wrapping_add(n * self.n_boxed()));
        }
    }

    /// The row index where `(ts, seq)` belongs: after every live row `<= (ts, seq)`.
    #[inline]
    pub fn position(&self, ts: i64, seq: u64) -> usize {
        let n = self.len();
        if n == self.start || (self.ts[n - 1], self.seq(n - 1)) <= (ts, seq) {
            return n;
        }
        let lo = self.start + self.ts[self.start..n].partition_point(|&t| t < ts);
        let hi = lo + self.ts[lo..n].partition_point(|&t| t <= ts);
        // Rows lo..hi share `ts`; their seqs are increasing.
        let (mut a, mut b) = (lo, hi);
        while a < b {
            let m = a + (b - a) / 2;
            if self.seq(m) <= seq {
                a = m + 1;
            } else {
                b = m;
            }
        }
        a
    }

    /// The first live row with `ts > bound` (binary search).
    pub fn first_after(&self, bound: i64) -> usize {
        self.start + self.ts[self.start..].partition_point(|&t| t <= bound)
    }

    /// Inserts event `(ts, seq)`, encoded as `row`, at `at` (from `position`).
    pub fn insert(&mut self, at: usize, ts: i64, seq: u64, row: &EncodedRow<'_>) {
        debug_assert_eq!(row.words.len(), self.stride());
        debug_assert_eq!(row.boxed.len(), self.n_boxed());
        let w = at * self.stride();
        let b = at * self.n_boxed();
        if self.ts.capacity() == 0 {
            // Growing from empty would reallocate, and copy cold rows, several times
            // before the buffer holds a run of the stream ingest (64 by default);
            // room for a whole run measured slower (8% more memory to touch).
            self.ts.reserve(FIRST_ROWS);
            self.words.reserve(FIRST_ROWS * self.stride());
            self.boxed.reserve(FIRST_ROWS * self.n_boxed());
        }
        if at == self.len() {
            self.ts.push(ts);
            self.words.extend_from_slice(row.words);
            self.boxed.extend_from_slice(row.boxed);
        } else {
            self.ts.insert(at, ts);
            self.words.splice(w..w, row.words.iter().copied());
            self.boxed.splice(b..b, row.boxed.iter().cloned());
        }
        self.words[w] = seq;
        for (_, slot, value) in row.odd {
            self.odd.push(OddCell {
                ts,
                seq,
                slot: *slot,
                value: value.clone(),
            });
        }
    }

    /// Physically removes the dead prefix when it is at least as large as the live
    /// part (amortized O(1) per dropped row); returns how many rows were removed.
    pub fn compact(&mut self) -> usize {
        let dead = self.start;
        if dead == 0 || dead < self.len() - dead {
            return 0;
        }
        self.remove_dead()
    }

    /// Removes the dead prefix, whatever its size, and the room past the last row;
    /// returns how many rows were removed.
    pub fn shrink_to_fit(&mut self) -> usize {
        let removed = match self.start {
            0 => 0,
            _ => self.remove_dead(),
        };
        self.ts.shrink_to_fit();
        self.words.shrink_to_fit();
        self.boxed.shrink_to_fit();
        self.odd.shrink_to_fit();
        removed
    }

    /// Removes rows `..start` (`start > 0`); returns how many.
    fn remove_dead(&mut self) -> usize {
        let dead = self.start;
        if !self.odd.is_empty() {
            match (dead < self.len()).then(|| (self.ts[dead], self.seq(dead))) {
                Some(first) => self.odd.retain(|o| (o.ts, o.seq) >= first),
                None => self.odd.clear(),
            }
        }
        self.ts.drain(..dead);
        self.words.drain(..dead * self.stride());
        self.boxed.drain(..dead * self.n_boxed());
        self.start = 0;
        dead
    }
}
