//! The emitted SQL as a path: a dialect's query (`featc build --emit sql`) run by an
//! engine on the dataset's tables: the `datafusion` dialect on DataFusion's own SQL
//! engine in process (`DataFusionEngine`), or any dialect on an engine a caller
//! plugs in (`SqlEngine`; the CLI's `--sql-engine` runs a command), each source
//! given flat (`flat`: struct and map columns as their path columns). Features the
//! dialect refuses are left out (and said); float folds are held to
//! docs/scale-out.md's bound, other floats to 1e-9 relative, and derived features
//! reading a float fold are left out (they inherit its difference).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Int64Array};
use datafusion::arrow::compute::{cast, concat_batches, sort_to_indices, take_record_batch};
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Float64Type, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::MemTable;
use datafusion::prelude::SessionContext;
use featc_runtime::reference::{evaluate, SpineInput};

use super::{Answered, Executor, Pending, RunInput, Skipped};
use crate::emit::sql::{emit, Dialect, Refusal, Script, SqlOptions};
use crate::ir::{FeatureId, Project};
use crate::verify::compare::{FoldWindows, Tolerance};
use crate::verify::failure::RunError;
use crate::verify::float_bound::{is_float_fold, with_bounds};

/// The spine's table and its order column in the query (names no project uses).
const SPINE_TABLE: &str = "featc_verify_spine";
const ORDER: &str = "featc_verify_row";
/// Floats that are not folds: the engine's libm may differ in the last bits.
const RELATIVE: f64 = 1e-9;

/// A table an engine reads: its name in the script, its schema and its rows.
pub struct SqlTable {
    pub name: String,
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

/// The rows an engine answers, or the message it failed with.
pub type SqlAnswer<'a> = Pin<Box<dyn Future<Output = Result<RecordBatch, String>> + 'a>>;

/// An engine that runs an emitted script.
///
/// Invariant: `run` executes the script's statements in order, on `tables` under
/// their names, and answers the last statement's rows with its columns named as the
/// script names them. Unless `featc_types`, the column types may be the engine's own (integer widths,
/// string kinds, time zones, decimals): the executor casts them to featc's. The
/// spine's order column may be kept and the rows may come in any order: the
/// executor orders the rows by it and drops it.
pub trait SqlEngine: Sync {
    /// The path's name in a report (`sql` for DataFusion in process).
    fn name(&self) -> &str;
    /// The dialect whose script it runs.
    fn dialect(&self) -> Dialect;
    /// Whether its columns come in featc's own types (then they are compared as
    /// they come, and another type is a failure, not a cast).
    fn featc_types(&self) -> bool {
        false
    }
    fn run<'a>(&'a self, script: &'a Script, tables: Vec<SqlTable>) -> SqlAnswer<'a>;
}

/// DataFusion's SQL engine, in process, on the `datafusion` dialect's script.
pub struct DataFusionEngine;

impl SqlEngine for DataFusionEngine {
    fn name(&self) -> &str {
        "sql"
    }

    fn dialect(&self) -> Dialect {
        Dialect::DataFusion
    }

    fn featc_types(&self) -> bool {
        true
    }

