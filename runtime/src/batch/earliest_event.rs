//! After an expression failed in a batch run: the earliest event any group's
//! expressions fail on, found by evaluating every group's events again, partition
//! by partition (only on this error path). A run's partitions fail at once and the
//! first error to reach a merge through a repartition wins, so the event the run
//! names would otherwise depend on timing; semantics.md ("Errors while computing")
//! names the earliest (`SlotError::precedes`).

use std::any::Any;
use std::sync::Arc;

use datafusion::execution::TaskContext;
use datafusion::physical_plan::execution_plan::reset_plan_states;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use futures::StreamExt;

use super::input_exec::GroupInputExec;
use crate::expr::slots::SlotError;

/// The earliest failing event of the groups under `plans` (None when their inputs
/// cannot be read again here, as on a cluster, where a merge's input is another
/// stage's).
pub async fn earliest_failing_event(
    plans: &[Arc<dyn ExecutionPlan>],
    ctx: &Arc<TaskContext>,
) -> Option<SlotError> {
    let mut inputs = Vec::new();
    for plan in plans {
        group_inputs(plan, &mut inputs);
    }
    let mut first: Option<SlotError> = None;
    for exec in inputs {
        // A fresh copy of the whole input: its nodes' execution state (a
        // repartition's channels, a scan's queue of files) was spent by the run.
        let input = reset_plan_states(Arc::clone(exec.input())).ok()?;
        for p in 0..input.output_partitioning().partition_count() {
            let mut stream = input.execute(p, Arc::clone(ctx)).ok()?;
            while let Some(batch) = stream.next().await {
                if let Err(e) = exec.slots().evaluate(&batch.ok()?) {
                    SlotError::keep_first(&mut first, e);
                }
            }
        }
    }
    first
}

/// Every `GroupInputExec` in `plan`.
fn group_inputs<'p>(plan: &'p Arc<dyn ExecutionPlan>, out: &mut Vec<&'p GroupInputExec>) {
    let any: &dyn Any = plan.as_ref();
    if let Some(exec) = any.downcast_ref::<GroupInputExec>() {
        out.push(exec);
        return;
    }
    for child in plan.children() {
        group_inputs(child, out);
    }
}
