//! `EncodedRows`: events already in the event buffer's row encoding (`RowLayout`),
//! written column by column from a batch, so that pushing an event into its key's
//! buffer copies a few words instead of encoding `Value`s one by one.

use super::layout::{get_bits, set_bits, Cell, RowLayout, SlotStore, TAG_VALUE};
use super::row::Row;
use crate::value::Value;

const NULL: Value = Value::Null;

/// Rows `0..len()` in the encoding of the `RowLayout` they were made for.
///
/// Invariants: row `r` owns `words[r * stride..][..stride]` (word 0, the sequence
/// number, is left zero: `KeyState::push_row` takes it apart) and
/// `boxed[r * n_boxed..][..n_boxed]`; `odd` holds `(row, slot, value)` for every
/// odd-tagged cell, sorted by row once `seal` ran.
#[derive(Debug, Clone, Default)]
pub struct EncodedRows {
    layout: RowLayout,
    words: Vec<u64>,
    boxed: Vec<Value>,
    odd: Vec<(usize, usize, Value)>,
    len: usize,
}

/// One row of an `EncodedRows`, as `KeyState::push_row` takes it.
#[derive(Debug, Clone, Copy)]
pub struct EncodedRow<'a> {
    pub(crate) layout: &'a RowLayout,
    /// The row's words (the first, the sequence number, unused).
    pub(crate) words: &'a [u64],
    pub(crate) boxed: &'a [Value],
    /// `(slot, value)` of the row's odd cells, when the row has any.
    pub(crate) odd: &'a [(usize, usize, Value)],
}

impl EncodedRows {
    /// `len` rows with every input null and every filter false, for `layout`.
    pub(crate) fn new(layout: &RowLayout, len: usize) -> EncodedRows {
        let mut rows = EncodedRows::default();
        rows.reset(layout, len);
        rows
    }

    /// Back to `len` rows with every input null and every filter false, keeping the
    /// allocations (one `EncodedRows` serves batch after batch).
    pub(crate) fn reset(&mut self, layout: &RowLayout, len: usize) {
        if self.layout != *layout {
            self.layout.clone_from(layout);
        }
        self.words.clear();
        self.words.resize(len * layout.stride, 0);
        self.boxed.clear();
        self.boxed.resize(len * layout.n_boxed, Value::Null);
        self.odd.clear();
        self.len = len;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How input slot `slot` is stored (`Unused` past the last slot).
    #[inline]
    pub(crate) fn store(&self, slot: usize) -> SlotStore {
        self.layout
            .slots
            .get(slot)
            .copied()
            .unwrap_or(SlotStore::Unused)
    }

    #[inline]
    fn flags_mut(&mut self, row: usize) -> &mut [u64] {
        let base = row * self.layout.stride + 1;
        &mut self.words[base..base + self.layout.flag_words]
    }

    /// Marks row `row` as passing filter slot `f` (slots past the layout's are ignored).
    #[inline]
    pub fn set_filter(&mut self, row: usize, f: usize) {
        if f < self.layout.n_filters {
            set_bits(self.flags_mut(row), f as u32, 1, 1);
        }
    }

    /// Writes the bits of a value of the slot's own type into a `SlotStore::Word`
    /// slot (`word`, `tag` from `store`).
    #[inline]
    pub(crate) fn put_word(&mut self, row: usize, word: usize, tag: u32, bits: u64) {
        self.words[row * self.layout.stride + self.layout.value_base() + word] = bits;
        set_bits(self.flags_mut(row), tag, 2, TAG_VALUE);
    }

    /// Writes a boolean into a `SlotStore::Bit` slot (`tag` from `store`).
    #[inline]
    pub(crate) fn put_bit(&mut self, row: usize, tag: u32, value: bool) {
        set_bits(
            self.flags_mut(row),
            tag,
            3,
            TAG_VALUE | (u64::from(value) << 2),
        );
    }

    /// Writes a value into a `SlotStore::Boxed` slot (`index` from `store`).
    #[inline]
    pub(crate) fn put_boxed(&mut self, row: usize, index: usize, v: Value) {
        self.boxed[row * self.layout.n_boxed + index] = v;
    }

    /// Writes input `v` into slot `slot` of row `row`, whatever its type (a value
    /// of another type than the slot's is kept whole, as the buffer keeps it).
    pub fn put_value(&mut self, row: usize, slot: usize, v: &Value) {
        let layout = &self.layout;
        let w = row * layout.stride + 1;
        let (flags, values) = self.words[w..w + layout.stride - 1].split_at_mut(layout.flag_words);
        let boxed = &mut self.boxed[row * layout.n_boxed..(row + 1) * layout.n_boxed];
        if layout.encode(slot, v, flags, values, boxed) {
            self.odd.push((row, slot, v.clone()));
        }
    }

    /// Sorts the odd cells by row; call it once every cell is written.
    pub fn seal(&mut self) {
        self.odd.sort_by_key(|o| (o.0, o.1));
    }

    /// Row `row`.
    #[inline]
    pub fn row(&self, row: usize) -> EncodedRow<'_> {
        let layout = &self.layout;
        let odd = if self.odd.is_empty() {
            &self.odd[..]
        } else {
            let a = self.odd.partition_point(|o| o.0 < row);
            let b = a + self.odd[a..].partition_point(|o| o.0 == row);
            &self.odd[a..b]
        };
        EncodedRow {
            layout,
            words: &self.words[row * layout.stride..(row + 1) * layout.stride],
            boxed: &self.boxed[row * layout.n_boxed..(row + 1) * layout.n_boxed],
            odd,
        }
    }
}

