//! What a job over data (a training set, a replay) binds before it starts: the
//! sources the requested features read, bound to files, and the spine key columns
//! they need.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::prelude::SessionContext;

use super::{bind_source, IoError};
use crate::ir::{DataType, FeatureId, Project, Source};

/// The sources the `features` read, in first-use order, without repeats.
pub fn sources_of<'p>(project: &'p Project, features: &[FeatureId]) -> Vec<&'p Source> {
    let mut out: Vec<&Source> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for id in features {
        let Some(view) = project.views.get(id.view) else {
            continue;
        };
        let Some(source) = project.sources.get(view.source.0) else {
            continue;
        };
        if seen.insert(view.source.0) {
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
