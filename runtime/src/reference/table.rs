//! One source's events read into plain cells: the time column and the declared
//! columns some requested feature needs, each checked against its declaration.

use std::collections::{BTreeSet, HashMap};

use datafusion::arrow::record_batch::RecordBatch;

use super::error::ReferenceError;
use super::read::{read_column, ColumnSpec};
use super::value::RValue;
use super::EvalError;
use crate::ir::{DataType, Source};

/// The rows of a source, in the order of its batches.
pub struct Table {
    /// Event times in microseconds, one per row.
    pub times: Vec<i64>,
    /// Declared columns by name (the time column too, as `RValue::Ts`).
    pub columns: HashMap<String, Vec<RValue>>,
}

impl Table {
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// The cell of `column` at `row`; an error when the column was not read.
    pub fn cell(&self, column: &str, row: usize) -> Result<RValue, EvalError> {
        self.columns
            .get(column)
            .map(|cells| cells[row].clone())
            .ok_or_else(|| EvalError::UnknownColumn(column.to_string()))
    }
}

/// Reads the time column and the declared columns in `needed` (names that are not
/// declared columns, such as lets, are skipped) from `batches`.
pub fn read_table(
    source: &Source,
    batches: &[RecordBatch],
    needed: &BTreeSet<String>,
) -> Result<Table, ReferenceError> {
    let time_spec = ColumnSpec {
        table: &source.name,
        column: &source.time_column,
        ty: DataType::Timestamp,
        nullable: false,
        integer_times: Some(source.epoch),
    };
    let time_cells = read_column(batches, &time_spec)?;
    let times = time_cells
        .iter()
        .map(|v| match v {
            RValue::Ts(t) => *t,
            // read_column refuses nulls here and only yields Ts for timestamps.
            _ => i64::MIN,
        })
        .collect();
    let mut columns = HashMap::new();
    columns.insert(source.time_column.clone(), time_cells);
    for column in &source.columns {
        if !needed.contains(&column.name) {
            continue;
        }
        let spec = ColumnSpec {
            table: &source.name,
            column: &column.name,
            ty: column.ty,
            nullable: column.nullable,
            integer_times: Some(source.epoch),
        };
        columns.insert(column.name.clone(), read_column(batches, &spec)?);
    }
    Ok(Table { times, columns })
}
