//! The batch plan as stable text (`featc build --emit batch`): the feature plan's
//! groups, the DataFusion logical plan that computes them, and the physical plan
//! DataFusion makes of it for a number of partitions (where it repartitions by key
//! and sorts, and what each merge runs).

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::catalog::MemTable;
use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::TableSource;
use datafusion::physical_plan::displayable;
use datafusion::prelude::SessionConfig;
use featc_runtime::batch;
use featc_runtime::io::declared_schema;
use featc_runtime::ir::{self, Project};
use featc_runtime::row::types::{arrow_type, timestamp_type};

use super::plan::print_plan;
use crate::lower::batch::{lower_plan, LowerError};
use crate::lower::groups::plan_groups;

/// The batch plan of every feature of `project` run with `partitions` partitions, in
/// `passes` passes by key share (`featc training-set --passes`; 1: one pass):
/// sources are scanned with their declared schemas, and the spine has every entity
/// key column (in entity then key order), its time column (`ts`, or `spine_ts` when
/// a feature has that name: a run names its own with `--spine-time`), and every
/// request's fields (in declaration order).
pub fn explain_batch(
    project: &Project,
    partitions: usize,
    passes: usize,
) -> Result<String, LowerError> {
    let time = spine_time(project);
    let spine = empty_table(spine_schema(project, &time));
    let tables = |s: &ir::Source| -> Arc<dyn TableSource> { empty_table(declared_schema(s)) };
    let plan = plan_groups(project, &project.all_features()).map_err(LowerError::Grouping)?;
    let groups = print_plan(&plan);
    let logical = lower_plan(project, plan, &tables, spine, &time)?;
    let resources = batch::Resources {
        partitions: Some(partitions),
        passes: Some(passes),
        ..Default::default()
    };
    let state = batch::session_state(resources.configure(SessionConfig::new()));
    let physical = ready(state.create_physical_plan(&logical))
        .map_err(|e| LowerError::DataFusion(e.to_string()))?;
    let passes = match resources.passes() {
        1 => String::new(),
        n => format!(", {n} passes"),
    };
    Ok(format!(
        "{groups}\nlogical plan:\n{}\n\nphysical plan, {partitions} partitions{passes}:\n{}",
        logical.display_indent(),
        displayable(physical.as_ref()).indent(false)
    ))
}

/// The output of a future that completes when first polled: planning over in-memory
/// tables does no IO, so it never waits (and this library needs no async runtime).
fn ready<T>(
    future: impl Future<Output = datafusion::common::Result<T>>,
) -> datafusion::common::Result<T> {
    let mut context = Context::from_waker(Waker::noop());
    match pin!(future).poll(&mut context) {
        Poll::Ready(out) => out,
        Poll::Pending => Err(datafusion::error::DataFusionError::Internal(
            "planning over in-memory tables waited".to_string(),
        )),
    }
}

/// The spine time column `explain_batch` assumes: `ts`, or the first of `spine_ts`,
/// `spine_ts_2`, ... that no feature is named (`check` keeps entity keys and request
/// fields apart from features, so they never take it).
fn spine_time(project: &Project) -> String {
    let taken = |name: &str| {
        project
            .all_features()
            .iter()
            .any(|id| project.feature(*id).name == name)
    };
    std::iter::once("ts".to_string())
        .chain(std::iter::once("spine_ts".to_string()))
        .chain((2..).map(|n| format!("spine_ts_{n}")))
        .find(|name| !taken(name))
        .unwrap_or_default()
}

/// The spine `explain_batch` assumes (see there), its time column named `time`.
fn spine_schema(project: &Project, time: &str) -> SchemaRef {
    let mut spine_fields: Vec<Field> = Vec::new();
    for entity in &project.entities {
        for key in &entity.keys {
            if !spine_fields.iter().any(|f| f.name() == &key.name) {
                spine_fields.push(Field::new(&key.name, arrow_type(key.ty), false));
            }
        }
    }
    if !spine_fields.iter().any(|f| f.name() == time) {
        spine_fields.push(Field::new(time, timestamp_type(), false));
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
    Arc::new(Schema::new(spine_fields))
}

/// An empty in-memory table (physical planning needs a table it can scan).
fn empty_table(schema: SchemaRef) -> Arc<dyn TableSource> {
    match MemTable::try_new(Arc::clone(&schema), vec![vec![]]) {
        Ok(table) => provider_as_source(Arc::new(table)),
        // Not reached: an empty partition matches every schema.
        Err(_) => Arc::new(datafusion::logical_expr::builder::LogicalTableSource::new(
            schema,
        )),
    }
}
