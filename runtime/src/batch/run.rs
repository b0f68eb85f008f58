//! The steps of a training-set run that need data, shared by the CLI and the tests:
//! bind the sources the requested features read, say which spine keys they need,
//! execute a lowered plan. (Lowering itself is `featc::lower::batch`, which does no IO.)

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::common::Result as DfResult;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::{execute_stream, ExecutionPlan};
use datafusion::prelude::SessionContext;

use crate::io::{bind_source, IoError};
use crate::ir::{DataType, FeatureId, Project, Source};

/// The sources the `features` read, in first-use order, without repeats.
pub fn sources_of<'p>(project: &'p Project, features: &[FeatureId]) -> Vec<&'p Source> {
    let mut out: Vec<&Source> = Vec::new();
    for id in features {
        let Some(view) = project.views.get(id.view) else {
            continue;
        };
        let Some(source) = project.sources.get(view.source.0) else {
            continue;
        };
        if !out.iter().any(|s| s.name == source.name) {
            out.push(source);
        }
    }
    out
}

/// The spine key columns the `features` need (entity key names and types), in
/// first-use order, without repeats.
pub fn spine_keys(project: &Project, features: &[FeatureId]) -> Vec<(String, DataType)> {
    let mut out: Vec<(String, DataType)> = Vec::new();
    for id in features {
        let Some(view) = project.views.get(id.view) else {
            continue;
        };
        let Some(entity) = project.entities.get(view.entity.0) else {
            continue;
        };
        for k in &entity.keys {
            if !out.iter().any(|(n, _)| n == &k.name) {
                out.push((k.name.clone(), k.ty));
            }
        }
    }
    out
}

/// Binds every source the `features` read: to `paths[name]` when given, else to the
/// source's declared location. A source with neither is an error naming it.
pub async fn bind_sources(
    ctx: &SessionContext,
    project: &Project,
    features: &[FeatureId],
    paths: &HashMap<String, PathBuf>,
) -> Result<HashMap<String, Arc<dyn TableProvider>>, IoError> {
    let mut out = HashMap::new();
    for source in sources_of(project, features) {
        let path: PathBuf = match (paths.get(&source.name), &source.location) {
            (Some(p), _) => p.clone(),
            (None, Some(l)) => Path::new(l).to_path_buf(),
            (None, None) => {
                return Err(IoError::Unreadable {
                    table: format!("source `{}`", source.name),
                    path: PathBuf::new(),
                    message: "no file declared; bind it with --source NAME=PATH".to_string(),
                })
            }
        };
        let table = bind_source(ctx, source, &path).await?;
        out.insert(source.name.clone(), table);
    }
    Ok(out)
}

/// Plans (optimizer, then `PointInTimeExec`) and starts a lowered plan in a session
/// from `batch::session_context`. The physical plan is returned too: after the stream
/// is drained, `batch::null_key_counts` reads its statistics.
pub async fn execute(
    ctx: &SessionContext,
    plan: LogicalPlan,
) -> DfResult<(Arc<dyn ExecutionPlan>, SendableRecordBatchStream)> {
    let physical = ctx.state().create_physical_plan(&plan).await?;
    let stream = execute_stream(Arc::clone(&physical), ctx.task_ctx())?;
    Ok((physical, stream))
}
