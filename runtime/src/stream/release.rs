//! Releasing the rows that wait for their as-of lookups (see `lookup`): when a
//! looked-up value is settled, the row gets it and goes into its group's state.

use datafusion::arrow::array::{ArrayRef, BooleanArray};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::record_batch::RecordBatch;

use super::error::StreamError;
use super::lookup::with_lookup_columns;
use super::runtime::{data_error, StreamRuntime};
use crate::row::{Cells, ValuesBuilder};

impl StreamRuntime {
    /// Releases every held row whose lookups are settled, chains first, until none
    /// is left to release.
    pub(crate) fn release(&mut self) -> Result<(), StreamError> {
        if self.history {
            return Ok(());
        }
        loop {
            let mut released = false;
            for g in 0..self.groups.len() {
                if self.groups[g].held.rows() == 0 {
                    continue;
                }
                let Some(bound) = self.release_bound(g) else {
                    continue;
                };
                let source = self.groups[g].plan().source.clone();
                let taken =
                    (self.groups[g].held.take_before(bound)).map_err(|e| data_error(&source, e))?;
                if let Some((rows, ts)) = taken {
                    self.apply_released(g, &rows, &ts)?;
                    released = true;
                }
            }
            if !released {
                return Ok(());
            }
        }
    }

    /// Rows of group `g` at times before this bound have settled lookups: the least
    /// of its looked-up groups' `settled`.
    fn release_bound(&self, g: usize) -> Option<i64> {
        let mut bound = i64::MAX;
        for l in &self.groups[g].lookups {
            bound = bound.min(self.settled(l.group)?);
        }
        Some(bound)
    }

    /// Reads of group `h` at times before this are final: each of its sources'
    /// watermark is past them (or the embedder said the source is complete through
    /// them, `settle_through`), and it holds no row of its own at or before them.
    fn settled(&self, h: usize) -> Option<i64> {
        let mut bound = i64::MAX;
        let complete = self.complete_through.map(|t| t.saturating_add(1));
        for &s in self.core.sources_of.get(h)? {
            let w = self.sources[s].watermark().max(complete)?;
            bound = bound.min(w);
        }
        if let Some(o) = self.groups[h].held.oldest() {
            bound = bound.min(o);
        }
        Some(bound)
    }

    /// Gives released rows of group `g` (its rows, times `ts`) their lookups' values
    /// and pushes them into its state. A row whose looked-up value can no longer be
    /// read (a late event under `LatePolicy::Apply`, older than the looked-up
    /// group's horizon) or whose expressions fail on that value is dead-lettered and
    /// counted, never dropped silently.
    fn apply_released(
        &mut self,
        g: usize,
        rows: &RecordBatch,
        ts: &[i64],
    ) -> Result<(), StreamError> {
        let n = rows.num_rows();
        let source = self.groups[g].plan().source.clone();
        let mut ok = vec![true; n];
        let mut values: Vec<ArrayRef> = Vec::with_capacity(self.groups[g].lookups.len());
        for l in &self.groups[g].lookups {
            let cells = (l.key_cols.iter().zip(&l.key_types))
                .map(|(&c, &ty)| Cells::new(rows.column(c), ty))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| StreamError::ColumnType {
                    table: source.clone(),
                    column: l.column.clone(),
                    message: "a key column of another type than the looked-up entity's".into(),
                })?;
            let mut out = ValuesBuilder::new(l.ty, n);
            let mut key = Vec::with_capacity(cells.len());
            for (row, &t) in ts.iter().enumerate() {
                key.clear();
                key.extend(cells.iter().map(|c| c.get(row)));
                match self.core.read_value(l.group, l.feature, t, &key) {
                    Ok(v) => {
                        out.append(&v);
                    }
                    Err(StreamError::ReadBeforeHorizon { .. }) => {
                        ok[row] = false;
                        out.append_null();
                    }
                    Err(e) => return Err(e),
                }
            }
            values.push(out.finish().map_err(|e| data_error(&source, e))?);
        }
        let group = &self.groups[g];
        let full = with_lookup_columns(rows, &group.schema, &group.lookups, Some(values))
            .map_err(|e| data_error(&source, e))?;
        // The usual case: every row is fine, and the batch is evaluated once.
        let first = group.evaluate(&full);
        if first.is_err() {
            for (row, keep) in ok.iter_mut().enumerate() {
                *keep = *keep && group.evaluate(&full.slice(row, 1)).is_ok();
            }
        }
        let (full, ts, ev) = if let (true, Ok(ev)) = (ok.iter().all(|&k| k), first) {
            (full, ts.to_vec(), ev)
        } else {
            let keep: BooleanArray = ok.iter().map(|&k| Some(k)).collect();
            let drop: BooleanArray = ok.iter().map(|&k| Some(!k)).collect();
            let dead = filter_record_batch(&full, &drop).map_err(|e| data_error(&source, e))?;
            self.metrics.dead_lettered += dead.num_rows() as u64;
            self.dead.push(&source, dead);
            let kept = filter_record_batch(&full, &keep).map_err(|e| data_error(&source, e))?;
            let ts = (ts.iter().zip(&ok)).filter(|(_, &k)| k).map(|(&t, _)| t);
            let ev = self.groups[g].evaluate(&kept)?;
            (kept, ts.collect(), ev)
        };
        self.groups[g].load(&full)?;
        let apply: Vec<usize> = (0..full.num_rows()).collect();
        let seqs: Vec<u64> = (0..apply.len() as u64).map(|i| self.seq + i).collect();
        self.seq += apply.len() as u64;
        let horizon = self.promise(g);
        let skipped = self.groups[g].push(&full, &ev, &ts, &apply, &seqs, horizon);
        self.metrics.null_keys += skipped;
        Ok(())
    }
}
