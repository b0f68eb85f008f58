//! Planning `PointInTime` nodes: an `ExtensionPlanner` for DataFusion's physical
//! planner and the `QueryPlanner` a featc session installs to use it.
//!
//! A node becomes, per group, a `GroupMergeExec` over the group's evaluated events
//! (`GroupInputExec`) and its view of the spine (`GroupSpineExec`), all under one
//! `AssembleExec`. The merges' needs (inputs co-partitioned by key and sorted) are
//! met by DataFusion's physical optimizer afterwards, as for a sort-merge join. When
//! the session asks for passes (`resources::Passes`), each group's merge is one per
//! share of the keys (`share_exec`) under a `PassesExec` that runs them in turn.

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::Result;
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{LogicalPlan, UserDefinedLogicalNode};
use datafusion::physical_plan::{ChildrenPropertiesMode, ExecutionPlan, ReplaceChildrenOptions};
use datafusion::physical_planner::{DefaultPhysicalPlanner, ExtensionPlanner, PhysicalPlanner};

use super::assemble_exec::AssembleExec;
use super::input_exec::GroupInputExec;
use super::merge_exec::GroupMergeExec;
use super::node::PointInTime;
use super::passes_exec::PassesExec;
use super::prune_exec::GroupPruneExec;
use super::resources::Passes;
use super::share_exec::KeyShareExec;
use super::spine_exec::GroupSpineExec;
use crate::plan::{GroupPlan, KeyColumn};
use crate::row::types::arrow_type;

/// Plans `PointInTime` as `PointInTimeExec`; other nodes are left to other planners.
#[derive(Debug, Default)]
pub struct PointInTimePlanner;

#[async_trait]
impl ExtensionPlanner for PointInTimePlanner {
    async fn plan_extension(
        &self,
        _planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        _logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        session: &dyn Session,
        _planning_ctx: &PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let passes = session
            .config()
            .get_extension::<Passes>()
            .map_or(1, |p| p.0.max(1));
        match node.as_any().downcast_ref::<PointInTime>() {
            Some(pit) => Ok(Some(plan_point_in_time(pit, physical_inputs, passes)?)),
            None => Ok(None),
        }
    }
}

