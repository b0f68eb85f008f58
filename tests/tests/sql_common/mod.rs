//! Helpers of the SQL emitter's tests: emitting for a project, leaving out the
//! features a dialect refuses, and running the `datafusion` dialect's SQL on
//! DataFusion's own SQL engine (a plain `SessionContext`, not featc's operator).

#![allow(dead_code)]

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::MemTable;
use datafusion::prelude::SessionContext;
use featc::emit::sql::{emit, Dialect, Refusal, Script, SqlOptions};
use featc::ir::{FeatureId, Project};
use featc_runtime::plan::Plan;

/// The spine's order column in the tests (the default of `--spine-order`).
pub const ORDER: &str = "spine_row";

pub fn plan(project: &Project, features: &[FeatureId]) -> Plan {
    featc::lower::groups::plan_groups(project, features)
        .unwrap_or_else(|e| panic!("does not plan: {e}"))
}

/// The script for `features`, or what the dialect refuses.
pub fn script(
    project: &Project,
    features: &[FeatureId],
    options: &SqlOptions,
) -> Result<Script, Vec<Refusal>> {
    emit(&plan(project, features), options)
}

/// `features` without the refused ones, and the refusals: what the emitter accepts.
pub fn accepted(
    project: &Project,
    features: &[FeatureId],
    dialect: Dialect,
) -> (Vec<FeatureId>, Vec<Refusal>) {
    match script(project, features, &SqlOptions::new(dialect)) {
        Ok(_) => (features.to_vec(), Vec::new()),
        Err(refusals) => {
            let refused: Vec<&str> = refusals.iter().map(|r| r.feature.as_str()).collect();
            let kept = featc_tests::features_except(project, features, &refused);
            (kept, refusals)
        }
    }
}

/// The spine with the order column appended: its rows' positions.
pub fn with_order(spine: &RecordBatch) -> RecordBatch {
    let mut fields: Vec<Field> = spine
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new(ORDER, DataType::Int64, false));
    let mut columns = spine.columns().to_vec();
    let order: ArrayRef = Arc::new(Int64Array::from_iter_values(0..spine.num_rows() as i64));
    columns.push(order);
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("spine with order")
}

/// `batch` without column `name`.
pub fn without(batch: &RecordBatch, name: &str) -> RecordBatch {
    let keep: Vec<usize> = (0..batch.num_columns())
        .filter(|&i| batch.schema().field(i).name() != name)
        .collect();
    batch.project(&keep).expect("projection")
}

/// Registers a batch as table `name`.
pub fn register(ctx: &SessionContext, name: &str, batch: RecordBatch) {
    let table = MemTable::try_new(batch.schema(), vec![vec![batch]]).expect("memory table");
    ctx.register_table(name, Arc::new(table))
        .expect("register table");
}

/// Runs a script's statements on `ctx`; the last one's rows, without the order
/// column.
pub async fn run(ctx: &SessionContext, script: &Script) -> Result<RecordBatch, String> {
    let mut last = None;
    for statement in &script.statements {
        let frame = ctx
            .sql(&format!("{statement}"))
            .await
            .map_err(|e| e.to_string())?;
        let schema = Arc::new(frame.schema().as_arrow().clone());
        let batches = frame.collect().await.map_err(|e| e.to_string())?;
        last = Some(concat_batches(&schema, &batches).map_err(|e| e.to_string())?);
    }
    let out = last.ok_or("an empty script")?;
    Ok(without(&out, ORDER))
}
