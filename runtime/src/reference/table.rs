//! One source's events read into plain cells: the time column and the declared
//! columns some requested feature needs, each checked against its declaration.

use std::collections::{BTreeSet, HashMap};

use datafusion::arrow::record_batch::RecordBatch;

use super::error::ReferenceError;
use super::read::{read_column, ColumnSpec};
use super::value::RValue;
use super::EvalError;
use crate::ir::{DataType, Source, SOURCE_NAME_COLUMN};

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

impl Table {
    /// The table as a view over `members` sees `source`'s rows: `source()` is its
    /// name, and a column of another member (its time column too) that `source`
    /// lacks is null (semantics.md, "Views over several sources").
    pub fn with_union_columns(mut self, source: &Source, members: &[&Source]) -> Table {
        let n = self.len();
        self.columns.insert(
            SOURCE_NAME_COLUMN.to_string(),
            vec![RValue::Str(source.name.clone()); n],
        );
        for other in members {
            let names =
                std::iter::once(&other.time_column).chain(other.columns.iter().map(|c| &c.name));
            for name in names {
                if source.column_type(name).is_none() && !self.columns.contains_key(name) {
                    self.columns.insert(name.clone(), vec![RValue::Null; n]);
                }
            }
        }
        self
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
        // A path column held flat already (as the stream path and the IO boundary
        // take it) is read as any column.
        let flat = batches
            .first()
            .is_some_and(|b| b.column_by_name(&column.name).is_some());
        let cells = match &column.path {
            _ if flat => read_column(batches, &spec)?,
            None => read_column(batches, &spec)?,
            Some(path) => {
                let flat = super::paths::path_batches(
                    &source.name,
                    &column.name,
                    path,
                    column.ty,
                    batches,
                )?;
                read_column(&flat, &spec)?
            }
        };
        columns.insert(column.name.clone(), cells);
    }
    Ok(Table { times, columns })
}
