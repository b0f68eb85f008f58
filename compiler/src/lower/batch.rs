//! Lowering to the batch plan: a DataFusion `LogicalPlan` computing point-in-time
//! training sets (see `featc_runtime::batch`).
//!
//! Shape: the spine scan and, per (source, entity key) group of the requested
//! features, one scan of the source under ONE projection computing the key columns,
//! the event time, each distinct aggregated expression once and each distinct filter
//! (view `where` AND feature `where`) once; all of them feed a `PointInTime` node
//! whose output is the spine's columns followed by the features in request order.
//! No IO here: the caller supplies the table sources.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::common::Column;
use datafusion::logical_expr::builder::LogicalTableSource;
use datafusion::logical_expr::{
    and, Expr as DfExpr, Extension, LogicalPlan, LogicalPlanBuilder, TableSource,
};
use featc_runtime::batch::node::{filter_column, input_column, key_column, TIME_COLUMN};
use featc_runtime::batch::{PitFeature, PitGroup, PitInput, PointInTime};
use featc_runtime::expr::{arrow_type, timestamp_type, to_datafusion, ExprError};
use featc_runtime::io::declared_schema;
use featc_runtime::ir::{self, EntityId, FeatureId, Project, SourceId};

/// Why a project could not be lowered to a batch plan.
#[derive(Debug, Clone, PartialEq)]
pub enum LowerError {
    /// A requested feature id is not in the project.
    UnknownFeature(FeatureId),
    /// The same feature was requested twice (output columns must be unique).
    DuplicateFeature(String),
    /// An expression of a view or feature could not be lowered.
    Expr { view: String, error: ExprError },
    /// The spine lacks a column the features need.
    MissingSpineColumn { column: String },
    /// A feature is named like a spine column.
    NameClash { name: String },
    /// DataFusion rejected the plan (an internal error).
    Plan(String),
}

impl fmt::Display for LowerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LowerError::UnknownFeature(id) => {
                write!(f, "no feature {} in view {}", id.feature, id.view)
            }
            LowerError::DuplicateFeature(name) => write!(f, "feature `{name}` is requested twice"),
            LowerError::Expr { view, error } => write!(f, "view `{view}`: {error}"),
            LowerError::MissingSpineColumn { column } => {
                write!(f, "the spine has no column `{column}`")
            }
            LowerError::NameClash { name } => write!(
                f,
                "feature `{name}` has the name of a spine column; rename one of them"
            ),
            LowerError::Plan(m) => write!(f, "internal error while planning: {m}"),
        }
    }
}

impl std::error::Error for LowerError {}

fn plan_err(e: datafusion::error::DataFusionError) -> LowerError {
    LowerError::Plan(e.strip_backtrace())
}

/// A group under construction: its key, its projection and its features.
struct Builder {
    source: SourceId,
    entity: EntityId,
    key_columns: Vec<String>,
    inputs: Vec<(DfExpr, ir::DataType)>,
    filters: Vec<DfExpr>,
    features: Vec<PitFeature>,
}

impl Builder {
    fn input(&mut self, e: DfExpr, ty: ir::DataType) -> usize {
        match self.inputs.iter().position(|(x, _)| x == &e) {
            Some(i) => i,
            None => {
                self.inputs.push((e, ty));
                self.inputs.len() - 1
            }
        }
    }

