//! Planning `PointInTime` nodes: an `ExtensionPlanner` for DataFusion's physical
//! planner and the `QueryPlanner` a featc session installs to use it.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::Result;
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{LogicalPlan, UserDefinedLogicalNode};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, ExtensionPlanner, PhysicalPlanner};

use super::exec::PointInTimeExec;
use super::node::PointInTime;

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
            Some(pit) => Ok(Some(Arc::new(PointInTimeExec::try_new(
                pit,
                physical_inputs.to_vec(),
            )?))),
            None => Ok(None),
        }
    }
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
