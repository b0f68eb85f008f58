//! The rows the runtime kept out as late (`--late dead-letter`: its outbox,
//! `StreamRuntime::dead_letters`) as dead letters, each row a JSON object of its
//! source's columns spelled as a push sends them, so a letter can be pushed again.
//! Taken from the runtime in the same write step that made them, on every copy (the
//! copies make the same rows; the first copy's are kept).

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::datatypes::DataType as ArrowType;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::array_value_to_string;
use featc_runtime::ir::DataType;
use featc_runtime::row::Cells;
use featc_runtime::stream::StreamRuntime;
use serde_json::{Map, Value as Json};

use crate::durable::{DeadLetter, DeadReason};
use crate::wire::json::to_json;
use crate::wire::time::format_time;

/// Empties the runtime's outbox of late rows, as letters from `origin()` (made only
/// when there are some: the step that calls this is every push's).
pub fn take_late(rt: &mut StreamRuntime, origin: impl FnOnce() -> Json) -> Vec<DeadLetter> {
    let batches = rt.dead_letters_mut().take();
    if batches.is_empty() {
        return Vec::new();
    }
    let origin = origin();
    let mut letters = Vec::new();
    for (source, rows) in batches {
        let lateness = rt.allowed_lateness_us(&source);
        let times = rt.time_column(&source).and_then(|c| rows.column_by_name(c));
        for row in 0..rows.num_rows() {
            let event = row_json(&rows, row);
            let time = times.and_then(|t| event_time(t, row));
            letters.push(DeadLetter {
                detail: detail(time, lateness),
                source: source.clone(),
                reason: DeadReason::Late,
                origin: origin.clone(),
                event,
            });
        }
    }
    letters
}

fn detail(time: Option<i64>, lateness_us: Option<i64>) -> String {
    let at = time.map_or_else(
        || "an event".to_string(),
        |t| format!("the event at {}", format_time(t)),
    );
    match lateness_us {
        Some(l) => format!(
            "{at} arrived behind its source's watermark (the latest event time less the \
             allowed lateness, {} s)",
            l as f64 / 1e6
        ),
        None => format!("{at} arrived behind its source's watermark"),
    }
}

/// The event time of a row, from its time column (µs; a late row's time was read
/// from it, so it is one).
fn event_time(column: &ArrayRef, row: usize) -> Option<i64> {
    match Cells::new(column, DataType::Timestamp)?.get(row) {
        featc_runtime::value::Value::Timestamp(t) => Some(t),
        _ => None,
    }
}

fn row_json(rows: &RecordBatch, row: usize) -> Json {
    let mut object = Map::new();
    for (field, column) in rows.schema().fields().iter().zip(rows.columns()) {
        object.insert(field.name().clone(), cell_json(column, row));
    }
    Json::Object(object)
}

/// A cell as a push spells it (a source's columns are scalars); any other type as
/// Arrow displays it.
fn cell_json(column: &ArrayRef, row: usize) -> Json {
    let ty = match column.data_type() {
        ArrowType::Int64 => Some(DataType::Int64),
        ArrowType::Float64 => Some(DataType::Float64),
        ArrowType::Utf8 => Some(DataType::String),
        ArrowType::Boolean => Some(DataType::Bool),
        ArrowType::Timestamp(_, _) => Some(DataType::Timestamp),
        _ => None,
    };
    match ty.and_then(|t| Cells::new(column, t)) {
        Some(cells) => to_json(&cells.get(row)),
        // A column of nulls only (Arrow's `Null` type) has no validity buffer.
        None if column.is_null(row) || column.data_type() == &ArrowType::Null => Json::Null,
        None => Json::String(array_value_to_string(column, row).unwrap_or_default()),
    }
}
