//! `PointInTime`, featc's logical extension node: every spine row with its columns
//! unchanged, followed by one column per requested feature evaluated at the row's time.
//!
//! The node carries the feature plan (`plan::Plan`). Inputs: child 0 is the spine;
//! child `1 + g` is group `g`'s events, one row per event of its source, with the
//! columns the group reads (`GroupPlan::columns_read`). The physical operators
//! (planned by `planner::PointInTimePlanner`) evaluate the plan's expressions on them
//! into the columns named by `key_column(i)` and `TIME_COLUMN` (for a group with one
//! integer key, `sort_key::SORT_KEY_COLUMN` in place of both), `input_column(i)` (the
//! inputs not boolean) and `bools_column(j)` (`input_exec`), and the spine's into its keys,
//! `SPINE_TIME` and `ROW_COLUMN` (`spine_exec`), which `merge_exec` reads.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::datatypes::Field;
use datafusion::common::{DFSchema, DFSchemaRef, Result};
use datafusion::logical_expr::{Expr, LogicalPlan, UserDefinedLogicalNodeCore};

use crate::plan::Plan;
use crate::row::types::arrow_type;

/// Name of a group input's event-time column.
pub const TIME_COLUMN: &str = "__ts";

/// Name of a spine row's number (its position in the spine, from 0) in the inputs and
/// outputs of a group's merge.
pub const ROW_COLUMN: &str = "__row";

/// Name of the time (µs, int64) a group reads its state at for a spine row: the row's
/// time, less the source's delay.
pub const SPINE_TIME: &str = "__t";

/// Name of a group input's `i`-th key column (in entity key order).
pub fn key_column(i: usize) -> String {
    format!("__key{i}")
}

/// Name of a group input's `i`-th aggregated input column.
pub fn input_column(i: usize) -> String {
    format!("__in{i}")
}

/// Name of a group input's `j`-th word of packed booleans (`bool_pack`).
pub fn bools_column(j: usize) -> String {
    format!("__bools{j}")
}

/// The point-in-time node (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct PointInTime {
    /// Input 0 followed by the group inputs, in group order.
    inputs: Vec<LogicalPlan>,
    /// The spine's time column.
    pub spine_time: String,
    /// The groups (one per group input, in order) and the output features.
    pub plan: Plan,
    schema: DFSchemaRef,
}

impl PointInTime {
    /// Builds the node; its schema is the spine's followed by one nullable column
    /// per output. Errors when the inputs do not match the groups or a name clashes.
    pub fn try_new(
        spine: LogicalPlan,
        spine_time: String,
        group_inputs: Vec<LogicalPlan>,
        plan: Plan,
    ) -> Result<PointInTime> {
        if group_inputs.len() != plan.groups.len() {
            return Err(datafusion::error::DataFusionError::Plan(format!(
                "PointInTime: {} group inputs for {} groups",
                group_inputs.len(),
                plan.groups.len()
            )));
        }
        plan.validate()
            .map_err(|e| datafusion::error::DataFusionError::Plan(e.to_string()))?;
        let mut inputs = vec![spine];
        inputs.extend(group_inputs);
        let schema = output_schema(&inputs[0], &plan)?;
        Ok(PointInTime {
            inputs,
            spine_time,
            plan,
            schema,
        })
    }

    pub fn spine(&self) -> &LogicalPlan {
        &self.inputs[0]
    }
}

/// The spine's columns, then one nullable column per output feature (a training
/// set's feature columns are nullable whatever the feature, so every output has one
/// schema).
fn output_schema(spine: &LogicalPlan, plan: &Plan) -> Result<DFSchemaRef> {
    let mut fields: Vec<_> = spine
        .schema()
        .iter()
        .map(|(q, f)| (q.cloned(), Arc::clone(f)))
        .collect();
    for (name, ty) in plan.output_columns() {
        fields.push((None, Arc::new(Field::new(name, arrow_type(ty), true))));
    }
    let schema = DFSchema::new_with_metadata(fields, Default::default())?;
    Ok(Arc::new(schema))
}

// The plan holds float literals, so equality is `PartialEq`'s; a checked project has
// no NaN literal (the grammar has none), which makes it an equivalence in practice.
impl Eq for PointInTime {}

impl Hash for PointInTime {
    /// Hashes a part of what `==` compares (equal nodes hash alike).
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inputs.hash(state);
        self.spine_time.hash(state);
        self.plan.outputs.hash(state);
        for g in &self.plan.groups {
            g.feature_names().for_each(|n| n.hash(state));
        }
    }
}

impl PartialOrd for PointInTime {
    /// Orders by spine time, outputs and inputs; nodes that differ only in their
    /// groups' contents are unordered.
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        let key = |n: &Self| (n.spine_time.clone(), n.plan.outputs.clone());
        match key(self).cmp(&key(other)) {
            Ordering::Equal => match self.inputs.partial_cmp(&other.inputs) {
                Some(Ordering::Equal) if self.plan != other.plan => None,
                o => o,
            },
            o => Some(o),
        }
    }
}

impl UserDefinedLogicalNodeCore for PointInTime {
    fn name(&self) -> &str {
        "PointInTime"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        self.inputs.iter().collect()
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    fn expressions(&self) -> Vec<Expr> {
        Vec::new()
    }

    /// One line (DataFusion indents plans by line): the groups by name; their plans
    /// are printed apart (`featc build --emit batch` prints them above the plan).
    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let groups: Vec<String> = self
            .plan
            .groups
            .iter()
            .enumerate()
            .map(|(g, group)| format!("g{g}={}", group.describe()))
            .collect();
        let names: Vec<&str> = self.plan.output_columns().map(|(n, _)| n).collect();
        write!(
            f,
            "PointInTime: time={}, groups=[{}], outputs=[{}]",
            self.spine_time,
            groups.join(", "),
            names.join(", ")
        )
    }

    fn with_exprs_and_inputs(&self, _exprs: Vec<Expr>, inputs: Vec<LogicalPlan>) -> Result<Self> {
        let mut inputs = inputs.into_iter();
        let Some(spine) = inputs.next() else {
            return Err(datafusion::error::DataFusionError::Plan(
                "PointInTime needs a spine input".to_string(),
            ));
        };
        PointInTime::try_new(
            spine,
            self.spine_time.clone(),
            inputs.collect(),
            self.plan.clone(),
        )
    }
}
