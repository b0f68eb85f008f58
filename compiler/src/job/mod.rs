//! Jobs over data that the CLI and embedders (the Python package) share: choosing
//! the features a job computes, and the training set itself (`training_set`).

#[cfg(feature = "ballista")]
mod ballista;
pub mod by_entity;
mod error;
pub mod training_set;

/// Without the `ballista` feature, a training set asked to run on a cluster says so.
#[cfg(not(feature = "ballista"))]
mod ballista {
    use super::training_set::{Running, TrainingSet};
    use super::{JobError, RunFailure};

    pub(super) async fn start(
        _job: &TrainingSet<'_>,
        url: &str,
        _phase: &dyn Fn(&str),
    ) -> Result<Running, JobError> {
        Err(RunFailure::WithoutBallista {
            url: url.to_string(),
        }
        .into())
    }
}

use std::collections::HashMap;

use crate::ir::{FeatureId, Project};
pub use error::{JobError, RunFailure};

/// The features a job computes: a service's (in its order), the named ones (in the
/// order given), or, with neither, every feature of the project's views in
/// declaration order (services' own features may read request fields a spine lacks:
/// they are computed when named, or through their service).
pub fn select_features(
    project: &Project,
    service: Option<&str>,
    names: &[String],
) -> Result<Vec<FeatureId>, JobError> {
    if let Some(name) = service {
        return match project.services.iter().find(|s| s.name == name) {
            Some(s) => Ok(s.features.clone()),
            None => {
                let known: Vec<&str> = project.services.iter().map(|s| s.name.as_str()).collect();
                Err(JobError::UnknownName {
                    kind: "service",
                    name: name.to_string(),
                    known: known_names("services", &known, name),
                })
            }
        };
    }
    if names.is_empty() {
        let mut all = project.all_features();
        all.retain(|id| id.view().is_some());
        return Ok(all);
    }
    let by_name: HashMap<&str, FeatureId> = project
        .all_features()
        .into_iter()
        .map(|id| (project.feature(id).name.as_str(), id))
        .collect();
    names
        .iter()
        .map(|n| {
            let n = n.trim();
            by_name.get(n).copied().ok_or_else(|| {
                let known: Vec<&str> = by_name.keys().copied().collect();
                JobError::UnknownName {
                    kind: "feature",
                    name: n.to_string(),
                    known: known_names("features", &known, n),
                }
            })
        })
        .collect()
}

/// `did you mean `x`?` when a name is close, else the list of what there is.
pub fn known_names(what: &str, known: &[&str], name: &str) -> String {
    let close = known
        .iter()
        .map(|k| (strsim::levenshtein(k, name), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min();
    match close {
        Some((_, k)) => format!("did you mean `{k}`?"),
        None => {
            let mut sorted = known.to_vec();
            sorted.sort_unstable();
            format!("{what}: {}", sorted.join(", "))
        }
    }
}