    fn filter(&mut self, e: DfExpr) -> usize {
        match self.filters.iter().position(|x| x == &e) {
            Some(i) => i,
            None => {
                self.filters.push(e);
                self.filters.len() - 1
            }
        }
    }
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
    let spine_schema = spine.schema();
    let spine_has = |c: &str| spine_schema.field_with_name(c).is_ok();
    if !spine_has(spine_time_column) {
        return Err(LowerError::MissingSpineColumn {
            column: spine_time_column.to_string(),
        });
    }
    let mut groups: Vec<Builder> = Vec::new();
    let mut outputs = Vec::with_capacity(features.len());
    let mut names: Vec<&str> = Vec::new();
    for &id in features {
        let view = project
            .views
            .get(id.view)
            .ok_or(LowerError::UnknownFeature(id))?;
        let feature = view
            .features
            .get(id.feature)
            .ok_or(LowerError::UnknownFeature(id))?;
        if names.contains(&feature.name.as_str()) {
            return Err(LowerError::DuplicateFeature(feature.name.clone()));
        }
        if spine_has(&feature.name) {
            return Err(LowerError::NameClash {
                name: feature.name.clone(),
            });
        }
        names.push(&feature.name);
        let entity = project
            .entities
            .get(view.entity.0)
            .ok_or_else(|| LowerError::Plan(format!("view `{}` has no entity", view.name)))?;
        for key in &entity.keys {
            if !spine_has(&key.name) {
                return Err(LowerError::MissingSpineColumn {
                    column: key.name.clone(),
                });
            }
        }
        let g = match groups.iter().position(|g| {
            g.source == view.source && g.entity == view.entity && g.key_columns == view.key_columns
        }) {
            Some(g) => g,
            None => {
                groups.push(Builder {
                    source: view.source.clone(),
                    entity: view.entity.clone(),
                    key_columns: view.key_columns.clone(),
                    inputs: Vec::new(),
                    filters: Vec::new(),
                    features: Vec::new(),
                });
                groups.len() - 1
            }
        };
        let lower = |e: &ir::Expr| {
            to_datafusion(e, &view.lets).map_err(|error| LowerError::Expr {
                view: view.name.clone(),
                error,
            })
        };
        let view_filter = view.filter.as_ref().map(lower).transpose()?;
        let feature_filter = feature.filter.as_ref().map(lower).transpose()?;
        let combined = match (view_filter.clone(), feature_filter) {
            (Some(a), Some(b)) => Some(and(a, b)),
            (a, b) => a.or(b),
        };
        let group = &mut groups[g];
        let input = match &feature.arg {
            Some(arg) => Some(group.input(lower(arg)?, arg.ty)),
            None => None,
        };
        let filter = combined.map(|f| group.filter(f));
        let ttl = view
            .ttl_us
            .map(|ttl| (ttl, view_filter.map(|f| group.filter(f))));
        group.features.push(PitFeature {
            name: feature.name.clone(),
            agg: feature.agg,
            input,
            filter,
            window_us: feature.window_us,
            ttl,
            ty: feature.ty,
        });
        outputs.push((g, group.features.len() - 1));
    }

    let spine_plan = LogicalPlanBuilder::scan("spine", spine, None)
        .and_then(|b| b.build())
        .map_err(plan_err)?;
    let mut group_plans = Vec::with_capacity(groups.len());
    let mut pit_groups = Vec::with_capacity(groups.len());
    for g in groups {
        let source = project
            .sources
            .get(g.source.0)
            .ok_or_else(|| LowerError::Plan("a view's source is missing".to_string()))?;
        let entity = &project.entities[g.entity.0];
        let mut select: Vec<DfExpr> = Vec::new();
        for (i, k) in g.key_columns.iter().enumerate() {
            select.push(column(k).alias(key_column(i)));
        }
        select.push(column(&source.time_column).alias(TIME_COLUMN));
        for (i, (e, _)) in g.inputs.iter().enumerate() {
            select.push(e.clone().alias(input_column(i)));
        }
        for (i, e) in g.filters.iter().enumerate() {
            select.push(e.clone().alias(filter_column(i)));
        }
        let plan = LogicalPlanBuilder::scan(source.name.clone(), tables(source), None)
            .and_then(|b| b.project(select))
            .and_then(|b| b.build())
            .map_err(plan_err)?;
        group_plans.push(plan);
        pit_groups.push(PitGroup {
            source: source.name.clone(),
            spine_keys: entity.keys.iter().map(|k| k.name.clone()).collect(),
            key_types: entity.keys.iter().map(|k| k.ty).collect(),
            inputs: g
                .inputs
                .iter()
                .map(|(_, ty)| PitInput { ty: *ty })
                .collect(),
            n_filters: g.filters.len(),
            features: g.features,
        });
    }
    let node = PointInTime::try_new(
        spine_plan,
        spine_time_column.to_string(),
        group_plans,
        pit_groups,
        outputs,
    )
    .map_err(plan_err)?;
    Ok(LogicalPlan::Extension(Extension {
        node: Arc::new(node),
    }))
}

fn column(name: &str) -> DfExpr {
    DfExpr::Column(Column::new_unqualified(name))
}

/// The batch plan of every feature of `project`, as `featc build --emit batch` prints
/// it: sources are scanned with their declared schemas, and the spine has every
/// entity key column (in entity then key order) and `ts`.
pub fn explain_batch(project: &Project) -> Result<String, LowerError> {
    let mut spine_fields: Vec<Field> = Vec::new();
    for entity in &project.entities {
        for key in &entity.keys {
            if !spine_fields.iter().any(|f| f.name() == &key.name) {
                spine_fields.push(Field::new(&key.name, arrow_type(key.ty), false));
            }
        }
    }
    if !spine_fields.iter().any(|f| f.name() == "ts") {
        spine_fields.push(Field::new("ts", timestamp_type(), false));
    }
    let spine = Arc::new(LogicalTableSource::new(Arc::new(Schema::new(spine_fields))));
    let tables = |s: &ir::Source| -> Arc<dyn TableSource> {
        Arc::new(LogicalTableSource::new(declared_schema(s)))
    };
    let plan = lower_batch(project, &project.all_features(), &tables, spine, "ts")?;
    Ok(format!("{}\n", plan.display_indent()))
}
