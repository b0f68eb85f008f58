//! The emitted SQL as a path: the `datafusion` dialect's query (`featc build --emit
//! sql --dialect datafusion`) run by DataFusion's own SQL engine in process, on the
//! dataset's tables. Features the dialect refuses are left out (and said); float
//! folds are held to docs/scale-out.md's bound, other floats to 1e-9 relative, and
//! derived features reading a float fold are left out (they inherit its difference).

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Int64Array};
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Float64Type, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::MemTable;
use datafusion::prelude::SessionContext;
use featc_runtime::reference::{evaluate, SpineInput};

use super::{Answered, Executor, Pending, RunInput, Skipped};
use crate::emit::sql::{emit, Dialect, Refusal, Script, SqlOptions};
use crate::ir::{FeatureId, Project};
use crate::verify::compare::{FoldWindows, Tolerance};
use crate::verify::float_bound::{is_float_fold, with_bounds};

/// The spine's table and its order column in the query (names no project uses).
const SPINE_TABLE: &str = "featc_verify_spine";
const ORDER: &str = "featc_verify_row";
/// Floats that are not folds: the engine's libm may differ in the last bits.
const RELATIVE: f64 = 1e-9;

/// DataFusion's SQL engine on the `datafusion` dialect's query.
pub struct SqlExecutor;

impl Executor for SqlExecutor {
    fn name(&self) -> &str {
        "sql"
    }

    fn run<'a>(&'a self, input: RunInput<'a>) -> Pending<'a> {
        Box::pin(async move { answer(input).await })
    }
}

async fn answer(input: RunInput<'_>) -> Result<Answered, String> {
    let project = input.project;
    // Derived features over a float fold inherit its difference: not compared.
    let (candidates, over_folds): (Vec<FeatureId>, Vec<FeatureId>) = input
        .features
        .iter()
        .partition(|id| !reads_fold(project, **id));
    let mut options = SqlOptions::new(Dialect::DataFusion);
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
                    return Err(format!(
                        "the dialect refused what it had accepted: {} features",
                        r.len()
                    ))
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
            let ctx = SessionContext::new();
            for (name, batches) in &input.dataset.sources {
                let declared = project
                    .sources
                    .iter()
                    .find(|s| &s.name == name)
                    .map(featc_runtime::io::declared_schema)
                    .ok_or_else(|| format!("the project has no source `{name}`"))?;
                register(&ctx, name, declared, batches)?;
            }
            let spine = with_order(&input.dataset.spine, ORDER)?;
            register(&ctx, SPINE_TABLE, spine.schema(), &[spine])?;
            run_script(&ctx, &script, ORDER).await?
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
fn emitted(
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

/// `batches` as table `name` (of schema `declared` when there are none).
fn register(
    ctx: &SessionContext,
    name: &str,
    declared: datafusion::arrow::datatypes::SchemaRef,
    batches: &[RecordBatch],
) -> Result<(), String> {
    let schema = batches.first().map_or(declared, |b| b.schema());
    let table = MemTable::try_new(schema, vec![batches.to_vec()]).map_err(|e| e.to_string())?;
    ctx.register_table(name, Arc::new(table))
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Runs a script's statements on `ctx`: the last one's rows, without the spine's
/// order column `order`.
pub async fn run_script(
    ctx: &SessionContext,
    script: &Script,
    order: &str,
) -> Result<RecordBatch, String> {
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
    let out = last.ok_or("the SQL script is empty")?;
    let keep: Vec<usize> = (0..out.num_columns())
        .filter(|&i| out.schema().field(i).name() != order)
        .collect();
    out.project(&keep).map_err(|e| e.to_string())
}

/// The spine with the order column `order` appended: its rows' positions (the SQL's
/// spine-order contract, docs/scale-out.md).
pub fn with_order(spine: &RecordBatch, order: &str) -> Result<RecordBatch, String> {
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
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|e| e.to_string())
}
