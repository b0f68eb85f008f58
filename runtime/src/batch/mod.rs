//! The batch path: a featc `PointInTime` extension node in a DataFusion plan, its
//! physical operators, and the session that knows how to plan them.
//!
//! `compiler::lower::batch` builds the logical plan (scans, one projection per
//! (source, entity key) group, the node); `planner` makes it a partitioned physical
//! plan (per group: `input_exec`, `prune_exec` dropping the events no spine row
//! reads (`spine_bounds`), `spine_exec`, `merge_exec` running `merge`; then
//! `assemble_exec`; in passes by key share, `share_exec` and `passes_exec`);
//! `session_context` runs it with a memory limit, spilling sorts to disk. The per-key
//! work goes through `window::KeyState`, the same state the streaming path uses.

pub mod assemble_exec;
pub mod bool_pack;
pub mod canonical_keys;
pub mod codec;
pub mod earliest_event;
pub mod first_failure;
pub mod input_exec;
pub mod key_of;
pub mod merge;
pub mod merge_exec;
pub mod node;
pub mod passes_exec;
pub mod planner;
pub mod prune_exec;
pub mod resources;
pub mod row_group_ranges;
pub mod share_exec;
pub mod sort_key;
pub mod spine_bounds;
pub mod spine_exec;
pub mod timing;

use std::sync::Arc;

use datafusion::common::Result as DfResult;
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::LogicalPlan;
use datafusion::optimizer::optimize_projections::OptimizeProjections;
use datafusion::physical_plan::{execute_stream, ExecutionPlan};
use datafusion::prelude::{SessionConfig, SessionContext};

pub use assemble_exec::AssembleExec;
pub use merge_exec::GroupMergeExec;
pub use node::PointInTime;
pub use resources::Resources;

/// A session that plans `PointInTime` nodes and reads sources the way `io` expects.
///
/// The logical optimizer only prunes columns (`OptimizeProjections`): in particular
/// the expression simplifier is off, so the projected expressions are evaluated
/// exactly as lowered (e.g. `x + 0.0` is not folded to `x`, which differs for -0.0),
/// the same way `expr::evaluate` evaluates them on the streaming path.
pub fn session_state(config: SessionConfig) -> SessionState {
    session_builder(config).build()
}

fn session_builder(config: SessionConfig) -> SessionStateBuilder {
    // A partition's events are sorted in one piece up to this size: sorted batch by
    // batch and merged, many small batches (a small `batch_size`) make the merge
    // quadratic in their number (each output batch interleaves every input batch).
    let config = config.set_usize(
        "datafusion.execution.sort_in_place_threshold_bytes",
        SORT_IN_PLACE_BYTES,
    );
    let mut builder = SessionStateBuilder::new()
        .with_config(crate::io::configure(config))
        .with_default_features()
        .with_optimizer_rules(vec![Arc::new(OptimizeProjections::new())])
        .with_query_planner(Arc::new(planner::FeatcQueryPlanner));
    // Functions a plan may name without a codec of featc's (`key_of`: Ballista's
    // shuffles encode their hash expressions with DataFusion's own codec).
    builder
        .scalar_functions()
        .get_or_insert_with(Vec::new)
        .extend(key_of::functions());
    builder
}

/// See `session_state`.
const SORT_IN_PLACE_BYTES: usize = 64 << 20;

/// `session_state` wrapped in a context (memory unbounded, partitions as `config`
/// says).
pub fn session_context(config: SessionConfig) -> SessionContext {
    SessionContext::new_with_state(session_state(config))
}

/// A context like `session_context` that runs `resources.partitions()` merges at
/// once and bounds its memory pool by `resources.memory_limit()`, spilling sorts
/// to disk beyond it.
pub fn bounded_session_context(
    config: SessionConfig,
    resources: &Resources,
) -> DfResult<SessionContext> {
    let state = session_builder(resources.configure(config))
        .with_runtime_env(resources.runtime_env()?)
        .build();
    Ok(SessionContext::new_with_state(state))
}

/// Plans (optimizer, then the operators `planner` makes, then the scans' ranges of a
/// split Parquet file cut at row groups: `row_group_ranges`) and starts a lowered plan in a session
/// from `batch::session_context`. The physical plan is returned too: after the stream
/// is drained, `batch::null_key_counts` reads its statistics.
pub async fn execute(
    ctx: &SessionContext,
    plan: LogicalPlan,
) -> DfResult<(Arc<dyn ExecutionPlan>, SendableRecordBatchStream)> {
    let physical = ctx.state().create_physical_plan(&plan).await?;
    let physical = row_group_ranges::cut_at_row_groups(ctx, physical).await?;
    let stream = execute_stream(Arc::clone(&physical), ctx.task_ctx())?;
    Ok((physical, stream))
}

/// Rows skipped for a null key, per group (`(group description, count)`, in group
/// order), read from the `GroupMergeExec` nodes of an executed physical plan (a
/// group run in passes has one per pass: their counts add up).
pub fn null_key_counts(plan: &Arc<dyn ExecutionPlan>) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    collect_null_keys(plan, &mut out);
    out.sort_by_key(|(g, _, _)| *g);
    let mut counts: Vec<(usize, String, usize)> = Vec::new();
    for (g, name, n) in out {
        match counts.last_mut() {
            Some((last, _, total)) if *last == g => *total += n,
            _ => counts.push((g, name, n)),
        }
    }
    counts.into_iter().map(|(_, name, n)| (name, n)).collect()
}

/// Bytes the operators of an executed physical plan spilled to disk (their
/// `spilled_bytes` metrics): 0 when the computation fit its memory limit.
pub fn spilled_bytes(plan: &Arc<dyn ExecutionPlan>) -> usize {
    let own = plan
        .metrics()
        .and_then(|m| m.spilled_bytes())
        .unwrap_or_default();
    own + plan
        .children()
        .into_iter()
        .map(spilled_bytes)
        .sum::<usize>()
}

/// Events a group's merge would never read, dropped before their sort
/// (`prune_exec`), over every group of an executed physical plan.
pub fn pruned_events(plan: &Arc<dyn ExecutionPlan>) -> usize {
    let any: &dyn std::any::Any = plan.as_ref();
    let own = match any.downcast_ref::<prune_exec::GroupPruneExec>() {
        Some(prune) => prune
            .metrics()
            .unwrap_or_default()
            .iter()
            .filter(|m| m.value().name() == prune_exec::PRUNED_METRIC)
            .map(|m| m.value().as_usize())
            .sum(),
        None => 0,
    };
    own + plan
        .children()
        .into_iter()
        .map(pruned_events)
        .sum::<usize>()
}

fn collect_null_keys(plan: &Arc<dyn ExecutionPlan>, out: &mut Vec<(usize, String, usize)>) {
    if let Some(merge) = (plan.as_ref() as &dyn std::any::Any).downcast_ref::<GroupMergeExec>() {
        let metrics = merge.metrics().unwrap_or_default();
        let n = metrics
            .iter()
            .filter(|m| m.value().name() == merge_exec::NULL_KEY_METRIC)
            .map(|m| m.value().as_usize())
            .sum();
        out.push((merge.index(), merge.group().describe(), n));
    }
    for child in plan.children() {
        collect_null_keys(child, out);
    }
}
