//! `SlotEvaluator`: a group plan's inputs and predicates compiled once for the schema
//! of its events and evaluated on batches of them. Both executors evaluate the plan
//! through it (the batch operator on each batch of a group's scan, the stream on each
//! ingested batch), so an event's slot values, and the error evaluating them, are the
//! same whichever path it arrives by. An error names the source, the expression (the
//! feature or view it belongs to), and the first failing event by its time and key.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray};
use datafusion::arrow::datatypes::Schema;
use datafusion::arrow::datatypes::TimestampMicrosecondType;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::physical_expr::PhysicalExpr;

use super::{compile, evaluate_compiled, stack, ExprError};
use crate::ir::SOURCE_NAME_COLUMN;
use crate::plan::GroupPlan;

/// A batch's slot values: one array per input and per predicate (boolean, null is
/// false; see `mask`), row-aligned with the batch.
pub struct Slots {
    pub inputs: Vec<ArrayRef>,
    pub predicates: Vec<ArrayRef>,
}

/// An expression of a group plan that failed on an event.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotError {
    pub source: String,
    /// What the expression computes (`the argument of feature `f` (view `v`)`).
    pub what: String,
    /// The first event it fails on, `TIME (KEY = VALUE, ...)` (time in ISO 8601), when
    /// the time and key columns are in the batch.
    pub event: Option<String>,
    /// That event's time (µs), not shown: what a path comparing failures reads.
    pub at: Option<i64>,
    pub error: ExprError,
}

impl fmt::Display for SlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "source `{}`", self.source)?;
        if let Some(event) = &self.event {
            write!(f, ", event at {event}")?;
        }
        write!(f, ": {}: {}", self.what, self.error)
    }
}

impl std::error::Error for SlotError {}

impl SlotError {
    /// Whether a run that fails with both names `self` rather than `other`: the
    /// earlier event by time, then by source name, then by the event as written (its
    /// key), whatever order a path met them in (semantics.md, "Errors while
    /// computing"). An event without a time comes last.
    pub fn precedes(&self, other: &SlotError) -> bool {
        let place = |e: &SlotError| (e.at.unwrap_or(i64::MAX), e.source.clone(), e.event.clone());
        place(self) < place(other)
    }

    /// `first` becomes whichever of it and `error` the run names.
    pub fn keep_first(first: &mut Option<SlotError>, error: SlotError) {
        if first.as_ref().is_none_or(|f| error.precedes(f)) {
            *first = Some(error);
        }
    }
}

/// See the module docs.
pub struct SlotEvaluator {
    plan: Arc<GroupPlan>,
    inputs: Vec<Arc<dyn PhysicalExpr>>,
    predicates: Vec<Arc<dyn PhysicalExpr>>,
    /// The deepest expression's depth: how much stack evaluating needs.
    depth: usize,
}

