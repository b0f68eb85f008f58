//! A table held in memory (Arrow batches of one schema, e.g. handed over from Python
//! without a copy) as a DataFusion table for a job to read like a file.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{MemTable, TableProvider};

use super::IoError;

/// Rows per slice when a table is dealt over partitions: big enough that per-batch
/// costs vanish, small enough that a one-batch table still spreads over the cores.
const SLICE_ROWS: usize = 65_536;

/// Arrow batches of one schema, in order.
#[derive(Debug, Clone)]
pub struct MemoryTable {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

impl MemoryTable {
    pub fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> MemoryTable {
        MemoryTable { schema, batches }
    }

    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }

    /// The table as `partitions` partitions: batches cut into slices (no copy) dealt
    /// round-robin. A source's rows have no order a job relies on (both executors
    /// order events by time); a spine is never read through here.
    pub fn provider(
        &self,
        table: &str,
        partitions: usize,
    ) -> Result<Arc<dyn TableProvider>, IoError> {
        let partitions = partitions.max(1);
        let mut parts: Vec<Vec<RecordBatch>> = vec![Vec::new(); partitions];
        let mut next = 0;
        for batch in &self.batches {
            let mut offset = 0;
            while offset < batch.num_rows() {
                let len = SLICE_ROWS.min(batch.num_rows() - offset);
                parts[next % partitions].push(batch.slice(offset, len));
                next += 1;
                offset += len;
            }
        }
        let provider =
            MemTable::try_new(Arc::clone(&self.schema), parts).map_err(|e| IoError::Read {
                table: table.to_string(),
                message: e.strip_backtrace(),
            })?;
        Ok(Arc::new(provider))
    }
}
