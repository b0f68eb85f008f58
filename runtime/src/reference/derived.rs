//! The oracle's derived features: for every spine row, the feature's expression
//! evaluated by the reference's own evaluator (`eval.rs`) on the values the reference
//! computed for the features it names and on the spine's request-field columns.

use std::collections::HashMap;

use datafusion::arrow::record_batch::RecordBatch;

use super::eval::eval;
use super::read::{read_column, ColumnSpec};
use super::value::RValue;
use super::{EvalError, ReferenceError};
use crate::ir::{FeatureId, FeatureKind, Project};

/// The values of derived feature `id` for the `rows` spine rows. `values` holds every
/// aggregation's column; derived features are added to it as they are computed (a
/// derived feature may read another).
pub fn evaluate(
    project: &Project,
    id: FeatureId,
    spine: &[RecordBatch],
    rows: usize,
    values: &mut HashMap<FeatureId, Vec<RValue>>,
) -> Result<Vec<RValue>, ReferenceError> {
    if let Some(done) = values.get(&id) {
        return Ok(done.clone());
    }
    let feature = project.feature(id);
    let FeatureKind::Derived(derived) = &feature.kind else {
        return Err(ReferenceError::UnknownFeature(format!(
            "{id:?} (an aggregation the reference did not compute)"
        )));
    };
    // What the expression reads, by the name it uses: features (computed first) and
    // request fields (spine columns named like the field).
    let mut inputs: HashMap<String, Vec<RValue>> = HashMap::new();
    for read in &derived.reads {
        let column = evaluate(project, *read, spine, rows, values)?;
        inputs.insert(project.feature(*read).name.clone(), column);
    }
    for &(r, f) in &derived.request_fields {
        let request = &project.requests[r];
        let field = &request.fields[f];
        let spec = ColumnSpec {
            table: "spine",
            column: &field.name,
            ty: field.ty,
            nullable: field.nullable,
            integer_times: None,
        };
        inputs.insert(request.column_name(&field.name), read_column(spine, &spec)?);
    }
    let mut out = Vec::with_capacity(rows);
    for row in 0..rows {
        let cell = |name: &str| {
            inputs
                .get(name)
                .and_then(|c| c.get(row))
                .cloned()
                .ok_or_else(|| EvalError::UnknownName(name.to_string()))
        };
        let value = eval(&derived.expr, &cell).map_err(|message| ReferenceError::Aggregate {
            feature: feature.name.clone(),
            spine_row: row,
            message,
        })?;
        out.push(value);
    }
    values.insert(id, out.clone());
    Ok(out)
}