/// An `EncodedRow` at its event time and sequence number, as the accumulators see it.
pub(crate) struct RowAt<'a> {
    pub ts: i64,
    pub seq: u64,
    pub row: EncodedRow<'a>,
}

impl Row for RowAt<'_> {
    #[inline]
    fn ts(&self) -> i64 {
        self.ts
    }

    #[inline]
    fn seq(&self) -> u64 {
        self.seq
    }

    #[inline]
    fn filter(&self, f: usize) -> bool {
        let layout = self.row.layout;
        f < layout.n_filters && get_bits(&self.row.words[1..], f as u32, 1) == 1
    }

    #[inline]
    fn cell(&self, slot: usize) -> Cell<'_> {
        let layout = self.row.layout;
        let (flags, values) = self.row.words[1..].split_at(layout.flag_words);
        let odd = self.row.odd;
        layout.decode(slot, flags, values, self.row.boxed, || {
            odd.iter().find(|o| o.1 == slot).map_or(&NULL, |o| &o.2)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::DataType;

    #[test]
    fn rows_read_back_what_was_written() {
        let layout = RowLayout::new(
            &[
                Some(Some(DataType::Float64)),
                Some(Some(DataType::Bool)),
                Some(Some(DataType::String)),
                Some(Some(DataType::Int64)),
            ],
            2,
        );
        let mut rows = EncodedRows::new(&layout, 3);
        rows.put_value(0, 0, &Value::Float64(-0.0));
        rows.put_value(1, 1, &Value::Bool(true));
        rows.put_value(2, 2, &Value::String("a".into()));
        // A value of another type than its slot's is kept whole.
        rows.put_value(2, 3, &Value::Float64(1.5));
        rows.set_filter(1, 1);
        rows.seal();
        let at = |r: usize| RowAt {
            ts: 0,
            seq: 0,
            row: rows.row(r),
        };
        let cell = |r: usize, s: usize| at(r).cell(s).get().clone();
        assert!(matches!(cell(0, 0), Value::Float64(x) if x.to_bits() == (-0.0f64).to_bits()));
        assert_eq!(cell(0, 1), Value::Null);
        assert_eq!(cell(1, 1), Value::Bool(true));
        assert_eq!(cell(2, 2), Value::String("a".into()));
        assert_eq!(cell(2, 3), Value::Float64(1.5));
        assert_eq!(cell(1, 3), Value::Null);
        assert!(at(1).filter(1) && !at(1).filter(0) && !at(0).filter(1));
        assert!(!at(1).filter(7));
    }
}
