//! Lowering to the batch plan: a DataFusion `LogicalPlan` computing point-in-time
//! training sets (see `featc_runtime::batch`).
//!
//! Shape: the spine scan and, per group of the feature plan (`groups::plan_groups`),
//! one scan of the source projected to the columns the group reads; all of them feed
//! a `PointInTime` node that carries the plan (and evaluates its expressions) and
//! whose output is the spine's columns followed by the features in request order. No
//! IO here: the caller supplies the table sources.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use datafusion::common::{Column, ScalarValue};
use datafusion::logical_expr::{cast, lit};
use datafusion::logical_expr::{
    Expr as DfExpr, Extension, LogicalPlan, LogicalPlanBuilder, TableSource,
};
use featc_runtime::batch::PointInTime;
use featc_runtime::ir::SOURCE_NAME_COLUMN;
use featc_runtime::ir::{self, FeatureId, Project};
use featc_runtime::plan::{GroupPlan, LookupPlan, Output, Plan, UNION_TIME_COLUMN};
use featc_runtime::row::types::arrow_type;

use super::groups::{plan_groups, GroupingError};

/// Why a project could not be lowered to a batch plan.
#[derive(Debug, Clone, PartialEq)]
pub enum LowerError {
    /// The features could not be planned (an internal error).
    Grouping(GroupingError),
    /// The same feature was requested twice (output columns must be unique).
    DuplicateFeature(String),
    /// The spine lacks a column the features need.
    MissingSpineColumn { column: String },
    /// A feature is named like a spine column.
    NameClash { name: String },
    /// The spine lacks the column of a request field a derived feature reads.
    MissingRequestField { field: String, request: String },
    /// The spine's column for a request field has a type the field cannot hold.
    RequestFieldType {
        field: String,
        request: String,
        expected: &'static str,
        found: String,
    },
    /// DataFusion rejected the plan (an internal error).
    DataFusion(String),
}

impl fmt::Display for LowerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LowerError::Grouping(e) => write!(f, "{e}"),
            LowerError::DuplicateFeature(name) => write!(f, "feature `{name}` is requested twice"),
            LowerError::MissingSpineColumn { column } => {
                write!(f, "the spine has no column `{column}`")
            }
            LowerError::NameClash { name } => write!(
                f,
                "feature `{name}` has the name of a spine column; rename one of them (the \
                 spine's time column with --spine-time)"
            ),
            LowerError::MissingRequestField { field, request } => write!(
                f,
                "the spine has no column `{field}`: request `{request}`'s field `{field}` is \
                 read from the spine column of its name"
            ),
            LowerError::RequestFieldType {
                field,
                request,
                expected,
                found,
            } => write!(
                f,
                "the spine's column `{field}` is {found}; request `{request}` declares `{field}` \
                 {expected}"
            ),
            LowerError::DataFusion(m) => write!(f, "internal error while planning: {m}"),
        }
    }
}

impl std::error::Error for LowerError {}

fn plan_err(e: datafusion::error::DataFusionError) -> LowerError {
    LowerError::DataFusion(e.strip_backtrace())
}

/// Lowers the `features` (in output order) of `project` to a plan over `spine`
/// (whose time column is `spine_time_column` and whose key columns are named like the
/// entities' keys). `tables` gives the table of each source; its schema must be
/// `featc_runtime::io::declared_schema(source)` (names and types).
pub fn lower_batch(
    project: &Project,
    features: &[FeatureId],
    tables: &dyn Fn(&ir::Source) -> Arc<dyn TableSource>,
    spine: Arc<dyn TableSource>,
    spine_time_column: &str,
) -> Result<LogicalPlan, LowerError> {
    let plan = plan_groups(project, features).map_err(LowerError::Grouping)?;
    lower_plan(project, plan, tables, spine, spine_time_column)
}

