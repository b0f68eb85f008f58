//! The dead-letter sink: late rows kept out of the state under `LatePolicy::DeadLetter`,
//! as the original rows of their source, for inspection or re-ingestion.

use datafusion::arrow::record_batch::RecordBatch;

/// Late rows, in arrival order, grouped in batches per ingest call.
#[derive(Debug, Clone, Default)]
pub struct DeadLetters {
    batches: Vec<(String, RecordBatch)>,
}

impl DeadLetters {
    pub fn push(&mut self, source: &str, rows: RecordBatch) {
        if rows.num_rows() > 0 {
            self.batches.push((source.to_string(), rows));
        }
    }

    /// `(source name, rows)` in arrival order.
    pub fn batches(&self) -> &[(String, RecordBatch)] {
        &self.batches
    }

    pub fn rows(&self) -> usize {
        self.batches.iter().map(|(_, b)| b.num_rows()).sum()
    }

    /// Empties the sink, handing its contents over.
    pub fn take(&mut self) -> Vec<(String, RecordBatch)> {
        std::mem::take(&mut self.batches)
    }
}
