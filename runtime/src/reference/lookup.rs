//! As-of lookups in the oracle (semantics.md, "As-of lookups"): a view's events are
//! a spine for the looked-up feature, each row the event's key columns at its time,
//! evaluated by the interpreter itself, so a lookup means exactly what a training
//! set of that feature at those times means.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;

use super::error::ReferenceError;
use super::output::{arrow_type, to_array};
use super::read::{read_column, ColumnSpec};
use super::table::Table;
use super::value::RValue;
use super::{evaluate, SpineInput};
use crate::ir::{DataType, Lookup, Project};

/// The spine's time column (no entity key can be named so: it is not an identifier).
const TIME: &str = "time()";

/// The value of `lookup` for every row of `table` (the rows of one of the view's
/// sources), read from `sources`.
pub fn lookup_values(
    project: &Project,
    lookup: &Lookup,
    table: &Table,
    sources: &HashMap<String, Vec<RecordBatch>>,
) -> Result<Vec<RValue>, ReferenceError> {
    let view = lookup
        .feature
        .view()
        .and_then(|v| project.views.get(v))
        .ok_or_else(|| ReferenceError::UnknownFeature(format!("{:?}", lookup.feature)))?;
    let entity = &project.entities[view.entity.0];
    let mut fields = Vec::with_capacity(entity.keys.len() + 1);
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(entity.keys.len() + 1);
    for (key, column) in entity.keys.iter().zip(&lookup.keys) {
        let cells: Vec<RValue> = (0..table.len())
            .map(|row| table.cell(column, row).unwrap_or(RValue::Null))
            .collect();
        fields.push(Field::new(&key.name, arrow_type(key.ty), true));
        columns.push(to_array(&key.name, key.ty, &cells)?);
    }
    let times: Vec<RValue> = table.times.iter().map(|&t| RValue::Ts(t)).collect();
    fields.push(Field::new(TIME, arrow_type(DataType::Timestamp), false));
    columns.push(to_array(TIME, DataType::Timestamp, &times)?);
    let spine = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| ReferenceError::Arrow(e.to_string()))?;
    let spine = [spine];
    let out = evaluate(
        project,
        &[lookup.feature],
        sources,
        SpineInput {
            batches: &spine,
            time_column: TIME,
        },
    )?;
    let name = &project.feature(lookup.feature).name;
    read_column(
        &[out],
        &ColumnSpec {
            table: "lookup",
            column: name,
            ty: lookup.ty,
            nullable: true,
            integer_times: None,
        },
    )
}
