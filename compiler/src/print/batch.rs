//! The batch plan as stable text (`featc build --emit batch`): the feature plan's
//! groups, then the DataFusion logical plan that computes them.

use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::logical_expr::builder::LogicalTableSource;
use datafusion::logical_expr::TableSource;
use featc_runtime::expr::{arrow_type, timestamp_type};
use featc_runtime::io::declared_schema;
use featc_runtime::ir::{self, Project};

use super::plan::print_plan;
use crate::lower::batch::{lower_plan, LowerError};
use crate::lower::groups::plan_groups;

/// The batch plan of every feature of `project`: sources are scanned with their
/// declared schemas, and the spine has every entity key column (in entity then key
/// order), `ts`, and every request's fields (in declaration order).
pub fn explain_batch(project: &Project) -> Result<String, LowerError> {
    let mut spine_fields: Vec<Field> = Vec::new();
    for entity in &project.entities {
        for key in &entity.keys {
            if !spine_fields.iter().any(|f| f.name() == &key.name) {
                spine_fields.push(Field::new(&key.name, arrow_type(key.ty), false));
            }
        }
    }
    if !spine_fields.iter().any(|f| f.name() == "ts") {
        spine_fields.push(Field::new("ts", timestamp_type(), false));
    }
    for field in project.requests.iter().flat_map(|r| &r.fields) {
        if !spine_fields.iter().any(|f| f.name() == &field.name) {
            spine_fields.push(Field::new(
                &field.name,
                arrow_type(field.ty),
                field.nullable,
            ));
        }
    }
    let spine = Arc::new(LogicalTableSource::new(Arc::new(Schema::new(spine_fields))));
    let tables = |s: &ir::Source| -> Arc<dyn TableSource> {
        Arc::new(LogicalTableSource::new(declared_schema(s)))
    };
    let plan = plan_groups(project, &project.all_features()).map_err(LowerError::Plan)?;
    let groups = print_plan(&plan);
    let logical = lower_plan(project, plan, &tables, spine, "ts")?;
    Ok(format!("{groups}\n{}\n", logical.display_indent()))
}
