//! `GroupSpineExec`: the spine as one group's merge reads it. The spine's partitions
//! are read in partition order (a spine's file order), each row numbered from 0 in
//! that order (`__row`, by which the outputs are put back in spine order), with the
//! group's key columns (as the keys' types, so that they hash and sort as the events'
//! keys do) and the time the group reads its state at (`__t`: the row's time in
//! microseconds, less the source's delay). One output partition.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, UInt64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimestampMicrosecondType};
use datafusion::arrow::record_batch::RecordBatch;
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

use super::canonical_keys::canonical_key;
use super::node::{ROW_COLUMN, SPINE_TIME};
use crate::ir::DataType as FeatcType;
use crate::plan::GroupPlan;
use crate::row::date::to_days;
use crate::row::time::{to_micros, TimeError};
use crate::row::types::arrow_type;

#[derive(Debug)]
pub struct GroupSpineExec {
    group: Arc<GroupPlan>,
    spine_time: String,
    input: Arc<dyn ExecutionPlan>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl GroupSpineExec {
    pub fn try_new(
        group: Arc<GroupPlan>,
        spine_time: String,
        input: Arc<dyn ExecutionPlan>,
    ) -> Result<Self> {
        let mut fields: Vec<Field> = group
            .keys
            .iter()
            .map(|k| Field::new(&k.name, arrow_type(k.ty), true))
            .collect();
        fields.push(Field::new(SPINE_TIME, DataType::Int64, false));
        fields.push(Field::new(ROW_COLUMN, DataType::UInt64, false));
        let schema = Arc::new(Schema::new(fields));
        let properties = PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Ok(GroupSpineExec {
            group,
            spine_time,
            input,
            schema,
            properties: Arc::new(properties),
        })
    }

    pub fn group(&self) -> &Arc<GroupPlan> {
        &self.group
    }

    pub fn spine_time(&self) -> &str {
        &self.spine_time
    }
}

impl DisplayAs for GroupSpineExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "GroupSpineExec: {}, time={}, delay_us={}",
            self.group.describe(),
            self.spine_time,
            self.group.delay_us
        )
    }
}

impl ExecutionPlan for GroupSpineExec {
    fn name(&self) -> &str {
        "GroupSpineExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match (children.pop(), children.is_empty()) {
            (Some(input), true) => Ok(Arc::new(Self::try_new(
                Arc::clone(&self.group),
                self.spine_time.clone(),
                input,
            )?)),
            _ => Err(DataFusionError::Internal(
                "GroupSpineExec has one input".into(),
            )),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!(
                "GroupSpineExec has one partition, asked for {partition}"
            )));
        }
        let input = Arc::clone(&self.input);
        let parts = input.output_partitioning().partition_count();
        // The input's partitions one after the other, in order.
        let batches = futures::stream::iter(0..parts)
            .map(move |p| input.execute(p, Arc::clone(&context)))
            .try_flatten();
        let group = Arc::clone(&self.group);
        let spine_time = self.spine_time.clone();
        let schema = Arc::clone(&self.schema);
        let out_schema = Arc::clone(&schema);
        let mut next_row: u64 = 0;
        let stream = batches.map(move |batch| {
            let batch = batch?;
            let out = numbered(&group, &spine_time, &out_schema, &batch, next_row)?;
            next_row += batch.num_rows() as u64;
            Ok(out)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}

/// One spine batch as the group reads it; its first row is spine row `first`.
fn numbered(
    group: &GroupPlan,
    spine_time: &str,
    schema: &SchemaRef,
    batch: &RecordBatch,
    first: u64,
) -> Result<RecordBatch> {
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(group.keys.len() + 2);
    for k in &group.keys {
        let key = batch.column_by_name(&k.name).ok_or_else(|| {
            DataFusionError::Plan(format!("the spine has no key column `{}`", k.name))
        })?;
        let want = arrow_type(k.ty);
        // Canonical (every NaN one key) as the events' keys are: these columns only
        // meet the events; the output's key columns are the spine's own.
        columns.push(canonical_key(if k.ty == FeatcType::Date {
            // Dates are checked, not cast (a `Date64` with a time of day is refused).
            to_days(key).map_err(|e| {
                DataFusionError::Execution(format!(
                    "spine row {}: key column `{}`: {}",
                    first + e.row as u64,
                    k.name,
                    e.error
                ))
            })?
        } else if key.data_type() == &want {
            Arc::clone(key)
        } else {
            cast(key, &want)?
        }));
    }
    let time = batch
        .column_by_name(spine_time)
        .ok_or_else(|| DataFusionError::Plan(format!("the spine has no column `{spine_time}`")))?;
    let time = to_micros(time).map_err(|e| match e {
        TimeError::Overflow { row } => DataFusionError::Execution(format!(
            "spine row {}: the time does not fit in microseconds",
            first + row as u64
        )),
        TimeError::NotATimestamp(t) => DataFusionError::Plan(format!(
            "the spine's time column `{spine_time}` is {t}, not a timestamp"
        )),
        // `to_micros` takes no integers: a spine's times are timestamps.
        TimeError::Integer { row, error } => {
            DataFusionError::Execution(format!("spine row {}: {error}", first + row as u64))
        }
    })?;
    let time = time.as_primitive::<TimestampMicrosecondType>();
    if time.null_count() > 0 {
        return Err(DataFusionError::Execution(format!(
            "the spine's time column `{spine_time}` has a null"
        )));
    }
    let state_times: Int64Array = time.values().iter().map(|&t| group.state_time(t)).collect();
    columns.push(Arc::new(state_times));
    let n = batch.num_rows() as u64;
    columns.push(Arc::new(UInt64Array::from_iter_values(first..first + n)));
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}