/// `lower_batch` for an already built feature plan.
pub fn lower_plan(
    project: &Project,
    plan: Plan,
    tables: &dyn Fn(&ir::Source) -> Arc<dyn TableSource>,
    spine: Arc<dyn TableSource>,
    spine_time_column: &str,
) -> Result<LogicalPlan, LowerError> {
    let spine_schema = spine.schema();
    let spine_has = |c: &str| spine_schema.field_with_name(c).is_ok();
    if !spine_has(spine_time_column) {
        return Err(LowerError::MissingSpineColumn {
            column: spine_time_column.to_string(),
        });
    }
    let mut names: HashSet<&str> = HashSet::new();
    for (name, _) in plan.output_columns() {
        if !names.insert(name) {
            return Err(LowerError::DuplicateFeature(name.to_string()));
        }
        if spine_has(name) {
            return Err(LowerError::NameClash {
                name: name.to_string(),
            });
        }
    }
    // Request fields come from spine columns of their names, of a type the field
    // can hold (as a source column's would be).
    for field in plan.request_fields() {
        let found = spine_schema.field_with_name(&field.field).ok();
        match found {
            None => {
                return Err(LowerError::MissingRequestField {
                    field: field.field.clone(),
                    request: field.request.clone(),
                })
            }
            Some(f) if !featc_runtime::row::types::compatible(field.ty, f.data_type()) => {
                return Err(LowerError::RequestFieldType {
                    field: field.field.clone(),
                    request: field.request.clone(),
                    expected: field.ty.kind_name(),
                    found: f.data_type().to_string(),
                })
            }
            Some(_) => {}
        }
    }
    for key in plan.groups.iter().flat_map(|g| &g.keys) {
        if !spine_has(&key.name) {
            return Err(LowerError::MissingSpineColumn {
                column: key.name.clone(),
            });
        }
    }

    let spine_plan = LogicalPlanBuilder::scan("spine", spine, None)
        .and_then(|b| b.build())
        .map_err(plan_err)?;
    let sources: HashMap<&str, &ir::Source> = project
        .sources
        .iter()
        .map(|s| (s.name.as_str(), s))
        .collect();
    let group_plans = plan
        .groups
        .iter()
        .map(|g| group_input(&sources, g, tables))
        .collect::<Result<Vec<_>, _>>()?;
    let node = PointInTime::try_new(spine_plan, spine_time_column.to_string(), group_plans, plan)
        .map_err(plan_err)?;
    Ok(LogicalPlan::Extension(Extension {
        node: Arc::new(node),
    }))
}

/// The scan of a group's source under one projection of the columns the group reads
/// (`GroupPlan::columns_read`); the `PointInTime` operator evaluates the plan's
/// expressions on them, as the streaming runtime does.
fn group_input(
    sources: &HashMap<&str, &ir::Source>,
    group: &GroupPlan,
    tables: &dyn Fn(&ir::Source) -> Arc<dyn TableSource>,
) -> Result<LogicalPlan, LowerError> {
    let mut input = scan(sources, group, tables)?;
    for lookup in &group.lookups {
        input = with_lookup(input, sources, group, lookup, tables)?;
    }
    Ok(input)
}

