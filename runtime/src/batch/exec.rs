//! `PointInTimeExec`, the physical operator of the `PointInTime` node: it collects the
//! spine (in order) and each group's events, computes every group (`group`), and
//! emits the spine rows with their feature columns in `batch_size` slices.
//!
//! Invariants: one output partition; output rows are the spine rows in spine order
//! (the spine child's partitions are read in partition order); the event children's
//! row order does not matter (ties are broken by value, never by arrival).

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef, TimestampMicrosecondType};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::runtime::SpawnedTask;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::UserDefinedLogicalNodeCore;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{ExecutionPlanMetricsSet, MetricBuilder, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning,
    PlanProperties,
};
use futures::{StreamExt, TryStreamExt};

use super::group::{compute_group, SpineView};
use super::node::{input_column, key_column, predicate_column, PointInTime, TIME_COLUMN};
use super::timing::Phases;
use crate::expr::derived::{derived_columns, CompiledDerived, DerivedColumnsError};
use crate::expr::slots::SlotEvaluator;
use crate::io::time::{iso8601, to_micros, TimeError};
use crate::plan::{FeatureRef, Output, Plan};

/// What the operator computes (the node without its inputs).
#[derive(Debug, Clone)]
pub struct PitSpec {
    pub spine_time: String,
    pub plan: Plan,
}

/// The name of the metric counting a group's events skipped for a null key.
pub fn null_key_metric(group: usize) -> String {
    format!("null_key_rows_group{group}")
}

#[derive(Debug)]
pub struct PointInTimeExec {
    spec: Arc<PitSpec>,
    /// The spine, then one input per group.
    children: Vec<Arc<dyn ExecutionPlan>>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl PointInTimeExec {
    /// The operator for `node`, over its physical inputs (spine first).
    pub fn try_new(node: &PointInTime, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Self> {
        let spec = PitSpec {
            spine_time: node.spine_time.clone(),
            plan: node.plan.clone(),
        };
        let schema: SchemaRef =
            Arc::new(UserDefinedLogicalNodeCore::schema(node).as_arrow().clone());
        Self::with_spec(Arc::new(spec), children, schema)
    }

    fn with_spec(
        spec: Arc<PitSpec>,
        children: Vec<Arc<dyn ExecutionPlan>>,
        schema: SchemaRef,
    ) -> Result<Self> {
        if children.len() != spec.plan.groups.len() + 1 {
            return Err(DataFusionError::Internal(format!(
                "PointInTimeExec: {} inputs for {} groups",
                children.len(),
                spec.plan.groups.len()
            )));
        }
        let properties = PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Final,
            Boundedness::Bounded,
        );
        Ok(PointInTimeExec {
            spec,
            children,
            schema,
            properties: Arc::new(properties),
            metrics: ExecutionPlanMetricsSet::new(),
        })
    }

    pub fn spec(&self) -> &PitSpec {
        &self.spec
    }
}

impl DisplayAs for PointInTimeExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let names: Vec<&str> = self.spec.plan.output_columns().map(|(n, _)| n).collect();
        write!(
            f,
            "PointInTimeExec: time={}, groups={}, outputs=[{}]",
            self.spec.spine_time,
            self.spec.plan.groups.len(),
            names.join(", ")
        )
    }
}

