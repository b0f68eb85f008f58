//! Loading the sources' history into the state before it serves (`featc serve
//! --bootstrap`), then compacting it and taking the state once (the checkpoint the
//! writer records). Reads and pushes are refused meanwhile (the transport's job), so
//! nothing else changes the state.

use datafusion::arrow::record_batch::RecordBatch;

use super::error::StateError;
use super::late::take_late;
use super::online::OnlineState;
use crate::durable::{snapshot, DurableError};

impl OnlineState {
    /// Loads a batch of a source's history, in any order (`StreamRuntime::
    /// ingest_history`: no event of a history is late).
    pub fn load_history(&self, source: &str, batch: &RecordBatch) -> Result<(), StateError> {
        let (ingested, late) = self.write(|rt| {
            let ingested = rt.ingest_history(source, batch);
            (
                ingested,
                take_late(rt, || serde_json::json!({"history": {}})),
            )
        });
        self.keep_dead(late);
        ingested?;
        Ok(())
    }

    /// Ends the history: compacts it, and returns the state taken for the
    /// checkpoint (with a disk tier, its entities are written to the store first).
    pub fn finish_history(&self) -> Result<Vec<u8>, StateError> {
        self.write(|rt| rt.compact())?;
        let taken = self.spare(snapshot::take).map_err(DurableError::Snapshot)?;
        Ok(taken)
    }
}
