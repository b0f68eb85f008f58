//! Snapshots of the window state: a `KeyState` (its scalars, event buffer, cursors
//! and lifetime base) written as it is and read back for the same `KeySpec`.
//!
//! Everything that decides a later push, drop or read is saved, including positions
//! of dead rows not yet compacted and the capacities `approx_bytes` counts, so a
//! restored state behaves, and accounts its memory, exactly like the original. The
//! cursors' cached finishes are not saved: they are recomputed on the next read (a
//! finish is a pure function of its accumulator), and only their room is restored.

use std::sync::Arc;

use super::accumulator::WindowAccumulator;
use super::buffer::{EventBuffer, OddCell};
use super::counted::CountedEvents;
use super::footprint::{acc_part, Label};
use super::key_state::KeyState;
use super::layout::RowLayout;
use super::row_codec;
use super::spec::KeySpec;
use crate::snapshot::{vec_with_capacity, Persist, Reader, SnapshotError, Writer};
use crate::value::Value;

fn malformed(what: impl Into<String>) -> SnapshotError {
    SnapshotError::Malformed(what.into())
}

/// Loads into `accs` (fresh clones of the spec's prototypes) what `save` wrote for them
/// (their count, then each).
fn load_accs(
    r: &mut Reader<'_>,
    accs: &mut [Box<dyn WindowAccumulator>],
) -> Result<(), SnapshotError> {
    let n = r.usize()?;
    if n != accs.len() {
        return Err(malformed(format!(
            "{n} accumulators in a cursor of {}",
            accs.len()
        )));
    }
    accs.iter_mut().try_for_each(|a| a.load(r))
}

/// Says how many bytes the part just written took: `mark(part, bytes)`.
pub(super) type Mark<'m> = dyn FnMut(Label<'_>, usize) + 'm;

/// Calls `mark` with the bytes written since the last call (`at`).
fn marked(w: &Writer, at: &mut usize, mark: &mut Mark<'_>, part: Label<'_>) {
    mark(part, w.len() - *at);
    *at = w.len();
}

impl KeyState {
    /// Writes this state into a snapshot (the spec is the graph's to give back).
    pub fn save(&self, w: &mut Writer) {
        self.save_marked(w, &mut |_, _| {});
    }

    /// `save`, telling `mark` the bytes of each part as it is written (see
    /// `footprint`).
    pub(super) fn save_marked(&self, w: &mut Writer, mark: &mut Mark<'_>) {
        let mut at = w.len();
        w.u32(self.since_drop);
        w.u32(self.fold_run);
        for t in [
            self.frontier,
            self.base_upto,
            self.cursor_t_max,
            self.promised,
        ] {
            w.opt_i64(t);
        }
        marked(w, &mut at, mark, &|| "state scalars".into());
        w.usize(self.dropped_latest.len());
        for &t in self.dropped_latest.iter() {
            w.i64(t);
        }
        marked(w, &mut at, mark, &|| "dropped latest".into());
        self.buf.save_marked(w, &self.spec.layout, mark);
        at = w.len();
        w.usize(self.cursors.len());
        for (c, plan) in self.cursors.iter().zip(&self.spec.cursors) {
            w.opt_i64(c.t);
            w.usize(c.head);
            w.usize(c.tail);
            w.usize(c.accs.len());
            marked(w, &mut at, mark, &|| "cursors".into());
            for a in &c.accs {
                a.save(w);
                marked(w, &mut at, mark, &|| acc_part("acc", plan.window_us, &**a));
            }
            w.usize(c.finished.len());
            marked(w, &mut at, mark, &|| "cached finishes".into());
        }
        match &self.base {
            Some(base) => {
                w.u8(1);
                w.usize(base.len());
                marked(w, &mut at, mark, &|| "state scalars".into());
                for a in base {
                    a.save(w);
                    marked(w, &mut at, mark, &|| acc_part("base", None, &**a));
                }
            }
            None => {
                w.u8(0);
                marked(w, &mut at, mark, &|| "state scalars".into());
            }
        }
        // Only a spec with count windows writes them, so other states' bytes are
        // what they were before count windows existed.
        for c in super::counted::windows(&self.counted).iter() {
            c.save(w);
            marked(w, &mut at, mark, &|| "counted events".into());
        }
    }

    /// About the bytes `save` writes: per row a few bytes of time, seq and flags,
    /// its value words and a byte or two per boxed cell (see `row_codec`); a few
    /// dozen per accumulator.
    pub fn snapshot_size_hint(&self) -> usize {
        let accs: usize = self.cursors.iter().map(|c| c.accs.len()).sum::<usize>()
            + self.base.as_ref().map_or(0, |b| b.len());
        let layout = &self.spec.layout;
        let values = layout.stride - layout.value_base();
        let row = 10 + 2 * layout.flag_words + 8 * values + 2 * layout.n_boxed;
        let counted: usize = super::counted::windows(&self.counted)
            .iter()
            .map(|c| 12 * c.len())
            .sum();
        64 + self.dropped_latest.len() * 8 + self.buf.len() * row + accs * 24 + counted
    }