impl ExecutionPlan for PointInTimeExec {
    fn name(&self) -> &str {
        "PointInTimeExec"
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
        Ok(Arc::new(Self::with_spec(
            Arc::clone(&self.spec),
            children,
            Arc::clone(&self.schema),
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
        if partition != 0 {
            return Err(DataFusionError::Internal(format!(
                "PointInTimeExec has one partition, asked for {partition}"
            )));
        }
        let spec = Arc::clone(&self.spec);
        let children = self.children.clone();
        let schema = Arc::clone(&self.schema);
        let counters: Vec<_> = (0..spec.plan.groups.len())
            .map(|g| MetricBuilder::new(&self.metrics).global_counter(null_key_metric(g)))
            .collect();
        let batch_size = context.session_config().batch_size().max(1);
        let threads = context.session_config().target_partitions().max(1);
        let out_schema = Arc::clone(&schema);
        let work = async move {
            let mut phases = Phases::start();
            let spine = collect_in_order(&children[0], &context).await?;
            phases.mark("read spine");
            let mut groups = Vec::with_capacity(children.len() - 1);
            for (child, plan) in children[1..].iter().zip(&spec.plan.groups) {
                let slots = SlotEvaluator::new(Arc::new(plan.clone()), &child.schema())
                    .map_err(|e| DataFusionError::External(Box::new(e)))?;
                groups.push(collect_parallel(child, &context, Arc::new(slots)).await?);
            }
            phases.mark("read events");
            let task = SpawnedTask::spawn_blocking(move || {
                compute(&spec, &out_schema, spine, groups, threads)
            });
            let (batch, null_keys) = task.join().await.map_err(|e| {
                DataFusionError::Execution(format!("point-in-time task failed: {e}"))
            })??;
            for (counter, n) in counters.iter().zip(null_keys) {
                counter.add(n);
            }
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

/// Every batch of `plan`, partition 0 first (keeps a spine's file order).
async fn collect_in_order(
    plan: &Arc<dyn ExecutionPlan>,
    ctx: &Arc<TaskContext>,
) -> Result<RecordBatch> {
    let mut batches = Vec::new();
    for p in 0..plan.output_partitioning().partition_count() {
        let mut stream = plan.execute(p, Arc::clone(ctx))?;
        while let Some(b) = stream.next().await {
            batches.push(b?);
        }
    }
    Ok(concat_batches(&plan.schema(), &batches)?)
}

/// Every batch of `plan` (a group's events), its partitions read concurrently on the
/// runtime's threads, each batch turned into the group's evaluated layout as it
/// arrives (see `evaluated`).
async fn collect_parallel(
    plan: &Arc<dyn ExecutionPlan>,
    ctx: &Arc<TaskContext>,
    slots: Arc<SlotEvaluator>,
) -> Result<RecordBatch> {
    let n = plan.output_partitioning().partition_count();
    let mut tasks = Vec::with_capacity(n);
    for p in 0..n {
        let mut stream = plan.execute(p, Arc::clone(ctx))?;
        let slots = Arc::clone(&slots);
        tasks.push(SpawnedTask::spawn(async move {
            let mut batches = Vec::new();
            while let Some(b) = stream.next().await {
                batches.push(evaluated(&slots, &b?)?);
            }
            Ok::<_, DataFusionError>(batches)
        }));
    }
    let mut batches = Vec::new();
    for t in tasks {
        let part = t
            .join()
            .await
            .map_err(|e| DataFusionError::Execution(format!("reading events failed: {e}")))??;
        batches.extend(part);
    }
    let schema = match batches.first() {
        Some(b) => b.schema(),
        None => evaluated(&slots, &RecordBatch::new_empty(plan.schema()))?.schema(),
    };
    Ok(concat_batches(&schema, &batches)?)
}

/// A batch of a group's events as `group` reads it: the key columns, the time, then
/// the plan's inputs and predicates evaluated (`node`'s column names).
fn evaluated(slots: &SlotEvaluator, batch: &RecordBatch) -> Result<RecordBatch> {
    let plan = slots.plan();
    let column = |name: &str| -> Result<ArrayRef> {
        batch
            .column_by_name(name)
            .cloned()
            .ok_or_else(|| DataFusionError::Internal(format!("group input has no column `{name}`")))
    };
    let computed = slots
        .evaluate(batch)
        .map_err(|e| DataFusionError::External(Box::new(e)))?;
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for (i, k) in plan.keys.iter().enumerate() {
        columns.push(column(&k.column)?);
        fields.push((key_column(i), true));
    }
    columns.push(column(&plan.time_column)?);
    fields.push((TIME_COLUMN.to_string(), true));
    for (i, a) in computed.inputs.into_iter().enumerate() {
        columns.push(a);
        fields.push((input_column(i), true));
    }
    for (i, a) in computed.predicates.into_iter().enumerate() {
        columns.push(a);
        fields.push((predicate_column(i), true));
    }
    let schema = Schema::new(
        fields
            .into_iter()
            .zip(&columns)
            .map(|((name, nullable), a)| Field::new(name, a.data_type().clone(), nullable))
            .collect::<Vec<_>>(),
    );
    Ok(RecordBatch::try_new(Arc::new(schema), columns)?)
}

/// The whole output as one batch, and each group's null-key row count.
fn compute(
    spec: &PitSpec,
    schema: &SchemaRef,
    spine: RecordBatch,
    groups: Vec<RecordBatch>,
    threads: usize,
) -> Result<(RecordBatch, Vec<usize>)> {
    let time = spine.column_by_name(&spec.spine_time).ok_or_else(|| {
        DataFusionError::Plan(format!("the spine has no column `{}`", spec.spine_time))
    })?;
    let time = to_micros(time).map_err(|e| match e {
        TimeError::Overflow { row } => DataFusionError::Execution(format!(
            "spine row {row}: the time does not fit in microseconds"
        )),
        TimeError::NotATimestamp(t) => DataFusionError::Plan(format!(
            "the spine's time column `{}` is {t}, not a timestamp",
            spec.spine_time
        )),
    })?;
    let times: &[i64] = time.as_primitive::<TimestampMicrosecondType>().values();
    let mut group_columns = Vec::with_capacity(groups.len());
    let mut null_keys = Vec::with_capacity(groups.len());
    for (group, events) in spec.plan.groups.iter().zip(&groups) {
        let keys = group
            .keys
            .iter()
            .map(|k| {
                spine.column_by_name(&k.name).cloned().ok_or_else(|| {
                    DataFusionError::Plan(format!("the spine has no key column `{}`", k.name))
                })
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        // A delayed source's group is read at `t - delay` (`GroupPlan::state_time`).
        let delayed: Vec<i64>;
        let times = if group.delay_us == 0 {
            times
        } else {
            delayed = times.iter().map(|&t| group.state_time(t)).collect();
            &delayed
        };
        let out = compute_group(group, events, &SpineView { keys, times }, threads)?;
        null_keys.push(out.null_keys);
        group_columns.push(out.columns);
    }
    let plan = &spec.plan;
    let aggregate = |r: FeatureRef| -> Result<ArrayRef> {
        group_columns
            .get(r.group)
            .and_then(|g| g.get(r.feature))
            .cloned()
            .ok_or_else(|| DataFusionError::Plan(format!("no output for {r:?}")))
    };
    let compiled = plan
        .derived
        .iter()
        .map(|d| CompiledDerived::new(d, &|r| plan.feature(r).map(|f| (f.name.clone(), f.ty))))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| DataFusionError::Plan(e.to_string()))?;
    let derived =
        derived_columns(&compiled, &spine, &|r| aggregate(r).ok()).map_err(|e| match e {
            DerivedColumnsError::Eval(e) => DataFusionError::Execution(format!(
                "feature `{}` at spine row {} ({}): {}",
                e.feature,
                e.row + 1,
                times.get(e.row).map_or_else(String::new, |t| iso8601(*t)),
                e.message
            )),
            e => DataFusionError::Execution(e.to_string()),
        })?;
    let mut columns: Vec<ArrayRef> = spine.columns().to_vec();
    for o in &plan.outputs {
        columns.push(match *o {
            Output::Aggregate(r) => aggregate(r)?,
            Output::Derived(d) => derived
                .get(d)
                .cloned()
                .ok_or_else(|| DataFusionError::Plan(format!("no derived feature {d}")))?,
        });
    }
    Ok((
        RecordBatch::try_new(Arc::clone(schema), columns)?,
        null_keys,
    ))
}
