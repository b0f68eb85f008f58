//! Batch against replay: the same columns in the same order with the same types,
//! and in every row the same nulls and the same values (floats by their bits, as
//! both executors round exact sums once).

use datafusion::arrow::array::Array;
use datafusion::arrow::record_batch::RecordBatch;
use featc_test_support::compare::{same_bits, show_cell};

/// The first difference between the batch output and the replay output.
pub fn difference(batch: &RecordBatch, replay: &RecordBatch) -> Option<String> {
    let names = |b: &RecordBatch| -> Vec<String> {
        b.schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    };
    if names(batch) != names(replay) {
        return Some(format!(
            "columns: batch {:?}, replay {:?}",
            names(batch),
            names(replay)
        ));
    }
    if batch.num_rows() != replay.num_rows() {
        return Some(format!(
            "rows: batch {}, replay {}",
            batch.num_rows(),
            replay.num_rows()
        ));
    }
    for (i, name) in names(batch).iter().enumerate() {
        let (a, b) = (batch.column(i), replay.column(i));
        if a.data_type() != b.data_type() {
            return Some(format!(
                "column `{name}`: type {} in batch, {} in replay",
                a.data_type(),
                b.data_type()
            ));
        }
        if let Some(r) = (0..a.len()).find(|&r| !same_bits(a, b, r)) {
            return Some(format!(
                "column `{name}` row {r}: batch {}, replay {}",
                show_cell(a, r),
                show_cell(b, r)
            ));
        }
    }
    None
}
