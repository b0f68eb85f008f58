//! The dead-letter sink in a snapshot: each `(source, rows)` batch as the source
//! name and one Arrow IPC stream (schema and batch), so the rows come back with
//! their exact types, nulls and time zones.

use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::arrow::record_batch::RecordBatch;

use super::super::dead_letter::DeadLetters;
use crate::snapshot::{Reader, SnapshotError, Writer};

/// Fails only when Arrow cannot encode a batch it holds (the IPC writer's error).
pub(super) fn save(dead: &DeadLetters, w: &mut Writer) -> Result<(), SnapshotError> {
    w.usize(dead.batches().len());
    for (source, rows) in dead.batches() {
        w.str(source);
        w.bytes(&ipc(rows)?);
    }
    Ok(())
}

/// `rows` as one Arrow IPC stream (schema and batch).
pub(super) fn ipc(rows: &RecordBatch) -> Result<Vec<u8>, SnapshotError> {
    let mut ipc = Vec::new();
    let io = |e: datafusion::arrow::error::ArrowError| SnapshotError::Io(e.to_string());
    let mut writer = StreamWriter::try_new(&mut ipc, &rows.schema()).map_err(io)?;
    writer.write(rows).map_err(io)?;
    writer.finish().map_err(io)?;
    drop(writer);
    Ok(ipc)
}

pub(super) fn load(r: &mut Reader<'_>) -> Result<DeadLetters, SnapshotError> {
    let n = r.count(2)?;
    let mut dead = DeadLetters::default();
    for _ in 0..n {
        let source = r.str()?;
        let ipc = r.bytes()?;
        let malformed =
            |e: datafusion::arrow::error::ArrowError| SnapshotError::Malformed(e.to_string());
        let reader = StreamReader::try_new(ipc, None).map_err(malformed)?;
        for batch in reader {
            dead.push(source, batch.map_err(malformed)?);
        }
    }
    Ok(dead)
}
