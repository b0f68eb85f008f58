//! `BufferRun`: the rows of a key's event buffer a cursor folds in one step, seen
//! through one feature's filter and input, so an aggregation can fold them in one
//! typed loop over the stored words (`agg::ValueRun`).

use std::ops::Range;

use super::buffer::EventBuffer;
use super::layout::{get_bits, RowLayout, SlotStore, TAG_VALUE};
use crate::agg::ValueRun;
use crate::ir::DataType;
use crate::value::Value;

/// Rows `rows` of `buf` for the feature reading input slot `input` (`None`:
/// `count(*)`) under filter slot `filter`.
pub struct BufferRun<'a> {
    pub(crate) buf: &'a EventBuffer,
    pub(crate) layout: &'a RowLayout,
    pub(crate) rows: Range<usize>,
    pub(crate) filter: Option<usize>,
    pub(crate) input: Option<usize>,
    /// The type the feature declares for the input.
    pub(crate) input_type: Option<DataType>,
}

impl BufferRun<'_> {
    #[inline]
    fn passing(&self) -> impl Iterator<Item = usize> + '_ {
        self.rows.clone().filter(|&r| {
            self.filter
                .is_none_or(|f| self.buf.filter(self.layout, r, f))
        })
    }

    /// The input's storage, when every value of the run is of the slot's type (no
    /// odd cell anywhere in the buffer) and stored in words or bits.
    #[inline]
    fn typed_store(&self) -> Option<SlotStore> {
        if self.buf.has_odd() {
            return None;
        }
        match self.layout.slots.get(self.input?)? {
            s @ (SlotStore::Word { .. } | SlotStore::Bit { .. } | SlotStore::Unused) => Some(*s),
            SlotStore::Boxed { .. } => None,
        }
    }
}

impl ValueRun for BufferRun<'_> {
    #[inline]
    fn events(&self) -> u64 {
        match self.filter {
            None => self.rows.len() as u64,
            Some(_) => self.passing().count() as u64,
        }
    }

    #[inline]
    fn non_null(&self) -> Option<u64> {
        let tag = match self.typed_store()? {
            SlotStore::Word { tag, .. } | SlotStore::Bit { tag } => tag,
            _ => return Some(0),
        };
        let (buf, layout) = (self.buf, self.layout);
        Some(
            self.passing()
                .filter(|&r| get_bits(buf.flags(layout, r), tag, 2) == TAG_VALUE)
                .count() as u64,
        )
    }

    #[inline]
    fn trues(&self) -> Option<u64> {
        let SlotStore::Bit { tag } = self.typed_store()? else {
            return None;
        };
        let (buf, layout) = (self.buf, self.layout);
        let true_value = TAG_VALUE | 1 << 2;
        Some(
            self.passing()
                .filter(|&r| get_bits(buf.flags(layout, r), tag, 3) == true_value)
                .count() as u64,
        )
    }

    #[inline]
    fn each_f64(&self, mut f: impl FnMut(f64)) -> bool {
        let Some(SlotStore::Word {
            ty: DataType::Float64,
            word,
            tag,
        }) = self.typed_store()
        else {
            return false;
        };
        let (buf, layout) = (self.buf, self.layout);
        for r in self.passing() {
            if get_bits(buf.flags(layout, r), tag, 2) == TAG_VALUE {
                f(f64::from_bits(buf.value_word(layout, r, word)));
            }
        }
        true
    }

    #[inline]
    fn each_word(&self, ty: DataType, mut f: impl FnMut(i64, u64, u64)) -> bool {
        let (buf, layout) = (self.buf, self.layout);
        match self.typed_store() {
            Some(SlotStore::Word { ty: t, word, tag }) if t == ty => {
                for r in self.passing() {
                    if get_bits(buf.flags(layout, r), tag, 2) == TAG_VALUE {
                        f(buf.ts[r], buf.seq(r), buf.value_word(layout, r, word));
                    }
                }
                true
            }
            Some(SlotStore::Bit { tag }) if ty == DataType::Bool => {
                for r in self.passing() {
                    let bits = get_bits(buf.flags(layout, r), tag, 3);
                    if bits & 3 == TAG_VALUE {
                        f(buf.ts[r], buf.seq(r), bits >> 2);
                    }
                }
                true
            }
            _ => false,
        }
    }

    #[inline]
    fn each_value<'s>(&'s self, mut f: impl FnMut(i64, u64, &'s Value)) -> bool {
        let (Some(input), Some(ty)) = (self.input, self.input_type) else {
            return false;
        };
        let Some(SlotStore::Boxed { index }) = self.layout.slots.get(input) else {
            return false;
        };
        let buf = self.buf;
        // A value of another type must reach the event-by-event path, which reports it.
        let odd = |r: usize| {
            let v = buf.boxed_cell(r, *index);
            !v.is_null() && !v.fits(ty)
        };
        if self.passing().any(odd) {
            return false;
        }
        for r in self.passing() {
            let v = buf.boxed_cell(r, *index);
            if !v.is_null() {
                f(buf.ts[r], buf.seq(r), v);
            }
        }
        true
    }

    #[inline]
    fn last_event(&self) -> Option<(i64, u64)> {
        let r = self
            .rows
            .end
            .checked_sub(1)
            .filter(|&r| r >= self.rows.start)?;
        Some((self.buf.ts[r], self.buf.seq(r)))
    }
}
