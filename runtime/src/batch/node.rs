//! `PointInTime`, featc's logical extension node: every spine row with its columns
//! unchanged, followed by one column per requested feature evaluated at the row's time.
//!
//! Inputs: child 0 is the spine; child `1 + g` is group `g`'s input, one row per
//! event of a (source, entity key) group, with columns named by `key_column(i)`,
//! `TIME_COLUMN`, `input_column(i)` and `filter_column(i)` (boolean: the combined view
//! and feature `where`, true = the event counts). The physical operator is
//! `exec::PointInTimeExec`, planned by `planner::PointInTimePlanner`.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::datatypes::Field;
use datafusion::common::{DFSchema, DFSchemaRef, Result};
use datafusion::logical_expr::{Expr, LogicalPlan, UserDefinedLogicalNodeCore};

use crate::expr::arrow_type;
use crate::ir::{AggKind, DataType};

/// Name of a group input's event-time column.
pub const TIME_COLUMN: &str = "__ts";

/// Name of a group input's `i`-th key column (in entity key order).
pub fn key_column(i: usize) -> String {
    format!("__key{i}")
}

/// Name of a group input's `i`-th aggregated input column.
pub fn input_column(i: usize) -> String {
    format!("__in{i}")
}

/// Name of a group input's `i`-th filter column.
pub fn filter_column(i: usize) -> String {
    format!("__filter{i}")
}

/// One aggregated input of a group: its column is `input_column(index)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd)]
pub struct PitInput {
    pub ty: DataType,
}

/// One feature computed by a group.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd)]
pub struct PitFeature {
    /// The output column's name (the feature's name).
    pub name: String,
    pub agg: AggKind,
    /// Index into the group's `inputs`; `None` exactly for `count(*)`.
    pub input: Option<usize>,
    /// Index into the group's filters; `None`: every event of the group counts.
    pub filter: Option<usize>,
    /// `None` is a lifetime feature.
    pub window_us: Option<i64>,
    /// The view's ttl and the filter (the view's `where`) an event must pass to keep
    /// the feature fresh.
    pub ttl: Option<(i64, Option<usize>)>,
    /// The result type.
    pub ty: DataType,
}

/// The events of one source keyed by one entity: one sort serves all its features.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd)]
pub struct PitGroup {
    /// The source's name (for display and errors).
    pub source: String,
    /// The spine columns holding the entity's keys, in key order.
    pub spine_keys: Vec<String>,
    /// Key types, in key order.
    pub key_types: Vec<DataType>,
    pub inputs: Vec<PitInput>,
    /// Number of filter columns (`filter_column(0..n)`).
    pub n_filters: usize,
    pub features: Vec<PitFeature>,
}

/// The point-in-time node (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointInTime {
    /// Input 0 followed by the group inputs, in group order.
    inputs: Vec<LogicalPlan>,
    /// The spine's time column.
    pub spine_time: String,
    pub groups: Vec<PitGroup>,
    /// The output feature columns, in order, as (group, feature within the group).
    pub outputs: Vec<(usize, usize)>,
    schema: DFSchemaRef,
}

impl PointInTime {
    /// Builds the node; its schema is the spine's followed by one nullable column
    /// per output. Errors when the inputs do not match the groups or a name clashes.
    pub fn try_new(
        spine: LogicalPlan,
        spine_time: String,
        group_inputs: Vec<LogicalPlan>,
        groups: Vec<PitGroup>,
        outputs: Vec<(usize, usize)>,
    ) -> Result<PointInTime> {
        if group_inputs.len() != groups.len() {
            return Err(datafusion::error::DataFusionError::Plan(format!(
                "PointInTime: {} group inputs for {} groups",
                group_inputs.len(),
                groups.len()
            )));
        }
        let mut inputs = vec![spine];
        inputs.extend(group_inputs);
        let schema = output_schema(&inputs[0], &groups, &outputs)?;
        Ok(PointInTime {
            inputs,
            spine_time,
            groups,
            outputs,
            schema,
        })
    }

    pub fn spine(&self) -> &LogicalPlan {
        &self.inputs[0]
    }

    /// The output feature, in output order.
    pub fn output_features(&self) -> impl Iterator<Item = &PitFeature> {
        self.outputs
            .iter()
            .map(|&(g, f)| &self.groups[g].features[f])
    }
}

fn output_schema(
    spine: &LogicalPlan,
    groups: &[PitGroup],
    outputs: &[(usize, usize)],
) -> Result<DFSchemaRef> {
    let mut fields: Vec<_> = spine
        .schema()
        .iter()
        .map(|(q, f)| (q.cloned(), Arc::clone(f)))
        .collect();
    for &(g, f) in outputs {
        let Some(feature) = groups.get(g).and_then(|g| g.features.get(f)) else {
            return Err(datafusion::error::DataFusionError::Plan(format!(
                "PointInTime: no feature {f} in group {g}"
            )));
        };
        fields.push((
            None,
            Arc::new(Field::new(&feature.name, arrow_type(feature.ty), true)),
        ));
    }
    let schema = DFSchema::new_with_metadata(fields, Default::default())?;
    Ok(Arc::new(schema))
}

impl Hash for PointInTime {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inputs.hash(state);
        self.spine_time.hash(state);
        self.groups.hash(state);
        self.outputs.hash(state);
    }
}

impl PartialOrd for PointInTime {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match (&self.spine_time, &self.groups, &self.outputs).partial_cmp(&(
            &other.spine_time,
            &other.groups,
            &other.outputs,
        )) {
            Some(Ordering::Equal) => self.inputs.partial_cmp(&other.inputs),
            o => o,
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

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "PointInTime: time={}", self.spine_time)?;
        let names: Vec<&str> = self.output_features().map(|f| f.name.as_str()).collect();
        write!(f, ", outputs=[{}]", names.join(", "))?;
        for (g, group) in self.groups.iter().enumerate() {
            write!(
                f,
                ", group{g}=({} by {}: ",
                group.source,
                group.spine_keys.join(", ")
            )?;
            let features: Vec<String> = group.features.iter().map(describe).collect();
            write!(f, "{})", features.join(", "))?;
        }
        Ok(())
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
            self.groups.clone(),
            self.outputs.clone(),
        )
    }
}

/// `name=agg(__in0) where __filter1 over 1h ttl 7d`.
fn describe(f: &PitFeature) -> String {
    let arg = match (f.agg, f.input) {
        (AggKind::CountStar, _) => "*".to_string(),
        (_, Some(i)) => input_column(i),
        (_, None) => String::new(),
    };
    let mut s = format!("{}={}({arg})", f.name, f.agg.name());
    if let Some(i) = f.filter {
        s.push_str(&format!(" where {}", filter_column(i)));
    }
    if let Some(w) = f.window_us {
        s.push_str(&format!(" over {}", duration(w)));
    }
    if let Some((ttl, filter)) = f.ttl {
        s.push_str(&format!(" ttl {}", duration(ttl)));
        if let Some(i) = filter {
            s.push_str(&format!(" where {}", filter_column(i)));
        }
    }
    s
}

/// A duration in the largest unit that divides it exactly (`7d`, `90m`, `1500ms`).
pub fn duration(us: i64) -> String {
    const UNITS: [(i64, &str); 6] = [
        (86_400_000_000, "d"),
        (3_600_000_000, "h"),
        (60_000_000, "m"),
        (1_000_000, "s"),
        (1_000, "ms"),
        (1, "us"),
    ];
    for (size, name) in UNITS {
        if us != 0 && us % size == 0 {
            return format!("{}{name}", us / size);
        }
    }
    format!("{us}us")
}
