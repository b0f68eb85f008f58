//! `AssembleExec`: a training set's rows back together, in spine order. Its inputs are
//! the spine (partitions read in order) and each group's merge (`GroupMergeExec`,
//! rows in any order, each numbered by its spine row); it puts every group's feature
//! columns in spine order by those numbers, computes the derived features (the
//! evaluator every path uses), and emits the spine's columns then the outputs in
//! request order, in slices of the session's batch size. One output partition.
//!
//! It holds the spine and the features' values (what the answer holds), never the
//! events: those stay in the merges' sorted, spillable inputs.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, UInt32Array};
use datafusion::arrow::compute::{concat_batches, take};
use datafusion::arrow::datatypes::{SchemaRef, TimestampMicrosecondType, UInt64Type};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::runtime::SpawnedTask;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::distribution_requirements::InputDistributionRequirements;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, Distribution, ExecutionPlan, ExecutionPlanProperties,
    Partitioning, PlanProperties,
};
use futures::{StreamExt, TryStreamExt};

use super::earliest_event::earliest_failing_event;
use super::first_failure::first_failure;
use super::node::ROW_COLUMN;
use super::passes_exec::PassesExec;
use crate::expr::derived::{derived_columns, CompiledDerived, DerivedColumnsError, DerivedFailure};
use crate::expr::slots::SlotError;
use crate::plan::{FeatureRef, Output, Plan};
use crate::row::time::to_micros;

#[derive(Debug)]
pub struct AssembleExec {
    plan: Arc<Plan>,
    spine_time: String,
    /// The spine, then one merge per group, in group order.
    children: Vec<Arc<dyn ExecutionPlan>>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl AssembleExec {
    pub fn try_new(
        plan: Arc<Plan>,
        spine_time: String,
        schema: SchemaRef,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Self> {
        if children.len() != plan.groups.len() + 1 {
            return Err(DataFusionError::Internal(format!(
                "AssembleExec: {} inputs for {} groups",
                children.len(),
                plan.groups.len()
            )));
        }
        let properties = PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Final,
            Boundedness::Bounded,
        );
        Ok(AssembleExec {
            plan,
            spine_time,
            children,
            schema,
            properties: Arc::new(properties),
        })
    }

    pub fn plan(&self) -> &Arc<Plan> {
        &self.plan
    }

    pub fn spine_time(&self) -> &str {
        &self.spine_time
    }
}

impl DisplayAs for AssembleExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let names: Vec<&str> = self.plan.output_columns().map(|(n, _)| n).collect();
        write!(
            f,
            "AssembleExec: time={}, groups={}, outputs=[{}]",
            self.spine_time,
            self.plan.groups.len(),
            names.join(", ")
        )
    }
}

impl ExecutionPlan for AssembleExec {
    fn name(&self) -> &str {
        "AssembleExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        self.children.iter().collect()
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false; self.children.len()]
    }

    /// Each merge is read whole, so it is asked for as one partition: DataFusion puts
    /// a `CoalescePartitionsExec` above it, which a distributed planner (Ballista)
    /// also reads as "every partition, not this task's slice" and makes a stage
    /// boundary, so the merges run as tasks of their own. The spine is read here in
    /// partition order (file order), which a coalesce would not keep.
    fn input_distribution_requirements(&self) -> InputDistributionRequirements {
        let mut per_child = vec![Distribution::UnspecifiedDistribution];
        per_child.resize(self.children.len(), Distribution::SinglePartition);
        InputDistributionRequirements::new(per_child)
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
        Ok(Arc::new(Self::try_new(
            Arc::clone(&self.plan),
            self.spine_time.clone(),
            Arc::clone(&self.schema),
            children,
        )?))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!(
                "AssembleExec has one partition, asked for {partition}"
            )));
        }
        let plan = Arc::clone(&self.plan);
        let spine_time = self.spine_time.clone();
        let children = self.children.clone();
        let schema = Arc::clone(&self.schema);
        let out_schema = Arc::clone(&schema);
        let batch_size = context.session_config().batch_size().max(1);
        let work = async move {
            // Every group's merges run at once, with the spine read beside them.
            let mut tasks = Vec::with_capacity(children.len());
            for child in &children {
                tasks.push(SpawnedTask::spawn(collect_all(
                    Arc::clone(child),
                    Arc::clone(&context),
                )));
            }
            let mut collected = match joined(tasks).await {
                Ok(collected) => collected,
                Err(e) if is_slot_error(&e) => {
                    return Err(earliest_failing_event(&children, &context)
                        .await
                        .map_or(e, |s| DataFusionError::External(Box::new(s))))
                }
                Err(e) => return Err(e),
            };
            let spine = collected.remove(0);
            let task = SpawnedTask::spawn_blocking(move || {
                assemble(&plan, &spine_time, &out_schema, spine, collected)
            });
            let batch = task.join().await.map_err(|e| {
                DataFusionError::Execution(format!("a point-in-time task failed: {e}"))
            })??;
            let slices: Vec<Result<RecordBatch>> = (0..batch.num_rows())
                .step_by(batch_size)
                .map(|o| Ok(batch.slice(o, batch_size.min(batch.num_rows() - o))))
                .collect();
            Ok::<_, DataFusionError>(futures::stream::iter(slices))
        };
        let stream = futures::stream::once(work).try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            schema,
            stream.boxed(),
        )))
    }
}

