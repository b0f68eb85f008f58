//! Batch against replay: the same columns in the same order with the same types,
//! and in every row the same nulls and the same values (floats by their bits, as
//! both executors round exact sums once).

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::array_value_to_string;

fn show(a: &ArrayRef, r: usize) -> String {
    if a.is_null(r) {
        "null".into()
    } else {
        array_value_to_string(a, r).unwrap_or_default()
    }
}

fn same_cell(a: &ArrayRef, b: &ArrayRef, r: usize) -> bool {
    match (a.is_valid(r), b.is_valid(r)) {
        (false, false) => true,
        (true, true) if a.data_type() == &DataType::Float64 => {
            let x = a.as_primitive::<Float64Type>().value(r);
            let y = b.as_primitive::<Float64Type>().value(r);
            x.to_bits() == y.to_bits()
        }
        (true, true) => a.slice(r, 1) == b.slice(r, 1),
        _ => false,
    }
}

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
        if let Some(r) = (0..a.len()).find(|&r| !same_cell(a, b, r)) {
            return Some(format!(
                "column `{name}` row {r}: batch {}, replay {}",
                show(a, r),
                show(b, r)
            ));
        }
    }
    None
}
