//! `GroupInputExec`: a group's events as its merge reads them. Each batch of the
//! source (projected to the columns the group reads) becomes the key columns (as the
//! keys' types), the time, and the plan's inputs and predicates evaluated
//! (`SlotEvaluator`, the code the streaming path runs), named as `node` names them.
//! The boolean inputs and the predicates travel packed (`bool_pack`), and the key and
//! time of a group with one integer key travel packed in one column, for its sort and
//! in their place (`sort_key`). One batch in,
//! one batch out, partition by partition: order and partitioning are the input's.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning,
    PlanProperties,
};
use futures::StreamExt;

use super::bool_pack::{self, BoolLayout};
use super::canonical_keys::typed_key;
use super::node::{bools_column, input_column, key_column, TIME_COLUMN};
use super::sort_key;
use crate::expr::slots::SlotEvaluator;
use crate::plan::GroupPlan;
use crate::row::types::{arrow_type, timestamp_type};

pub struct GroupInputExec {
    group: Arc<GroupPlan>,
    slots: Arc<SlotEvaluator>,
    bools: Arc<BoolLayout>,
    input: Arc<dyn ExecutionPlan>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl fmt::Debug for GroupInputExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupInputExec")
            .field("group", &self.group.describe())
            .field("input", &self.input)
            .finish()
    }
}

impl GroupInputExec {
    pub fn try_new(group: Arc<GroupPlan>, input: Arc<dyn ExecutionPlan>) -> Result<Self> {
        let slots = SlotEvaluator::new(Arc::clone(&group), &input.schema())
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        Ok(Self::with_slots(group, Arc::new(slots), input))
    }

    /// The node over `input` with its expressions already compiled for `input`'s
    /// schema (the physical optimizer replaces a node's inputs many times; a deep
    /// expression is compiled once).
    fn with_slots(
        group: Arc<GroupPlan>,
        slots: Arc<SlotEvaluator>,
        input: Arc<dyn ExecutionPlan>,
    ) -> Self {
        let mut fields: Vec<Field> = Vec::new();
        // A group with one integer key carries its key and time only inside the
        // packed sort key (`sort_key`), which the repartition (`key_of`) and the
        // merge read them from: 16 bytes per event held, repartitioned, sorted and
        // spilled, as the two columns took, now compared as one.
        if sort_key::packs(&group) {
            fields.push(Field::new(
                sort_key::SORT_KEY_COLUMN,
                sort_key::SORT_KEY_TYPE,
                true,
            ));
        } else {
            for (i, k) in group.keys.iter().enumerate() {
                fields.push(Field::new(key_column(i), arrow_type(k.ty), true));
            }
            fields.push(Field::new(TIME_COLUMN, timestamp_type(), true));
        }
        let bools = BoolLayout::of(&group);
        for (i, e) in group.inputs.iter().enumerate() {
            if bools.inputs[i].is_none() {
                fields.push(Field::new(input_column(i), arrow_type(e.ty), true));
            }
        }
        for j in 0..bools.words() {
            fields.push(Field::new(bools_column(j), ArrowType::UInt64, false));
        }
        let schema = Arc::new(Schema::new(fields));
        let properties = PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            // The input's partitioning is by its own columns, not by ours.
            Partitioning::UnknownPartitioning(input.output_partitioning().partition_count()),
            input.pipeline_behavior(),
            input.boundedness(),
        );
        GroupInputExec {
            group,
            slots,
            bools: Arc::new(bools),
            input,
            schema,
            properties: Arc::new(properties),
        }
    }

    /// The group's expressions, compiled for its input.
    pub fn slots(&self) -> &Arc<SlotEvaluator> {
        &self.slots
    }

    /// The group's events before evaluation.
    pub fn input(&self) -> &Arc<dyn ExecutionPlan> {
        &self.input
    }

    pub fn group(&self) -> &Arc<GroupPlan> {
        &self.group
    }
}

impl DisplayAs for GroupInputExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "GroupInputExec: {}, inputs={}, predicates={}",
            self.group.describe(),
            self.group.inputs.len(),
            self.group.predicates.len()
        )
    }
}

impl ExecutionPlan for GroupInputExec {
    fn name(&self) -> &str {
        "GroupInputExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    // Rows keep their order, but `maintains_input_order` stays false: the optimizer
    // would push a sort on our columns down to the input by position, where other
    // columns are.

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
            (Some(input), true) if input.schema() == self.input.schema() => Ok(Arc::new(
                Self::with_slots(Arc::clone(&self.group), Arc::clone(&self.slots), input),
            )),
            (Some(input), true) => Ok(Arc::new(Self::try_new(Arc::clone(&self.group), input)?)),
            _ => Err(DataFusionError::Internal(
                "GroupInputExec has one input".into(),
            )),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, context)?;
        let slots = Arc::clone(&self.slots);
        let bools = Arc::clone(&self.bools);
        let schema = Arc::clone(&self.schema);
        let out_schema = Arc::clone(&schema);
        let stream = input.map(move |batch| evaluated(&slots, &bools, &out_schema, &batch?));
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}

/// A batch of a group's events as its merge reads it (see the module docs).
fn evaluated(
    slots: &SlotEvaluator,
    bools: &BoolLayout,
    schema: &SchemaRef,
    batch: &RecordBatch,
) -> Result<RecordBatch> {
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
    // Every column as its declared type (keys too, so that they hash and sort as the
    // spine's keys do; a scan may give a string as a view, a narrower integer...), and
    // keys canonical (every NaN one key, as the reference keys them).
    let declared = |c: ArrayRef, ty: &ArrowType| -> Result<ArrayRef> {
        if c.data_type() == ty {
            Ok(c)
        } else {
            Ok(cast(&c, ty)?)
        }
    };
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for k in &plan.keys {
        columns.push(typed_key(&column(&k.column)?, &arrow_type(k.ty))?);
    }
    let time = declared(column(&plan.time_column)?, &timestamp_type())?;
    if !sort_key::packs(plan) {
        columns.push(time);
    } else if time.null_count() > 0 {
        // What the merge says of a null time (the sources' reading refuses one first,
        // naming its row): the packed key has no place for it.
        return Err(DataFusionError::Execution(format!(
            "source `{}`: null event time",
            plan.source
        )));
    } else {
        // The group's one key, in its place.
        let key = columns.pop().ok_or_else(|| {
            DataFusionError::Internal(format!("source `{}`: no key to pack", plan.source))
        })?;
        columns.push(sort_key::pack(&key, &time)?);
    }
    let mut packed: Vec<ArrayRef> = Vec::with_capacity(bools.count());
    for (slot, (c, e)) in computed.inputs.into_iter().zip(&plan.inputs).enumerate() {
        let c = declared(c, &arrow_type(e.ty))?;
        match bools.inputs[slot] {
            Some(_) => packed.push(c),
            None => columns.push(c),
        }
    }
    for p in computed.predicates {
        packed.push(declared(p, &ArrowType::Boolean)?);
    }
    columns.extend(bool_pack::pack(&packed, batch.num_rows())?);
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}
