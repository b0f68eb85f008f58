//! Planning `PointInTime` nodes: an `ExtensionPlanner` for DataFusion's physical
//! planner and the `QueryPlanner` a featc session installs to use it.
//!
//! A node becomes, per group, a `GroupMergeExec` over the group's evaluated events
//! (`GroupInputExec`) and its view of the spine (`GroupSpineExec`), all under one
//! `AssembleExec`. The merges' needs (inputs co-partitioned by key and sorted) are
//! met by DataFusion's physical optimizer afterwards, as for a sort-merge join.

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
use super::spine_exec::GroupSpineExec;

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
        _session: &dyn Session,
        _planning_ctx: &PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        match node.as_any().downcast_ref::<PointInTime>() {
            Some(pit) => Ok(Some(plan_point_in_time(pit, physical_inputs)?)),
            None => Ok(None),
        }
    }
}

/// The physical plan of `node` over its physical inputs (spine first).
pub fn plan_point_in_time(
    node: &PointInTime,
    inputs: &[Arc<dyn ExecutionPlan>],
) -> Result<Arc<dyn ExecutionPlan>> {
    let (spine, events) = inputs.split_first().ok_or_else(|| {
        datafusion::error::DataFusionError::Internal("PointInTime without a spine".into())
    })?;
    let plan = Arc::new(node.plan.clone());
    let mut children: Vec<Arc<dyn ExecutionPlan>> = vec![Arc::clone(spine)];
    for (g, (group, input)) in plan.groups.iter().zip(events).enumerate() {
        let group = Arc::new(group.clone());
        let events = Arc::new(GroupInputExec::try_new(
            Arc::clone(&group),
            Arc::clone(input),
        )?);
        // Each reader of the spine gets a scan of its own: DataFusion shares one
        // execution's state between the streams of a plan node (a file scan's queue of
        // files, which sibling streams steal from), so readers of one node would split
        // a spine read from a file (as on Ballista) between them.
        let rows = Arc::new(GroupSpineExec::try_new(
            Arc::clone(&group),
            node.spine_time.clone(),
            fresh(Arc::clone(spine))?,
        )?);
        children.push(Arc::new(GroupMergeExec::try_new(g, group, events, rows)?));
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
