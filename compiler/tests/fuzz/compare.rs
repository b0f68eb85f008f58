//! Batch against replay: the same columns in the same order with the same types,
//! and in every row the same nulls and the same values (floats by their bits, as
//! both executors round exact sums once): test-support's `bit_equal`, replay taken
//! as the actual and batch as the expected.

use datafusion::arrow::record_batch::RecordBatch;
use featc_test_support::compare::bit_equal;

/// The first difference between the batch output and the replay output.
pub fn difference(batch: &RecordBatch, replay: &RecordBatch) -> Option<String> {
    bit_equal(replay, batch)
        .err()
        .map(|d| format!("replay (expected: batch): {d}"))
}
