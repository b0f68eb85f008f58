//! `GroupMergeExec`: one group's point-in-time merge (`merge::Merge`), one independent
//! merge per partition. It declares what it needs of its two inputs and DataFusion's
//! physical optimizer provides it: the events (`GroupInputExec`) and the spine rows
//! (`GroupSpineExec`) co-partitioned by the entity key (a `RepartitionExec` by hash
//! when there are several partitions, a shuffle on Ballista), each partition sorted
//! by (key, time) and (key, time, row) (a `SortExec`, which spills to disk under the
//! session's memory limit). Its output per partition: `__row` and the group's
//! features, one row per spine row of the partition, in no particular order.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::{
    EquivalenceProperties, LexRequirement, OrderingRequirements, PhysicalExpr,
    PhysicalSortRequirement,
};
use datafusion::physical_plan::distribution_requirements::InputDistributionRequirements;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{ExecutionPlanMetricsSet, MetricBuilder, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchReceiverStreamBuilder;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, Distribution, ExecutionPlan, ExecutionPlanProperties,
    Partitioning, PlanProperties,
};

use super::key_of;
use super::merge::Merge;
use super::node::{key_column, ROW_COLUMN, SPINE_TIME, TIME_COLUMN};
use super::sort_key;
use crate::plan::GroupPlan;
use crate::row::types::arrow_type;
use crate::window::KeySpec;

/// The name of the metric counting a group's events skipped for a null key.
pub const NULL_KEY_METRIC: &str = "null_key_rows";

#[derive(Debug)]
pub struct GroupMergeExec {
    /// The group's place in the plan (its outputs are assembled by it).
    index: usize,
    group: Arc<GroupPlan>,
    spec: Arc<KeySpec>,
    /// The events, then the spine rows.
    children: [Arc<dyn ExecutionPlan>; 2],
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl GroupMergeExec {
    pub fn try_new(
        index: usize,
        group: Arc<GroupPlan>,
        events: Arc<dyn ExecutionPlan>,
        spine: Arc<dyn ExecutionPlan>,
    ) -> Result<Self> {
        let fed: Vec<_> = group.inputs.iter().map(|e| e.ty).collect();
        let spec = KeySpec::from_plan(&group, &fed)
            .map_err(|e| DataFusionError::Internal(format!("{}: {e}", group.describe())))?;
        let mut fields = vec![Field::new(ROW_COLUMN, DataType::UInt64, false)];
        for f in &group.features {
            fields.push(Field::new(&f.name, arrow_type(f.ty), true));
        }
        let schema = Arc::new(Schema::new(fields));
        let partitions = events.output_partitioning().partition_count();
        let properties = PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(partitions),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Ok(GroupMergeExec {
            index,
            group,
            spec: Arc::new(spec),
            children: [events, spine],
            schema,
            properties: Arc::new(properties),
            metrics: ExecutionPlanMetricsSet::new(),
        })
    }

    pub fn index(&self) -> usize {
        self.index
    }

    pub fn group(&self) -> &Arc<GroupPlan> {
        &self.group
    }

    /// The key columns of each input (the events' `__key{i}`, or their one key read
    /// out of the packed sort key; the spine's key names).
    fn keys(&self) -> [Vec<Arc<dyn PhysicalExpr>>; 2] {
        let events = self.children[0].schema();
        let spine = self.children[1].schema();
        let col = |schema: &SchemaRef, name: &str| -> Arc<dyn PhysicalExpr> {
            match schema.index_of(name) {
                Ok(i) => Arc::new(Column::new(name, i)),
                // Not reached: both inputs are built with these columns.
                Err(_) => Arc::new(Column::new(name, 0)),
            }
        };
        let event_keys = match self.group.keys.as_slice() {
            [k] if sort_key::packs(&self.group) => {
                vec![key_of::expr(col(&events, sort_key::SORT_KEY_COLUMN), k.ty)]
            }
            _ => (0..self.group.keys.len())
                .map(|i| col(&events, &key_column(i)))
                .collect(),
        };
        [
            event_keys,
            self.group
                .keys
                .iter()
                .map(|k| col(&spine, &k.name))
                .collect(),
        ]
    }
}

impl DisplayAs for GroupMergeExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let names: Vec<&str> = self
            .group
            .features
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        write!(
            f,
            "GroupMergeExec: g{}={}, features=[{}]",
            self.index,
            self.group.describe(),
            names.join(", ")
        )
    }
}

impl ExecutionPlan for GroupMergeExec {
    fn name(&self) -> &str {
        "GroupMergeExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        self.children.iter().collect()
    }

    fn input_distribution_requirements(&self) -> InputDistributionRequirements {
        let [events, spine] = self.keys();
        InputDistributionRequirements::co_partitioned(vec![
            Distribution::KeyPartitioned(events),
            Distribution::KeyPartitioned(spine),
        ])
    }

    fn required_input_ordering(&self) -> Vec<Option<OrderingRequirements>> {
        let [events, spine] = self.keys();
        let column = |plan: &Arc<dyn ExecutionPlan>, name: &str| -> Arc<dyn PhysicalExpr> {
            let schema = plan.schema();
            Arc::new(Column::new(name, schema.index_of(name).unwrap_or(0)))
        };
        let ascending = |exprs: Vec<Arc<dyn PhysicalExpr>>| {
            LexRequirement::new(
                exprs
                    .into_iter()
                    .map(|e| PhysicalSortRequirement::new(e, Some(Default::default()))),
            )
            .map(OrderingRequirements::new)
        };
        // A group with one integer key sorts its events by (key, time) packed into
        // one column (`sort_key`): the same order, compared as one primitive.
        let by_event = if sort_key::packs(&self.group) {
            vec![column(&self.children[0], sort_key::SORT_KEY_COLUMN)]
        } else {
            let mut by_event = events;
            by_event.push(column(&self.children[0], TIME_COLUMN));
            by_event
        };
        let mut by_row = spine;
        by_row.push(column(&self.children[1], SPINE_TIME));
        by_row.push(column(&self.children[1], ROW_COLUMN));
        vec![ascending(by_event), ascending(by_row)]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![false, false]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let [events, spine]: [Arc<dyn ExecutionPlan>; 2] = children
            .try_into()
            .map_err(|_| DataFusionError::Internal("GroupMergeExec has two inputs".into()))?;
        Ok(Arc::new(Self::try_new(
            self.index,
            Arc::clone(&self.group),
            events,
            spine,
        )?))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let merge = Merge {
            group: Arc::clone(&self.group),
            spec: Arc::clone(&self.spec),
            schema: Arc::clone(&self.schema),
            events: self.children[0].execute(partition, Arc::clone(&context))?,
            spine: self.children[1].execute(partition, context)?,
        };
        let null_keys = MetricBuilder::new(&self.metrics).counter(NULL_KEY_METRIC, partition);
        let mut builder = RecordBatchReceiverStreamBuilder::new(Arc::clone(&self.schema), 2);
        let tx = builder.tx();
        builder.spawn(async move {
            let counts = merge.run(&tx).await?;
            null_keys.add(counts.null_keys);
            Ok(())
        });
        Ok(builder.build())
    }
}
