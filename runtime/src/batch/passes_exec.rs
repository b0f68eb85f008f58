//! `PassesExec`: one group's merge run in passes, one after the other. Each child is
//! the group's `GroupMergeExec` over one share of the key space (`share_exec`): the
//! spine rows and the events whose keys hash to that share. A pass's sorts hold and
//! spill only its share of the events, and its spill files are gone before the next
//! pass starts, so the disk a training set needs is about the event table divided by
//! the number of passes (each pass reads the sources again). Together the passes
//! answer every spine row once, as the single merge would: a row's features depend
//! only on the events of its key. One output partition: the passes in order, each
//! one's partitions at once.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning,
    PlanProperties,
};
use futures::{StreamExt, TryStreamExt};

#[derive(Debug)]
pub struct PassesExec {
    passes: Vec<Arc<dyn ExecutionPlan>>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl PassesExec {
    /// The passes, in the order they run; all of one schema.
    pub fn try_new(passes: Vec<Arc<dyn ExecutionPlan>>) -> Result<Self> {
        let schema = passes
            .first()
            .map(|p| p.schema())
            .ok_or_else(|| DataFusionError::Internal("PassesExec without a pass".into()))?;
        if passes.iter().any(|p| p.schema() != schema) {
            return Err(DataFusionError::Internal(
                "PassesExec: passes of different schemas".into(),
            ));
        }
        let properties = PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Ok(PassesExec {
            passes,
            schema,
            properties: Arc::new(properties),
        })
    }

    /// The passes, in the order they run.
    pub fn passes(&self) -> &[Arc<dyn ExecutionPlan>] {
        &self.passes
    }
}

impl DisplayAs for PassesExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "PassesExec: {} passes, one after the other",
            self.passes.len()
        )
    }
}

impl ExecutionPlan for PassesExec {
    fn name(&self) -> &str {
        "PassesExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        self.passes.iter().collect()
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false; self.passes.len()]
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
        Ok(Arc::new(Self::try_new(children)?))
    }

    /// The passes' rows, pass after pass. A pass is started (its partitions
    /// executed, which spawns its merges) only once the one before is drained.
    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!(
                "PassesExec has one partition, asked for {partition}"
            )));
        }
        let passes = self.passes.clone();
        let stream = futures::stream::iter(passes)
            .map(move |pass| -> Result<_> {
                let streams = (0..pass.output_partitioning().partition_count())
                    .map(|p| pass.execute(p, Arc::clone(&context)))
                    .collect::<Result<Vec<_>>>()?;
                Ok(futures::stream::select_all(streams))
            })
            .try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            stream,
        )))
    }
}