    /// The state `save` wrote, for the same `spec`.
    pub fn load(spec: Arc<KeySpec>, r: &mut Reader<'_>) -> Result<KeyState, SnapshotError> {
        let mut s = KeyState::new(spec);
        s.since_drop = r.u32()?;
        s.fold_run = r.u32()?.max(1);
        s.frontier = r.opt_i64()?;
        s.base_upto = r.opt_i64()?;
        s.cursor_t_max = r.opt_i64()?;
        s.promised = r.opt_i64()?;
        let n = r.usize()?;
        if n != 0 && n != 1 + s.spec.n_filters {
            return Err(malformed(format!(
                "{n} latest dropped times in a state of {} filters",
                s.spec.n_filters
            )));
        }
        s.dropped_latest = (0..n)
            .map(|_| r.i64())
            .collect::<Result<Vec<_>, _>>()?
            .into_boxed_slice();
        s.buf = EventBuffer::load(&s.spec.layout, r)?;
        let n = r.usize()?;
        if n != s.cursors.len() {
            return Err(malformed(format!(
                "{n} cursors in a state of {}",
                s.cursors.len()
            )));
        }
        let len = s.buf.len();
        let spec = Arc::clone(&s.spec);
        for (c, plan) in s.cursors.iter_mut().zip(&spec.cursors) {
            c.t = r.opt_i64()?;
            c.head = r.usize()?;
            c.tail = r.usize()?;
            if c.head > c.tail || c.tail > len {
                return Err(malformed(format!(
                    "cursor rows {}..{} in a buffer of {len}",
                    c.head, c.tail
                )));
            }
            load_accs(r, &mut c.accs)?;
            // The cache's room, as the first read after the save had left it.
            let finished = r.usize()?;
            if finished != 0 && finished != plan.outputs().min(64) {
                return Err(malformed(format!("{finished} cached finishes")));
            }
            c.finished = vec![Value::Null; finished];
            c.cached = 0;
        }
        s.base = match (r.u8()?, spec.lifetime_cursor) {
            (0, _) => None,
            (1, Some(k)) => {
                let mut base = super::key_state::fresh_accs(&spec, &spec.cursors[k]);
                load_accs(r, &mut base)?;
                Some(base.into_boxed_slice())
            }
            (b, _) => return Err(malformed(format!("lifetime base tag {b}"))),
        };
        let protos = spec.counted.iter().map(|p| &*spec.columns[p.column].proto);
        for (c, proto) in super::counted::windows_mut(&mut s.counted)
            .iter_mut()
            .zip(protos)
        {
            *c = CountedEvents::load(r, proto)?;
        }
        Ok(s)
    }
}

impl EventBuffer {
    /// Every row, dead ones included (cursor positions count them), and the
    /// capacity of each vector; each part's bytes told to `mark`.
    pub(super) fn save_marked(&self, w: &mut Writer, layout: &RowLayout, mark: &mut Mark<'_>) {
        let mut at = w.len();
        w.usize(self.start);
        w.usize(self.ts.len());
        w.usize(self.ts.capacity());
        marked(w, &mut at, mark, &|| "buffer struct".into());
        w.deltas(&self.ts);
        marked(w, &mut at, mark, &|| "buffer times".into());
        w.usize(self.words.capacity());
        marked(w, &mut at, mark, &|| "buffer struct".into());
        row_codec::save_words(w, &self.words, layout);
        marked(w, &mut at, mark, &|| "buffer words".into());
        w.usize(self.boxed.capacity());
        marked(w, &mut at, mark, &|| "buffer struct".into());
        row_codec::save_cells(w, &self.boxed);
        marked(w, &mut at, mark, &|| "buffer boxed".into());
        w.usize(self.odd.len());
        w.usize(self.odd.capacity());
        for o in &self.odd {
            w.i64(o.ts);
            w.u64(o.seq);
            w.usize(o.slot);
            o.value.save(w);
        }
        marked(w, &mut at, mark, &|| "buffer odd".into());
    }

    pub(super) fn load(layout: &RowLayout, r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        let mut b = EventBuffer::new(layout);
        let start = r.usize()?;
        let n = r.count(1)?;
        b.ts = vec_with_capacity(r.capacity(n)?)?;
        r.deltas_into(n, &mut b.ts)?;
        if start > n {
            return Err(malformed(format!("a buffer of {n} rows from {start}")));
        }
        let words = n
            .checked_mul(layout.stride)
            .ok_or_else(|| malformed(format!("a buffer of {n} rows")))?;
        b.words = vec_with_capacity(r.capacity(words)?)?;
        row_codec::load_words(r, n, layout, &mut b.words)?;
        let n_boxed = n.saturating_mul(layout.n_boxed);
        b.boxed = vec_with_capacity(r.capacity(n_boxed)?)?;
        row_codec::load_cells(r, n_boxed, &mut b.boxed)?;
        let odd = r.count(4)?;
        b.odd = vec_with_capacity(r.capacity(odd)?)?;
        for _ in 0..odd {
            b.odd.push(OddCell {
                ts: r.i64()?,
                seq: r.u64()?,
                slot: r.usize()?,
                value: Value::load(r)?,
            });
        }
        b.start = start;
        Ok(b)
    }
}