    fn run<'a>(&'a self, script: &'a Script, tables: Vec<SqlTable>) -> SqlAnswer<'a> {
        Box::pin(async move {
            let ctx = SessionContext::new();
            for t in tables {
                let table =
                    MemTable::try_new(t.schema, vec![t.batches]).map_err(|e| e.to_string())?;
                ctx.register_table(t.name.as_str(), Arc::new(table))
                    .map_err(|e| e.to_string())?;
            }
            run_script(&ctx, script, ORDER).await
        })
    }
}

/// The emitted SQL on an engine (`SqlExecutor::default()`: DataFusion in process).
pub struct SqlExecutor<E: SqlEngine = DataFusionEngine>(pub E);

impl Default for SqlExecutor {
    fn default() -> SqlExecutor {
        SqlExecutor(DataFusionEngine)
    }
}

impl<E: SqlEngine> Executor for SqlExecutor<E> {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn run<'a>(&'a self, input: RunInput<'a>) -> Pending<'a> {
        Box::pin(async move { answer(&self.0, input).await })
    }
}

async fn answer(engine: &dyn SqlEngine, input: RunInput<'_>) -> Result<Answered, RunError> {
    let project = input.project;
    // Derived features over a float fold inherit its difference: not compared.
    let (candidates, over_folds): (Vec<FeatureId>, Vec<FeatureId>) = input
        .features
        .iter()
        .partition(|id| !reads_fold(project, **id));
    let mut options = SqlOptions::new(engine.dialect());
    options.spine_table = SPINE_TABLE.into();
    options.spine_order = ORDER.into();
    options.spine_time = input.dataset.spine_time.clone();
    // Emitted once when the dialect accepts every candidate, again without the
    // features it refuses otherwise.
    let mut skipped = Vec::new();
    let (kept, script) = match emitted(project, &candidates, &options)? {
        Some(Ok(script)) => (candidates, Some(script)),
        None => (candidates, None),
        Some(Err(refusals)) => {
            let refused: Vec<&str> = refusals.iter().map(|r| r.feature.as_str()).collect();
            let kept: Vec<FeatureId> = candidates
                .iter()
                .copied()
                .filter(|id| !refused.contains(&project.feature(*id).name.as_str()))
                .collect();
            skipped.extend(refusals.iter().map(|r| Skipped {
                feature: r.feature.clone(),
                reason: format!("refused ({}: {})", r.code(), r.to_diagnostic().message),
            }));
            let script = match emitted(project, &kept, &options)? {
                Some(Err(r)) => {
                    return Err(RunError::Other(format!(
                        "the dialect refused what it had accepted: {} features",
                        r.len()
                    )))
                }
                other => other.and_then(Result::ok),
            };
            (kept, script)
        }
    };
    skipped.extend(over_folds.iter().map(|id| Skipped {
        feature: project.feature(*id).name.clone(),
        reason: "reads a float sum the engine folds in its own order (docs/scale-out.md)".into(),
    }));
    let table = match script {
        None => input.dataset.spine.clone(),
        Some(script) => {
            let tables = tables(project, input.dataset, &input.dataset.spine)?;
            let rows = match engine.run(&script, tables).await {
                Ok(rows) => rows,
                Err(e) if super::overflow::is_overflow(&e) => {
                    return Err(super::overflow::locate(engine, input, &kept, &options, e).await)
                }
                Err(e) => return Err(RunError::Other(e)),
            };
            if engine.featc_types() {
                rows
            } else {
                conform(project, &kept, &input.dataset.spine, rows)?
            }
        }
    };
    let windows = fold_windows(input, &kept)?;
    Ok(Answered {
        table,
        tolerance: Tolerance::Folds {
            relative: RELATIVE,
            windows,
        },
        skipped,
    })
}

/// The dialect's script for `features` or its refusals; None for no features.
pub(super) fn emitted(
    project: &Project,
    features: &[FeatureId],
    options: &SqlOptions,
) -> Result<Option<Result<Script, Vec<Refusal>>>, String> {
    if features.is_empty() {
        return Ok(None);
    }
    let plan = crate::lower::groups::plan_groups(project, features).map_err(|e| e.to_string())?;
    Ok(Some(emit(&plan, options)))
}

/// Whether a derived feature reads a float fold.
fn reads_fold(project: &Project, id: FeatureId) -> bool {
    project.feature(id).derived().is_some()
        && project
            .aggregations_of(&[id])
            .iter()
            .any(|r| is_float_fold(project, *r))
}

/// Each kept float fold's window: its count, `Σ|x|` and `Σx²` per spine row, folded
/// exactly by the reference over auxiliary features.
fn fold_windows(
    input: RunInput<'_>,
    kept: &[FeatureId],
) -> Result<HashMap<String, FoldWindows>, String> {
    let mut project = input.project.clone();
    let (extra, bounds) = with_bounds(&mut project, kept);
    if bounds.is_empty() {
        return Ok(HashMap::new());
    }
    let sources: HashMap<String, Vec<RecordBatch>> =
        input.dataset.sources.iter().cloned().collect();
    let spine = [input.dataset.spine.clone()];
    let table = evaluate(
        &project,
        &extra,
        &sources,
        SpineInput {
            batches: &spine,
            time_column: &input.dataset.spine_time,
        },
    )
    .map_err(|e| format!("the bounds' window sums: {e}"))?;
    let floats = |name: &str| -> Result<Vec<f64>, String> {
        let c = table
            .column_by_name(name)
            .ok_or_else(|| format!("no column `{name}`"))?;
        let c = cast(c, &ArrowType::Float64).map_err(|e| e.to_string())?;
        let c = c
            .as_any()
            .downcast_ref::<datafusion::arrow::array::PrimitiveArray<Float64Type>>();
        let c = c.ok_or("not a float column")?;
        Ok((0..c.len())
            .map(|r| if c.is_valid(r) { c.value(r) } else { 0.0 })
            .collect())
    };
    let mut out = HashMap::new();
    for b in bounds {
        out.insert(
            b.feature.clone(),
            FoldWindows {
                agg: b.agg,
                count: floats(&b.count)?,
                abs_sum: floats(&b.abs_sum)?,
                square_sum: floats(&b.square_sum)?,
            },
        );
    }
    Ok(out)
}

/// The tables a script of `project` reads: the dataset's sources, flat (`flat`: their
/// struct and map columns as path columns), and `spine` (with its order column).
pub(super) fn tables(
    project: &Project,
    dataset: &crate::verify::Dataset,
    spine: &RecordBatch,
) -> Result<Vec<SqlTable>, String> {
    let mut tables = Vec::new();
    for (name, batches) in &dataset.sources {
        let source = project
            .sources
            .iter()
            .find(|s| &s.name == name)
            .ok_or_else(|| format!("the project has no source `{name}`"))?;
        let batches = batches
            .iter()
            .map(|b| super::flat::flat(source, b))
            .collect::<Result<Vec<_>, _>>()?;
        let declared = featc_runtime::io::declared_schema(source);
        tables.push(table(name, declared, batches));
    }
    let spine = with_order(spine, ORDER).map_err(|e| e.to_string())?;
    tables.push(table(SPINE_TABLE, spine.schema(), vec![spine]));
    Ok(tables)
}

/// `batches` as table `name` (of schema `declared` when there are none).
fn table(name: &str, declared: SchemaRef, batches: Vec<RecordBatch>) -> SqlTable {
    SqlTable {
        name: name.to_string(),
        schema: batches.first().map_or(declared, |b| b.schema()),
        batches,
    }
}

/// An engine's rows as featc writes a training set: in the spine's order (by the
/// order column, when the engine kept it), the spine's columns as the spine has them,
/// then each kept feature's column as its featc type. A missing column or a value
/// that does not cast is the engine's failure.
fn conform(
    project: &Project,
    kept: &[FeatureId],
    spine: &RecordBatch,
    rows: RecordBatch,
) -> Result<RecordBatch, String> {
    let rows = match rows.schema().index_of(ORDER) {
        Err(_) => rows,
        Ok(i) => {
            let order = cast(rows.column(i), &ArrowType::Int64).map_err(|e| e.to_string())?;
            let indices = sort_to_indices(&order, None, None).map_err(|e| e.to_string())?;
            take_record_batch(&rows, &indices).map_err(|e| e.to_string())?
        }
    };
    let spine_schema = spine.schema();
    let wanted = spine_schema
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()));
    let features = kept.iter().map(|id| {
        let f = project.feature(*id);
        (f.name.clone(), featc_runtime::row::types::arrow_type(f.ty))
    });
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for (name, ty) in wanted.chain(features) {
        let column = rows
            .column_by_name(&name)
            .ok_or_else(|| format!("the engine answered no column `{name}`"))?;
        let column = if column.data_type() == &ty {
            column.clone()
        } else {
            cast(column, &ty).map_err(|e| format!("column `{name}`: {e}"))?
        };
        fields.push(Field::new(&name, ty, true));
        columns.push(column);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|e| e.to_string())
}