/// `input` (a group's rows) with lookup `lookup`'s column: a point-in-time plan of
/// the looked-up feature whose spine is the rows themselves (each at its time, keyed
/// by its key columns), so a lookup is exactly a training set of that feature at the
/// events (semantics.md, "As-of lookups"). The rows' columns go through the spine
/// under names of their own (`featc_row_I`), so none can meet the entity's key names.
fn with_lookup(
    input: LogicalPlan,
    sources: &HashMap<&str, &ir::Source>,
    group: &GroupPlan,
    lookup: &LookupPlan,
    tables: &dyn Fn(&ir::Source) -> Arc<dyn TableSource>,
) -> Result<LogicalPlan, LowerError> {
    let names: Vec<String> = (input.schema().fields().iter())
        .map(|f| f.name().clone())
        .collect();
    let row_column = |i: usize| format!("featc_row_{i}");
    let (feature, _) = lookup.plan.output_columns().next().ok_or_else(|| {
        LowerError::DataFusion(format!("lookup `{}` has no feature", lookup.column))
    })?;
    let feature = feature.to_string();
    let entity_keys = match lookup.plan.outputs.first() {
        Some(Output::Aggregate(r)) => lookup.plan.groups.get(r.group).map(|g| &g.keys),
        _ => None,
    }
    .ok_or_else(|| LowerError::DataFusion(format!("lookup `{}` has no group", lookup.column)))?;
    let mut select: Vec<DfExpr> = (names.iter().enumerate())
        .map(|(i, n)| column(n).alias(row_column(i)))
        .collect();
    for (key, own) in entity_keys.iter().zip(&lookup.keys) {
        select.push(column(own).alias(&key.name));
    }
    let time = names
        .iter()
        .position(|n| *n == group.time_column)
        .map(row_column)
        .ok_or_else(|| LowerError::DataFusion(format!("no time column `{}`", group.time_column)))?;
    let spine = LogicalPlanBuilder::from(input)
        .project(select)
        .and_then(|b| b.build())
        .map_err(plan_err)?;
    let inputs = (lookup.plan.groups.iter())
        .map(|g| group_input(sources, g, tables))
        .collect::<Result<Vec<_>, _>>()?;
    let node = PointInTime::try_new(spine, time, inputs, lookup.plan.clone()).map_err(plan_err)?;
    let mut back: Vec<DfExpr> = (names.iter().enumerate())
        .map(|(i, n)| column(&row_column(i)).alias(n))
        .collect();
    back.push(column(&feature).alias(&lookup.column));
    LogicalPlanBuilder::from(LogicalPlan::Extension(Extension {
        node: Arc::new(node),
    }))
    .project(back)
    .and_then(|b| b.build())
    .map_err(plan_err)
}

/// The scan of a group's source (or the union of its sources) under the columns the
/// group reads, but for its lookups'.
fn scan(
    sources: &HashMap<&str, &ir::Source>,
    group: &GroupPlan,
    tables: &dyn Fn(&ir::Source) -> Arc<dyn TableSource>,
) -> Result<LogicalPlan, LowerError> {
    let source_of = |name: &str| {
        sources
            .get(name)
            .copied()
            .ok_or_else(|| LowerError::DataFusion(format!("no source `{name}`")))
    };
    let read = group.scanned_columns();
    if group.union.is_empty() {
        let source = source_of(&group.source)?;
        let select: Vec<DfExpr> = read.iter().map(|c| column(c)).collect();
        return LogicalPlanBuilder::scan(source.name.clone(), tables(source), None)
            .and_then(|b| b.project(select))
            .and_then(|b| b.build())
            .map_err(plan_err);
    }
    // Over several sources: each member's scan under the union's columns (its own
    // time as the union's, its name as `source()`, nulls for what it lacks), then
    // all of them, one after the other.
    let mut union: Option<LogicalPlanBuilder> = None;
    for m in &group.union {
        let source = source_of(&m.source)?;
        let mut select = Vec::with_capacity(read.len());
        for c in &read {
            let expr = if c == UNION_TIME_COLUMN {
                column(&m.time_column)
            } else if c == SOURCE_NAME_COLUMN {
                lit(m.source.clone())
            } else if m.columns.contains(c) {
                column(c)
            } else {
                let ty = group
                    .union
                    .iter()
                    .find_map(|o| source_of(&o.source).ok()?.column_type(c))
                    .ok_or_else(|| LowerError::DataFusion(format!("no source has `{c}`")))?;
                cast(lit(ScalarValue::Null), arrow_type(ty))
            };
            select.push(expr.alias(c));
        }
        let scan = LogicalPlanBuilder::scan(source.name.clone(), tables(source), None)
            .and_then(|b| b.project(select))
            .and_then(|b| b.build())
            .map_err(plan_err)?;
        union = Some(match union {
            None => LogicalPlanBuilder::from(scan),
            Some(b) => b.union(scan).map_err(plan_err)?,
        });
    }
    union
        .ok_or_else(|| LowerError::DataFusion("a union of no source".to_string()))?
        .build()
        .map_err(plan_err)
}

fn column(name: &str) -> DfExpr {
    DfExpr::Column(Column::new_unqualified(name))
}
