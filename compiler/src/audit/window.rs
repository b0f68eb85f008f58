//! The events behind an unexplained cell: for each finding the report lists in full,
//! the latest events of its key at or before its read time, from the sources of the
//! views its feature reads (bound as the training set binds them), so that the report
//! shows what the window held, not only the two values.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::Array;
use datafusion::catalog::TableProvider;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{lit, Expr};
use datafusion::prelude::{ident, SessionContext};
use featc_runtime::io;
use featc_runtime::ir::FeatureId;
use featc_runtime::row::types::UTC;

use super::cells;
use super::error::AuditError;
use super::report::Report;
use super::Audit;
use crate::job::JobError;

/// Events listed per finding and view at most (the latest).
pub const EVENTS_PER_VIEW: usize = 20;

/// Fills each finding's `events`.
pub(super) async fn attach(audit: &Audit<'_>, report: &mut Report) -> Result<(), AuditError> {
    let project = audit.project;
    let ctx = SessionContext::new();
    // Each aggregation's sources, bound once for all the findings of its feature (for
    // the columns it reads).
    let mut bound: HashMap<FeatureId, HashMap<String, Arc<dyn TableProvider>>> = HashMap::new();
    for finding in &mut report.unexplained {
        let Some(id) = project.feature_by_name(&finding.feature) else {
            continue;
        };
        for agg in project.aggregations_of(&[id]) {
            let Some(view) = agg.view().and_then(|v| project.views.get(v)) else {
                continue;
            };
            let Some(entity) = project.entities.get(view.entity.0) else {
                continue;
            };
            // The read's key, typed, in the view's source columns.
            let mut key: Vec<Expr> = Vec::new();
            for (k, column) in entity.keys.iter().zip(&view.key_columns) {
                let Some((_, value)) = finding.typed_keys.iter().find(|(n, _)| *n == k.name) else {
                    continue;
                };
                key.push(ident(column).eq(lit(value.clone())));
            }
            if key.len() != entity.keys.len() {
                continue;
            }
            let tables = match bound.entry(agg) {
                Entry::Occupied(known) => known.into_mut(),
                Entry::Vacant(new) => {
                    let plan = crate::lower::groups::plan_groups(project, &[agg])
                        .map_err(AuditError::Grouping)?;
                    let tables = io::bind_sources(&ctx, project, &plan, &audit.inputs)
                        .await
                        .map_err(|e| AuditError::Job(JobError::Input(e)))?;
                    new.insert(tables)
                }
            };
            for source in view.sources().filter_map(|s| project.sources.get(s.0)) {
                let Some(table) = tables.get(&source.name) else {
                    continue;
                };
                let time = ident(&source.time_column);
                let at = lit(ScalarValue::TimestampMicrosecond(
                    Some(finding.read_time_us),
                    Some(UTC.into()),
                ));
                let filter = key
                    .iter()
                    .cloned()
                    .fold(time.clone().lt_eq(at), |all, k| all.and(k));
                let batches = ctx
                    .read_table(Arc::clone(table))
                    .and_then(|df| df.filter(filter))
                    .and_then(|df| df.sort(vec![time.sort(false, true)]))
                    .and_then(|df| df.limit(0, Some(EVENTS_PER_VIEW)))
                    .map_err(|e| failed(&source.name, e))?
                    .collect()
                    .await
                    .map_err(|e| failed(&source.name, e))?;
                for batch in batches {
                    let schema = batch.schema();
                    for row in 0..batch.num_rows() {
                        let cells: Vec<String> = (schema.fields().iter())
                            .zip(batch.columns())
                            .filter(|(_, c)| !c.is_null(row))
                            .map(|(f, c)| format!("{}={}", f.name(), cells::text(c.as_ref(), row)))
                            .collect();
                        finding
                            .events
                            .push(format!("{} {{{}}}", source.name, cells.join(", ")));
                    }
                }
            }
        }
    }
    Ok(())
}

fn failed(source: &str, e: datafusion::error::DataFusionError) -> AuditError {
    AuditError::Log {
        path: format!("(source `{source}`)").into(),
        message: e.strip_backtrace(),
    }
}
