//! A training set split by entity, for engines that shuffle rows by key before featc
//! computes them (featc on Spark): the passes, each one entity's aggregations over the
//! sources they read, partitioned by the entity's key; then the requested outputs
//! assembled from the passes' columns, derived features computed by the evaluator
//! every path uses. A pass run on a share of the spine rows and every event of those
//! rows' keys gives exactly the values `training_set` gives those rows.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::DataFusionError;
use featc_runtime::batch::assemble_exec;
use featc_runtime::io::{self, Inputs};
use featc_runtime::ir::DataType;

use super::{JobError, RunFailure};
use crate::ir::{FeatureId, Project};

/// One entity's aggregations, computed where the spine rows and the events of each
/// key meet.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityPass {
    pub entity: String,
    /// The entity's key as the spine names it, with its type.
    pub keys: Vec<(String, DataType)>,
    /// The sources the pass reads, each with the columns holding the key (in `keys`'
    /// order).
    pub sources: Vec<PassSource>,
    /// The aggregated features the pass computes, in plan order.
    pub features: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PassSource {
    pub source: String,
    pub time_column: String,
    pub key_columns: Vec<String>,
}

/// The passes of `features`' aggregations. One per entity, except that a source read
/// by views of one entity through different key columns gets a pass per key column
/// set: a pass holds each event once, in the share of its one key. A group over
/// several sources (a view `from a, b`) puts each of them in its pass, each with its
/// own time column and the view's key columns (which every member has): the events
/// of a key meet in one share, where the batch path reads their union.
pub fn entity_passes(
    project: &Project,
    features: &[FeatureId],
) -> Result<Vec<EntityPass>, JobError> {
    let plan =
        crate::lower::groups::plan_groups(project, features).map_err(RunFailure::Grouping)?;
    let mut passes: Vec<EntityPass> = Vec::new();
    for group in &plan.groups {
        // A pass holds its entity's events only: a lookup reads another entity's.
        if let Some(refused) = crate::lower::stream::lookup_refused(project, group) {
            return Err(RunFailure::Grouping(refused).into());
        }
        let key_columns: Vec<String> = group.keys.iter().map(|k| k.column.clone()).collect();
        let members: Vec<PassSource> = group
            .sources()
            .into_iter()
            .map(|(source, time_column)| PassSource {
                source: source.to_string(),
                time_column: time_column.to_string(),
                key_columns: key_columns.clone(),
            })
            .collect();
        let keys: Vec<(String, DataType)> =
            group.keys.iter().map(|k| (k.name.clone(), k.ty)).collect();
        let fits = |p: &EntityPass| {
            p.entity == group.entity
                && members.iter().all(|m| {
                    p.sources
                        .iter()
                        .all(|s| s.source != m.source || s.key_columns == m.key_columns)
                })
        };
        let at = match passes.iter().position(fits) {
            Some(at) => at,
            None => {
                passes.push(EntityPass {
                    entity: group.entity.clone(),
                    keys,
                    sources: Vec::new(),
                    features: Vec::new(),
                });
                passes.len() - 1
            }
        };
        let pass = &mut passes[at];
        for m in members {
            if !pass.sources.contains(&m) {
                pass.sources.push(m);
            }
        }
        for f in &group.features {
            if !pass.features.contains(&f.name) {
                pass.features.push(f.name.clone());
            }
        }
    }
    Ok(passes)
}

/// `features`' columns for the rows of `rows`: a spine (its time column
/// `spine_time`, the request fields derived features read) beside one column per
/// aggregated feature the passes computed, named like the feature. One column per
/// requested feature, named like it, in request order, as `training_set` appends them.
pub fn assemble_outputs(
    project: &Project,
    features: &[FeatureId],
    rows: &RecordBatch,
    spine_time: &str,
) -> Result<RecordBatch, JobError> {
    let plan =
        crate::lower::groups::plan_groups(project, features).map_err(RunFailure::Grouping)?;
    let by_name: BTreeMap<&str, &ArrayRef> = rows
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .zip(rows.columns())
        .collect();
    let aggregate = |r| -> datafusion::error::Result<ArrayRef> {
        let name = plan
            .feature(r)
            .map(|f| f.name.as_str())
            .ok_or_else(|| DataFusionError::Plan(format!("no feature {r:?}")))?;
        by_name.get(name).map(|c| (*c).clone()).ok_or_else(|| {
            DataFusionError::Plan(format!("no column for the aggregated feature `{name}`"))
        })
    };
    let failed = |e| JobError::Data(io::explain_failure(project, &plan, &Inputs::default(), e));
    let columns = assemble_exec::outputs(&plan, spine_time, rows, &aggregate).map_err(failed)?;
    let fields: Vec<Field> = plan
        .output_columns()
        .zip(&columns)
        .map(|((name, _), c)| Field::new(name, c.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| failed(DataFusionError::ArrowError(Box::new(e), None)))
}

/// The passes as text, one block per pass (snapshot-tested, and what featc on Spark
/// runs).
pub fn print_passes(passes: &[EntityPass]) -> String {
    let mut out = String::new();
    for (i, p) in passes.iter().enumerate() {
        let keys: Vec<String> = p
            .keys
            .iter()
            .map(|(n, t)| format!("{n}: {}", t.name()))
            .collect();
        out.push_str(&format!(
            "pass {i}: entity {} by ({})\n",
            p.entity,
            keys.join(", ")
        ));
        for s in &p.sources {
            out.push_str(&format!(
                "  reads {} (time {}, key {})\n",
                s.source,
                s.time_column,
                s.key_columns.join(", ")
            ));
        }
        out.push_str(&format!("  computes {}\n", p.features.join(", ")));
    }
    out
}