impl SlotEvaluator {
    /// Compiles `plan`'s expressions for batches of `schema` (which has every column
    /// of `GroupPlan::columns_read`, with featc's Arrow types).
    pub fn new(plan: Arc<GroupPlan>, schema: &Schema) -> Result<SlotEvaluator, SlotError> {
        let compile_all = |exprs: &[crate::ir::Expr], what: &dyn Fn(usize) -> String| {
            exprs
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    compile(e, schema).map_err(|error| SlotError {
                        source: plan.source.clone(),
                        what: what(i),
                        event: None,
                        at: None,
                        error,
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let inputs = compile_all(&plan.inputs, &|i| plan.describe_input(i))?;
        let predicates = compile_all(&plan.predicates, &|p| plan.describe_predicate(p))?;
        let depth = plan
            .inputs
            .iter()
            .chain(&plan.predicates)
            .map(stack::depth)
            .max();
        Ok(SlotEvaluator {
            plan,
            inputs,
            predicates,
            depth: depth.unwrap_or(0),
        })
    }

    pub fn plan(&self) -> &Arc<GroupPlan> {
        &self.plan
    }

    /// Every slot on every row of `batch`. Nothing is partial: on an error the whole
    /// batch fails, naming its first failing event (`SlotError::precedes`) of every
    /// expression's.
    pub fn evaluate(&self, batch: &RecordBatch) -> Result<Slots, SlotError> {
        stack::with_stack_for(self.depth, || self.evaluate_all(batch))
    }

    fn evaluate_all(&self, batch: &RecordBatch) -> Result<Slots, SlotError> {
        let mut failed: Option<SlotError> = None;
        let mut evaluate = |e: &Arc<dyn PhysicalExpr>, what: &dyn Fn() -> String| match self
            .evaluate_one(e, batch, what)
        {
            Ok(array) => Some(array),
            Err(error) => {
                SlotError::keep_first(&mut failed, error);
                None
            }
        };
        // Every expression is evaluated even after one fails (only on the error
        // path: another may fail on an earlier event).
        let inputs: Vec<Option<ArrayRef>> = (self.inputs.iter().enumerate())
            .map(|(i, e)| evaluate(e, &|| self.plan.describe_input(i)))
            .collect();
        let predicates: Vec<Option<ArrayRef>> = (self.predicates.iter().enumerate())
            .map(|(p, e)| evaluate(e, &|| self.plan.describe_predicate(p)))
            .collect();
        if let Some(error) = failed {
            return Err(error);
        }
        Ok(Slots {
            inputs: inputs.into_iter().flatten().collect(),
            predicates: predicates.into_iter().flatten().collect(),
        })
    }

    fn evaluate_one(
        &self,
        e: &Arc<dyn PhysicalExpr>,
        batch: &RecordBatch,
        what: &dyn Fn() -> String,
    ) -> Result<ArrayRef, SlotError> {
        evaluate_compiled(e, batch).map_err(|error| {
            let whole = SlotError {
                source: self.plan.source.clone(),
                what: what(),
                event: None,
                at: None,
                error,
            };
            // The earliest event it fails on alone (one evaluation per row, only on
            // the error path), with that event's own error.
            let mut first: Option<SlotError> = None;
            for r in 0..batch.num_rows() {
                if let Err(error) = evaluate_compiled(e, &batch.slice(r, 1)) {
                    let at_row = SlotError {
                        source: self.source(batch, r),
                        event: self.event(batch, r),
                        at: self.time(batch, r),
                        error,
                        ..whole.clone()
                    };
                    SlotError::keep_first(&mut first, at_row);
                }
            }
            first.unwrap_or(whole)
        })
    }

    /// Row `row`'s source: over several sources, its `source()` cell (a union's
    /// rows always carry it, see `GroupPlan::columns_read`).
    fn source(&self, batch: &RecordBatch, row: usize) -> String {
        batch
            .column_by_name(SOURCE_NAME_COLUMN)
            .filter(|_| !self.plan.union.is_empty())
            .and_then(|c| array_value_to_string(c, row).ok())
            .unwrap_or_else(|| self.plan.source.clone())
    }

    /// Row `row`'s time in µs.
    fn time(&self, batch: &RecordBatch, row: usize) -> Option<i64> {
        let column = batch.column_by_name(&self.plan.time_column)?;
        let micros = crate::row::time::to_micros(column).ok()?;
        micros
            .as_primitive_opt::<TimestampMicrosecondType>()?
            .values()
            .get(row)
            .copied()
    }

    /// The time and key of row `row`, as a message shows them.
    fn event(&self, batch: &RecordBatch, row: usize) -> Option<String> {
        let cell = |name: &str| {
            let column = batch.column_by_name(name)?;
            array_value_to_string(column, row).ok()
        };
        let time = cell(&self.plan.time_column)?;
        let key: Vec<String> = self
            .plan
            .keys
            .iter()
            .map(|k| format!("{} = {}", k.name, cell(&k.column).unwrap_or_default()))
            .collect();
        Some(format!("{time} ({})", key.join(", ")))
    }
}
