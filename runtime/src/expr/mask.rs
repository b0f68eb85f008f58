//! Row masks of a group plan's filters: which rows pass a predicate (true, not null)
//! and which pass a filter (every predicate of its conjunction). Both executors turn
//! their evaluated predicate columns into filter bits here, so an event passes the
//! same filters whichever path it arrives by.

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::datatypes::DataType as ArrowType;

use super::ExprError;

/// The rows where a predicate column is true (null and false rows are out). A column
/// of Arrow's null type (an all-null literal) passes no row.
pub fn trues(column: &ArrayRef) -> Result<BooleanBuffer, ExprError> {
    match column.data_type() {
        ArrowType::Boolean => {
            let mask = column.as_boolean();
            Ok(match mask.nulls() {
                Some(valid) => mask.values() & valid.inner(),
                None => mask.values().clone(),
            })
        }
        ArrowType::Null => Ok(BooleanBuffer::new_unset(column.len())),
        other => Err(ExprError::Eval(format!(
            "a predicate evaluated to {other}, not a boolean"
        ))),
    }
}

/// The rows passing every predicate of `filter` (indices into `predicates`, each from
/// `trues`). An empty conjunction passes every one of `rows` rows.
pub fn conjunction(filter: &[usize], predicates: &[BooleanBuffer], rows: usize) -> BooleanBuffer {
    let mut picked = filter.iter().filter_map(|&p| predicates.get(p));
    match picked.next() {
        None => BooleanBuffer::new_set(rows),
        Some(first) => picked.fold(first.clone(), |acc, p| &acc & p),
    }
}