/// Every batch of `plan`, partition 0 first (keeps a spine's file order); the
/// partitions run at once. A merge's coalesce (see `input_distribution_requirements`)
/// is read through here, partition by partition: a coalesce fails with whichever
/// partition's error comes first, which would make the error a run reports depend on
/// timing (`joined` picks it by a rule instead). A merge in passes (`PassesExec`)
/// runs pass after pass, each pass's partitions at once; a failed pass does not stop
/// the others, so the rule picks among every pass's errors, as it would among the
/// partitions of one merge.
async fn collect_all(plan: Arc<dyn ExecutionPlan>, ctx: Arc<TaskContext>) -> Result<RecordBatch> {
    let schema = plan.schema();
    let any: &dyn std::any::Any = plan.as_ref();
    let plan = match any.downcast_ref::<CoalescePartitionsExec>() {
        Some(coalesce) if coalesce.fetch().is_none() => Arc::clone(coalesce.input()),
        _ => plan,
    };
    let any: &dyn std::any::Any = plan.as_ref();
    let runs = match any.downcast_ref::<PassesExec>() {
        Some(passes) => passes.passes().to_vec(),
        None => vec![plan],
    };
    let mut batches: Vec<RecordBatch> = Vec::new();
    let mut errors: Vec<DataFusionError> = Vec::new();
    for run in runs {
        let n = run.output_partitioning().partition_count();
        let mut tasks = Vec::with_capacity(n);
        for p in 0..n {
            let mut stream = run.execute(p, Arc::clone(&ctx))?;
            tasks.push(SpawnedTask::spawn(async move {
                let mut batches = Vec::new();
                while let Some(b) = stream.next().await {
                    batches.push(b?);
                }
                Ok::<_, DataFusionError>(batches)
            }));
        }
        let (answers, failures) = settled(tasks).await;
        batches.extend(answers.into_iter().flatten());
        errors.extend(failures);
    }
    match first_failure(errors) {
        Some(e) => Err(e),
        None => Ok(concat_batches(&schema, &batches)?),
    }
}

/// Whether `error` is an expression's failure on an event.
fn is_slot_error(error: &DataFusionError) -> bool {
    matches!(error.find_root(), DataFusionError::External(e) if e.is::<SlotError>())
}

/// Every task's answer, in task order; when some fail, all are still awaited and the
/// error is the one the run names (`first_failure`), whichever finished first.
async fn joined<T: Send + 'static>(tasks: Vec<SpawnedTask<Result<T>>>) -> Result<Vec<T>> {
    let (answers, errors) = settled(tasks).await;
    match first_failure(errors) {
        Some(e) => Err(e),
        None => Ok(answers),
    }
}

