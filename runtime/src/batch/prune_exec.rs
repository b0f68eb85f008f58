//! `GroupPruneExec`: a group's evaluated events (`GroupInputExec`) less those its merge
//! never reads: events of keys no spine row names and events later than their key's
//! last spine row (`SpineBounds`). It runs before the repartition by key, so what it
//! drops is never shuffled, sorted, spilled or encoded; the merge's answers are the
//! same bits, since it would have passed those events over.
//!
//! Its second child is the group's view of the spine (`GroupSpineExec` over a scan of
//! its own), read whole once per execution, before the first batch of events, into
//! bounds shared by every partition. The bounds are an optimization only: when the
//! spine cannot be read here (the merge's own read reports why) or its keys would
//! not fit the session's memory pool, every event is kept, as without this node.
//! Evaluation errors are unchanged: every event is evaluated below it.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::metrics::{ExecutionPlanMetricsSet, MetricBuilder, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning,
    PlanProperties,
};
use futures::{StreamExt, TryStreamExt};
use tokio::sync::OnceCell;

use super::spine_bounds::SpineBounds;
use crate::plan::GroupPlan;

/// The name of the metric counting the events a group's merge never reads, dropped.
pub const PRUNED_METRIC: &str = "events_pruned";

/// The bounds of one execution, with the memory they hold accounted; None when
/// every event is kept.
type Shared = Arc<OnceCell<Option<Arc<Held>>>>;

struct Held {
    bounds: SpineBounds,
    _reservation: MemoryReservation,
}

pub struct GroupPruneExec {
    group: Arc<GroupPlan>,
    /// The events, then the group's view of the spine.
    children: [Arc<dyn ExecutionPlan>; 2],
    bounds: Shared,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl fmt::Debug for GroupPruneExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupPruneExec")
            .field("group", &self.group.describe())
            .field("children", &self.children)
            .finish()
    }
}

impl GroupPruneExec {
    /// `events` (with `GroupInputExec`'s columns) pruned by `spine` (a
    /// `GroupSpineExec`'s rows, one partition).
    pub fn try_new(
        group: Arc<GroupPlan>,
        events: Arc<dyn ExecutionPlan>,
        spine: Arc<dyn ExecutionPlan>,
    ) -> Result<Self> {
        if spine.output_partitioning().partition_count() != 1 {
            return Err(DataFusionError::Internal(
                "GroupPruneExec reads a spine of one partition".into(),
            ));
        }
        let properties = PlanProperties::new(
            EquivalenceProperties::new(events.schema()),
            // Rows are dropped, never moved: the events' partitions are kept.
            Partitioning::UnknownPartitioning(events.output_partitioning().partition_count()),
            events.pipeline_behavior(),
            events.boundedness(),
        );
        Ok(GroupPruneExec {
            group,
            children: [events, spine],
            bounds: Arc::new(OnceCell::new()),
            properties: Arc::new(properties),
            metrics: ExecutionPlanMetricsSet::new(),
        })
    }

    pub fn group(&self) -> &Arc<GroupPlan> {
        &self.group
    }
}

impl DisplayAs for GroupPruneExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "GroupPruneExec: {}, events after their key's last spine row dropped",
            self.group.describe()
        )
    }
}

impl ExecutionPlan for GroupPruneExec {
    fn name(&self) -> &str {
        "GroupPruneExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        self.children.iter().collect()
    }

    // The spine is read as one partition, in full: a round-robin repartition under
    // it would hand this node a part of it.
    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false, false]
    }

    // Rows keep their order, but `maintains_input_order` stays false, as for
    // `GroupInputExec`.

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
            .map_err(|_| DataFusionError::Internal("GroupPruneExec has two inputs".into()))?;
        Ok(Arc::new(Self::try_new(
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
        let events = self.children[0].execute(partition, Arc::clone(&context))?;
        let schema: SchemaRef = events.schema();
        let spine = Arc::clone(&self.children[1]);
        let shared = Arc::clone(&self.bounds);
        let group = Arc::clone(&self.group);
        let pruned = MetricBuilder::new(&self.metrics).counter(PRUNED_METRIC, partition);
        let stream = futures::stream::once(async move {
            let held = shared
                .get_or_init(|| read_bounds(Arc::clone(&group), spine, context))
                .await
                .clone();
            let kept = events.and_then(move |batch| {
                let out = match &held {
                    Some(held) => match held.bounds.readable(&group, &batch) {
                        Ok(Some(keep)) => {
                            pruned.add(keep.len() - keep.true_count());
                            filter_record_batch(&batch, &keep).map_err(DataFusionError::from)
                        }
                        Ok(None) => Ok(batch),
                        Err(e) => Err(e),
                    },
                    None => Ok(batch),
                };
                futures::future::ready(out)
            });
            Ok::<_, DataFusionError>(kept)
        })
        .try_flatten()
        .try_filter(|batch| futures::future::ready(batch.num_rows() > 0));
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}

/// The group's spine bounds, read from `spine` (one partition) within the session's
/// memory pool; None when the spine fails to read (the merge's own read of it says
/// why) or its keys outgrow the pool.
async fn read_bounds(
    group: Arc<GroupPlan>,
    spine: Arc<dyn ExecutionPlan>,
    context: Arc<TaskContext>,
) -> Option<Arc<Held>> {
    let reservation = MemoryConsumer::new(format!("GroupPruneExec[{}]", group.describe()))
        .register(context.memory_pool());
    let mut bounds = SpineBounds::new(&group).ok()?;
    let mut rows = spine.execute(0, context).ok()?;
    while let Some(batch) = rows.next().await {
        let batch = batch.ok()?;
        // Accounted before it is held: a spine of more keys than the pool can take
        // is read no further, and nothing is pruned.
        bounds
            .add(&group, &batch, |size| reservation.try_resize(size))
            .ok()?;
    }
    reservation.resize(bounds.size_after(0, 0));
    Some(Arc::new(Held {
        bounds,
        _reservation: reservation,
    }))
}