/// Runs a script's statements on `ctx`: the last one's rows, without the spine's
/// order column `order`.
pub async fn run_script(
    ctx: &SessionContext,
    script: &Script,
    order: &str,
) -> Result<RecordBatch, String> {
    let out = run_statements(ctx, script).await?;
    let keep: Vec<usize> = (0..out.num_columns())
        .filter(|&i| out.schema().field(i).name() != order)
        .collect();
    out.project(&keep).map_err(|e| e.to_string())
}

/// Runs a script's statements on `ctx`: the last one's rows, every column.
pub async fn run_statements(ctx: &SessionContext, script: &Script) -> Result<RecordBatch, String> {
    let mut last = None;
    for statement in &script.statements {
        let frame = ctx
            .sql(&statement.to_string())
            .await
            .map_err(|e| e.strip_backtrace())?;
        let schema = Arc::new(frame.schema().as_arrow().clone());
        let batches = frame.collect().await.map_err(|e| e.strip_backtrace())?;
        last = Some(concat_batches(&schema, &batches).map_err(|e| e.to_string())?);
    }
    Ok(last.ok_or("the SQL script is empty")?)
}

/// The spine with the order column `order` appended: its rows' positions (the SQL's
/// spine-order contract, docs/scale-out.md).
pub fn with_order(spine: &RecordBatch, order: &str) -> Result<RecordBatch, ArrowError> {
    let mut fields: Vec<Field> = spine
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new(order, ArrowType::Int64, false));
    let mut columns: Vec<ArrayRef> = spine.columns().to_vec();
    columns.push(Arc::new(Int64Array::from_iter_values(
        0..spine.num_rows() as i64,
    )));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}