/// Every task awaited: the answers of those that succeeded, in task order, and the
/// errors of the others.
async fn settled<T: Send + 'static>(
    tasks: Vec<SpawnedTask<Result<T>>>,
) -> (Vec<T>, Vec<DataFusionError>) {
    let mut answers = Vec::with_capacity(tasks.len());
    let mut errors = Vec::new();
    for task in tasks {
        match task.join().await {
            Ok(Ok(answer)) => answers.push(answer),
            Ok(Err(e)) => errors.push(e),
            Err(e) => errors.push(DataFusionError::Execution(format!(
                "a point-in-time task failed: {e}"
            ))),
        }
    }
    (answers, errors)
}

/// A group's merged rows put in spine order: its feature columns, row `r` of each
/// for spine row `r`.
fn in_spine_order(merged: &RecordBatch, spine_rows: usize, group: usize) -> Result<Vec<ArrayRef>> {
    let rows = merged
        .column_by_name(ROW_COLUMN)
        .and_then(|c| c.as_primitive_opt::<UInt64Type>())
        .ok_or_else(|| DataFusionError::Internal("a merge without its row numbers".into()))?;
    let mut position = vec![u32::MAX; spine_rows];
    for (i, &r) in rows.values().iter().enumerate() {
        match position.get_mut(r as usize) {
            Some(p) if *p == u32::MAX => *p = i as u32,
            _ => {
                return Err(DataFusionError::Internal(format!(
                    "group {group} answered spine row {r} twice or out of range"
                )))
            }
        }
    }
    if position.contains(&u32::MAX) {
        return Err(DataFusionError::Internal(format!(
            "group {group} left a spine row unanswered"
        )));
    }
    let indices = UInt32Array::from(position);
    merged.columns()[1..]
        .iter()
        .map(|c| Ok(take(c, &indices, None)?))
        .collect()
}

/// The whole answer as one batch.
fn assemble(
    plan: &Plan,
    spine_time: &str,
    schema: &SchemaRef,
    spine: RecordBatch,
    merged: Vec<RecordBatch>,
) -> Result<RecordBatch> {
    let n = spine.num_rows();
    let group_columns = merged
        .iter()
        .enumerate()
        .map(|(g, m)| in_spine_order(m, n, g))
        .collect::<Result<Vec<_>>>()?;
    let aggregate = |r: FeatureRef| -> Result<ArrayRef> {
        group_columns
            .get(r.group)
            .and_then(|g| g.get(r.feature))
            .cloned()
            .ok_or_else(|| DataFusionError::Plan(format!("no output for {r:?}")))
    };
    let mut columns: Vec<ArrayRef> = spine.columns().to_vec();
    columns.extend(outputs(plan, spine_time, &spine, &aggregate)?);
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}

/// `plan`'s outputs for the rows of `spine`, in request order: each aggregation's
/// column from `aggregate` (aligned with the spine's rows), each derived feature
/// computed from them and the spine's request fields by the evaluator every path
/// uses. A derived feature failing at a row is a `DerivedFailure` naming the row and
/// its time (the spine's `spine_time` column).
pub fn outputs(
    plan: &Plan,
    spine_time: &str,
    spine: &RecordBatch,
    aggregate: &dyn Fn(FeatureRef) -> Result<ArrayRef>,
) -> Result<Vec<ArrayRef>> {
    let compiled = plan
        .derived
        .iter()
        .map(|d| CompiledDerived::new(d, &|r| plan.feature(r).map(|f| (f.name.clone(), f.ty))))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| DataFusionError::Plan(e.to_string()))?;
    let derived =
        derived_columns(&compiled, spine, &|r| aggregate(r).ok()).map_err(|e| match e {
            DerivedColumnsError::Eval(error) => {
                let at = spine
                    .column_by_name(spine_time)
                    .and_then(|c| to_micros(c).ok())
                    .and_then(|c| {
                        c.as_primitive_opt::<TimestampMicrosecondType>()
                            .and_then(|t| t.values().get(error.row).copied())
                    });
                DataFusionError::External(Box::new(DerivedFailure { error, at }))
            }
            e => DataFusionError::Execution(e.to_string()),
        })?;
    plan.outputs
        .iter()
        .map(|o| match *o {
            Output::Aggregate(r) => aggregate(r),
            Output::Derived(d) => derived
                .get(d)
                .cloned()
                .ok_or_else(|| DataFusionError::Plan(format!("no derived feature {d}"))),
        })
        .collect()
}
