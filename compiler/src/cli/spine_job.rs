//! What `featc training-set` and `featc replay` share: the arguments naming a project,
//! a spine, source overrides, the features and the output, and running the job on an
//! IO runtime.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;

use featc::ir::{FeatureId, Project};

/// A project answered at the rows of a spine.
#[derive(clap::Args)]
pub struct SpineJob {
    /// `.feat` files, or folders searched recursively for `*.feat` files.
    #[arg(value_name = "PROJECT", required = true)]
    pub projects: Vec<PathBuf>,
    /// The spine (Parquet or CSV): entity key columns named like the entities' keys,
    /// a time column, and any other columns (kept unchanged).
    #[arg(long, value_name = "FILE")]
    pub spine: PathBuf,
    /// Read source NAME from PATH (a `.parquet`/`.csv` file or a folder of them)
    /// instead of its declared file (repeatable).
    #[arg(long = "source", value_name = "NAME=PATH")]
    pub sources: Vec<String>,
    /// Compute the features of this service, in its order.
    #[arg(long, value_name = "NAME", conflicts_with = "features")]
    pub service: Option<String>,
    /// Compute these features, in this order (comma-separated). Default: every
    /// feature of the project, in declaration order.
    #[arg(long, value_name = "A,B,...", value_delimiter = ',')]
    pub features: Vec<String>,
    /// The spine's time column.
    #[arg(long, value_name = "COL", default_value = "ts")]
    pub spine_time: String,
    /// The output file: `.parquet` or `.csv`.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

impl SpineJob {
    /// The requested features: a service's, a list's, or all of them.
    pub fn features(&self, project: &Project) -> Result<Vec<FeatureId>, String> {
        if let Some(name) = &self.service {
            return match project.services.iter().find(|s| &s.name == name) {
                Some(s) => Ok(s.features.clone()),
                None => {
                    let known: Vec<&str> =
                        project.services.iter().map(|s| s.name.as_str()).collect();
                    Err(format!(
                        "no service `{name}` (services: {})",
                        known.join(", ")
                    ))
                }
            };
        }
        if self.features.is_empty() {
            return Ok(project.all_features());
        }
        self.features
            .iter()
            .map(|n| {
                let n = n.trim();
                project
                    .feature_by_name(n)
                    .ok_or_else(|| format!("no feature `{n}` in the project"))
            })
            .collect()
    }

    /// The `--source NAME=PATH` overrides, each naming a source of the project.
    pub fn source_paths(&self, project: &Project) -> Result<HashMap<String, PathBuf>, String> {
        let mut paths = HashMap::new();
        for binding in &self.sources {
            let Some((name, path)) = binding.split_once('=') else {
                return Err(format!("--source takes NAME=PATH, got `{binding}`"));
            };
            if !project.sources.iter().any(|s| s.name == name) {
                return Err(format!("--source: the project has no source `{name}`"));
            }
            paths.insert(name.to_string(), PathBuf::from(path));
        }
        Ok(paths)
    }
}

/// Runs `job` on a multi-threaded IO runtime; its error becomes a usage/data failure.
pub fn block_on(job: impl Future<Output = Result<(), String>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return super::fail(format!("cannot start the IO runtime: {e}")),
    };
    match runtime.block_on(job) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => super::fail(message),
    }
}
