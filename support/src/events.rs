//! In-memory events as the batch plan's contract wants a source table.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;

/// `events` of `source` with every timestamp column, and its time column and declared
/// timestamp columns held as integers (in the source's `epoch` unit), in UTC
/// microseconds. `bind_source` does this when it reads a file; tables built in memory
/// by the tests get the same conversion (`row::time::to_micros_in`) here, and declared
/// `date` columns become checked `Date32` (`row::date::to_days`), declared `decimal`
/// columns exact `Decimal128` of their type (`row::decimal::to_decimal`).
pub fn events_in_micros(
    events: &RecordBatch,
    source: &featc_runtime::ir::Source,
) -> Result<RecordBatch, String> {
    let mut columns = events.columns().to_vec();
    let mut fields: Vec<Field> = events
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    for (column, field) in columns.iter_mut().zip(fields.iter_mut()) {
        let declared_time = field.name() == &source.time_column
            || source
                .columns
                .iter()
                .any(|c| c.name == *field.name() && c.ty == featc_runtime::ir::DataType::Timestamp);
        let declared_date = source
            .columns
            .iter()
            .any(|c| c.name == *field.name() && c.ty == featc_runtime::ir::DataType::Date);
        // A list column in featc's one list form (`row::list_column`), as the IO
        // boundary (`io::bind_source`) reads it.
        let declared_list = source.columns.iter().find_map(|c| match c.ty {
            featc_runtime::ir::DataType::List(l) if c.name == *field.name() => Some(l.item),
            _ => None,
        });
        if let Some(item) = declared_list {
            *column = featc_runtime::row::list_column::to_lists(column, item)
                .map_err(|e| format!("column `{}`: {e}", field.name()))?;
            *field = Field::new(
                field.name(),
                column.data_type().clone(),
                field.is_nullable(),
            );
            continue;
        }
        let declared_decimal = source
            .columns
            .iter()
            .find(|c| c.name == *field.name() && c.ty.is_decimal())
            .map(|c| c.ty);
        if let Some(featc_runtime::ir::DataType::Decimal { precision, scale }) = declared_decimal {
            *column = featc_runtime::row::decimal::to_decimal(column, precision, scale)
                .map_err(|e| e.to_string())?;
            *field = Field::new(
                field.name(),
                DataType::Decimal128(precision, scale as i8),
                field.is_nullable(),
            );
            continue;
        }
        if declared_date {
            *column = featc_runtime::row::date::to_days(column).map_err(|e| e.to_string())?;
            *field = Field::new(field.name(), DataType::Date32, field.is_nullable());
            continue;
        }
        if matches!(field.data_type(), DataType::Timestamp(_, _)) || declared_time {
            *column = featc_runtime::row::time::to_micros_in(column, source.epoch)
                .map_err(|e| e.to_string())?;
            *field = Field::new(
                field.name(),
                column.data_type().clone(),
                field.is_nullable(),
            );
        }
    }
    // Struct and map paths (`address.city`) as flat columns, read by the one
    // extraction the IO boundary (`io::path`) and the stream path use.
    for c in &source.columns {
        let Some(path) = &c.path else { continue };
        let Some(physical) = events.column_by_name(&path.physical) else {
            continue;
        };
        let leaf = featc_runtime::row::nested_column::extract(physical, &path.steps)
            .map_err(|e| format!("column `{}`: {e}", c.name))?;
        let leaf = featc_runtime::row::conform_in(&leaf, c.ty, &c.name, source.epoch)
            .map_err(|e| format!("column `{}`: {}", c.name, e.message))?;
        fields.push(Field::new(&c.name, leaf.data_type().clone(), true));
        columns.push(leaf);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|e| e.to_string())
}