/// The physical plan of `node` over its physical inputs (spine first), each group's
/// merge in `passes` passes.
pub fn plan_point_in_time(
    node: &PointInTime,
    inputs: &[Arc<dyn ExecutionPlan>],
    passes: usize,
) -> Result<Arc<dyn ExecutionPlan>> {
    let (spine, events) = inputs.split_first().ok_or_else(|| {
        datafusion::error::DataFusionError::Internal("PointInTime without a spine".into())
    })?;
    let plan = Arc::new(node.plan.clone());
    let mut children: Vec<Arc<dyn ExecutionPlan>> = vec![Arc::clone(spine)];
    for (g, (group, input)) in plan.groups.iter().zip(events).enumerate() {
        let group = Arc::new(group.clone());
        if passes <= 1 {
            let events = Arc::clone(input);
            children.push(merge(g, &group, &node.spine_time, spine, events, None)?);
            continue;
        }
        // A pass reads its scans afresh (another pass's scan has spent its state).
        let runs = (0..passes)
            .map(|share| {
                let events = fresh(Arc::clone(input))?;
                merge(
                    g,
                    &group,
                    &node.spine_time,
                    spine,
                    events,
                    Some((share, passes)),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        children.push(Arc::new(PassesExec::try_new(runs)?));
    }
    let schema = Arc::new(
        datafusion::logical_expr::UserDefinedLogicalNodeCore::schema(node)
            .as_arrow()
            .clone(),
    );
    Ok(Arc::new(AssembleExec::try_new(
        plan,
        node.spine_time.clone(),
        schema,
        children,
    )?))
}

/// Group `g`'s merge of `events` (its source, as scanned) with its view of `spine`;
/// with `share` `(s, n)`, of the events and spine rows of share `s` of `n` only.
fn merge(
    g: usize,
    group: &Arc<GroupPlan>,
    spine_time: &str,
    spine: &Arc<dyn ExecutionPlan>,
    events: Arc<dyn ExecutionPlan>,
    share: Option<(usize, usize)>,
) -> Result<Arc<dyn ExecutionPlan>> {
    // The events are cut before they are evaluated (each pass reads them all), by
    // their key columns as the evaluation casts them; the spine rows after they are
    // numbered (a row's number is its place in the whole spine).
    let in_share = |input: Arc<dyn ExecutionPlan>,
                    column: &dyn Fn(&KeyColumn) -> &str|
     -> Result<Arc<dyn ExecutionPlan>> {
        let Some((s, n)) = share else {
            return Ok(input);
        };
        let keys = group
            .keys
            .iter()
            .map(|k| (column(k).to_string(), arrow_type(k.ty)))
            .collect();
        Ok(Arc::new(KeyShareExec::try_new(input, keys, s, n)?))
    };
    let events = in_share(events, &|k| &k.column)?;
    // The group's view of the spine (its share of it), on a scan of its own: DataFusion
    // shares one execution's state between the streams of a plan node (a file scan's
    // queue of files, which sibling streams steal from), so readers of one node would
    // split a spine read from a file (as on Ballista) between them.
    let spine_view = || -> Result<Arc<dyn ExecutionPlan>> {
        let rows = Arc::new(GroupSpineExec::try_new(
            Arc::clone(group),
            spine_time.to_string(),
            fresh(Arc::clone(spine))?,
        )?);
        in_share(rows, &|k| &k.name)
    };
    let mut events: Arc<dyn ExecutionPlan> =
        Arc::new(GroupInputExec::try_new(Arc::clone(group), events)?);
    // Events the merge would pass over are dropped before they are shuffled and
    // sorted, by a read of the spine of their own (`prune_exec`). Not under a spine
    // that is itself a featc plan (a lookup's), which a second read would compute
    // again.
    if reads_no_featc_node(spine) {
        events = Arc::new(GroupPruneExec::try_new(
            Arc::clone(group),
            events,
            spine_view()?,
        )?);
    }
    Ok(Arc::new(GroupMergeExec::try_new(
        g,
        Arc::clone(group),
        events,
        spine_view()?,
    )?))
}

/// Whether no node of `plan` is one of featc's batch operators.
fn reads_no_featc_node(plan: &Arc<dyn ExecutionPlan>) -> bool {
    let any: &dyn Any = plan.as_ref();
    let featc = any.is::<GroupInputExec>()
        || any.is::<GroupSpineExec>()
        || any.is::<GroupPruneExec>()
        || any.is::<GroupMergeExec>()
        || any.is::<AssembleExec>()
        || any.is::<PassesExec>();
    !featc && plan.children().into_iter().all(reads_no_featc_node)
}

/// `plan` with a state of its own at every node: a spine that is itself a plan (a
/// lookup's spine is the events of a group, over a scan or another lookup) shares
/// its scans' state with the other readers unless every node below is renewed.
fn fresh(plan: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
    let children = plan
        .children()
        .into_iter()
        .map(|c| fresh(Arc::clone(c)))
        .collect::<Result<Vec<_>>>()?;
    if children.is_empty() {
        return plan.reset_state();
    }
    // The same children's properties: only their state is new.
    plan.replace_children(
        children,
        ReplaceChildrenOptions::new(ChildrenPropertiesMode::Keep),
    )?
    .reset_state()
}

/// DataFusion's default planner with featc's extension planner.
#[derive(Debug, Default)]
pub struct FeatcQueryPlanner;

#[async_trait]
impl QueryPlanner for FeatcQueryPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session_state: &dyn Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        DefaultPhysicalPlanner::with_extension_planners(vec![Arc::new(PointInTimePlanner)])
            .create_physical_plan(logical_plan, session_state)
            .await
    }
}
