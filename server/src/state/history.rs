//! Loading the sources' history into the state before it serves (`featc serve
//! --bootstrap`): into one copy only (loading it twice would double the wait), then
//! compacted, snapshotted once (the snapshot is the checkpoint the writer records)
//! and copied into the second copy from that snapshot. Reads and pushes are refused
//! meanwhile (the transport's job), so nothing else changes the state.

use datafusion::arrow::record_batch::RecordBatch;

use super::error::StateError;
use super::late::take_late;
use super::online::OnlineState;
use crate::durable::{snapshot, DurableError};

impl OnlineState {
    /// Loads a batch of a source's history (into one copy: the second is dropped
    /// until `finish_history`).
    pub fn load_history(&self, source: &str, batch: &RecordBatch) -> Result<(), StateError> {
        let copies = self.copies();
        if copies.is_mirrored() {
            copies.unmirror(self.empty_runtime()?);
        }
        let (ingested, late) = self.write(|rt| {
            let ingested = rt.ingest(source, batch);
            (
                ingested,
                take_late(rt, || serde_json::json!({"history": {}})),
            )
        });
        self.keep_dead(late);
        ingested?;
        Ok(())
    }

    /// Ends the history: compacts it, and returns a snapshot of the state (for the
    /// checkpoint) from which the second copy was made.
    pub fn finish_history(&self) -> Result<Vec<u8>, StateError> {
        self.write(|rt| rt.compact());
        let taken = self.spare(snapshot::take).map_err(DurableError::Snapshot)?;
        self.mirror_from(&taken)?;
        Ok(taken)
    }

    /// Makes the second copy when two are kept and only one is current (a bootstrap
    /// loaded one).
    pub fn mirror(&self) -> Result<(), StateError> {
        if self.config().single_copy || self.is_mirrored() {
            return Ok(());
        }
        let taken = self.spare(snapshot::take).map_err(DurableError::Snapshot)?;
        self.mirror_from(&taken)
    }

    /// Makes the second copy from `taken` (unless one copy is kept).
    fn mirror_from(&self, taken: &[u8]) -> Result<(), StateError> {
        if self.config().single_copy {
            return Ok(());
        }
        let (graph, options) = (self.graph(), self.options());
        self.copies()
            .mirror(|_| snapshot::restore(graph.clone(), options.clone(), taken))
            .map_err(|e| StateError::Durable(DurableError::Restore(e)))
    }
}
