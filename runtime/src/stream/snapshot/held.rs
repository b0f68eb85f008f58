//! What as-of lookups keep in a snapshot (see `stream::lookup`): the embedder's
//! `settle_through` time, then per group its promised horizon and the rows waiting
//! for its lookups, each batch as one Arrow IPC stream with its times.
//!
//! A snapshot written before lookups ran online ends before this part: it loads with
//! no held row, each group's promised horizon the least of its sources' (what a
//! group promised then).

use super::super::runtime::StreamRuntime;
use super::dead_letters::ipc;
use crate::snapshot::{Reader, SnapshotError, Writer};
use datafusion::arrow::ipc::reader::StreamReader;

/// Fails only when Arrow cannot encode a batch it holds (the IPC writer's error).
pub(super) fn save(rt: &StreamRuntime, w: &mut Writer) -> Result<(), SnapshotError> {
    w.opt_i64(rt.complete_through);
    w.usize(rt.groups.len());
    for g in &rt.groups {
        w.opt_i64(g.promised);
        w.usize(g.held.batches().len());
        for (rows, ts) in g.held.batches() {
            w.bytes(&ipc(rows)?);
            w.usize(ts.len());
            ts.iter().for_each(|&t| w.i64(t));
        }
    }
    Ok(())
}

pub(super) fn load(rt: &mut StreamRuntime, r: &mut Reader<'_>) -> Result<(), SnapshotError> {
    let malformed = |what: String| SnapshotError::Malformed(what);
    if r.remaining() == 0 {
        for g in 0..rt.groups.len() {
            let promised = (rt.core.sources_of.get(g).into_iter().flatten())
                .map(|&s| rt.sources[s].promised)
                .min()
                .flatten();
            rt.groups[g].promised = promised;
        }
        return Ok(());
    }
    rt.complete_through = r.opt_i64()?;
    if r.usize()? != rt.groups.len() {
        return Err(malformed("another number of groups for lookups".into()));
    }
    for g in &mut rt.groups {
        g.promised = r.opt_i64()?;
        let n = r.count(2)?;
        for _ in 0..n {
            let ipc = r.bytes()?;
            let arrow = |e: datafusion::arrow::error::ArrowError| malformed(e.to_string());
            let reader = StreamReader::try_new(ipc, None).map_err(arrow)?;
            let mut batches = Vec::new();
            for batch in reader {
                batches.push(batch.map_err(arrow)?);
            }
            let rows = r.count(1)?;
            let mut ts = Vec::with_capacity(rows);
            for _ in 0..rows {
                ts.push(r.i64()?);
            }
            let [batch] = <[_; 1]>::try_from(batches)
                .map_err(|_| malformed("a held batch of another shape".into()))?;
            if batch.num_rows() != ts.len() || batch.schema() != g.rows_schema {
                return Err(malformed("held rows of another shape".into()));
            }
            g.held.push(batch, ts);
        }
    }
    Ok(())
}
