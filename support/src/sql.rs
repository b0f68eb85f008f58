//! The SQL emitter's scripts in tests: emitting for a project, leaving out the
//! features a dialect refuses, and running the `datafusion` dialect's SQL on
//! DataFusion's own SQL engine (a plain `SessionContext`, not featc's operator).

use std::sync::Arc;

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
            let kept = crate::project::features_except(project, features, &refused);
            (kept, refusals)
        }
    }
}

/// The spine with the order column appended: its rows' positions.
pub fn with_order(spine: &RecordBatch) -> RecordBatch {
    featc::verify::executor::sql::with_order(spine, ORDER).expect("spine with order")
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
/// column (what `featc verify`'s SQL path runs).
pub async fn run(ctx: &SessionContext, script: &Script) -> Result<RecordBatch, String> {
    featc::verify::executor::sql::run_script(ctx, script, ORDER).await
}
