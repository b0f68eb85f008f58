//! Jobs over data that the CLI and embedders (the Python package) share: choosing
//! the features a job computes, and the training set itself (`training_set`).

#[cfg(feature = "ballista")]
mod ballista;
pub mod training_set;

/// Without the `ballista` feature, a training set asked to run on a cluster says so.
#[cfg(not(feature = "ballista"))]
mod ballista {
    use super::training_set::{Running, TrainingSet};
    use super::JobError;

    pub(super) async fn start(
        _job: &TrainingSet<'_>,
        url: &str,
        _phase: &dyn Fn(&str),
    ) -> Result<Running, JobError> {
        Err(JobError::Failed(format!(
            "cannot run on {url}: this featc was built without Ballista (the `ballista` \
             feature of the featc crate)"
        )))
    }
}

use std::collections::HashMap;
use std::fmt;

use featc_runtime::io::IoError;

use crate::ir::{FeatureId, Project};

/// Why a job could not run or failed.
#[derive(Debug, Clone, PartialEq)]
pub enum JobError {
    /// A feature, service or source the project does not declare.
    UnknownName {
        kind: &'static str,
        name: String,
        /// What the project has, or the closest name.
        known: String,
    },
    /// An input that cannot be read as declared (a missing column, a wrong type, a
    /// bad cell), named by table, column and row where known.
    Input(IoError),
    /// The data made the computation fail (a bad cell found while computing, an
    /// expression or an aggregation failing on an event): the message names it.
    Data(String),
    /// Anything else (planning).
    Failed(String),
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobError::UnknownName { kind, name, known } => {
                write!(f, "no {kind} `{name}` in the project ({known})")
            }
            JobError::Input(e) => write!(f, "{e}"),
            JobError::Data(m) | JobError::Failed(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for JobError {}

impl From<IoError> for JobError {
    fn from(e: IoError) -> JobError {
        JobError::Input(e)
    }
}

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
