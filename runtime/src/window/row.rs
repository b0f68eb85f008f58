//! `Row`: one event as the accumulators see it, either as pushed (`encoded::RowAt`)
//! or read back from a key's event buffer (`Buffered`), so one fold loop serves both.

use super::buffer::EventBuffer;
use super::layout::{Cell, RowLayout};

/// Invariant: both implementations answer the same for the same event (the buffer's
/// encoding is lossless), so folding a pushed event or its buffered row is the same.
pub(crate) trait Row {
    fn ts(&self) -> i64;
    fn seq(&self) -> u64;
    /// True when the event passes filter slot `f` (a missing filter is false).
    fn filter(&self, f: usize) -> bool;
    /// The value of input slot `slot` (a missing input is null).
    fn cell(&self, slot: usize) -> Cell<'_>;
}

/// Row `row` of a key's event buffer.
pub(crate) struct Buffered<'a> {
    pub buf: &'a EventBuffer,
    pub layout: &'a RowLayout,
    pub row: usize,
}

impl Row for Buffered<'_> {
    #[inline]
    fn ts(&self) -> i64 {
        self.buf.ts[self.row]
    }

    #[inline]
    fn seq(&self) -> u64 {
        self.buf.seq(self.row)
    }

    #[inline]
    fn filter(&self, f: usize) -> bool {
        self.buf.filter(self.layout, self.row, f)
    }

    #[inline]
    fn cell(&self, slot: usize) -> Cell<'_> {
        self.buf.cell(self.layout, self.row, slot)
    }
}
