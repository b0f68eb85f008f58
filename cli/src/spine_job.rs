//! What `featc training-set` and `featc replay` share: the arguments naming a project,
//! a spine, source overrides, the features and the output, and running the job on an
//! IO runtime.

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use featc::ir::{FeatureId, Project};
use featc_runtime::io::{self, Inputs, SourceVersion};

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
    /// Read source NAME from PATH (a `.parquet`/`.csv` file or a folder of them, an
    /// `s3://` URL, or a table: `delta:PATH_OR_URL`) instead of its declared file
    /// (repeatable).
    #[arg(long = "source", value_name = "NAME=PATH")]
    pub sources: Vec<String>,
    /// Read table source SOURCE (a `delta:` location) at VERSION instead of its latest:
    /// the version a training set records in its metadata (repeatable).
    #[arg(long = "as-of-version", value_name = "SOURCE=VERSION")]
    pub as_of_version: Vec<String>,
    /// Compute the features of this service, in its order.
    #[arg(long, value_name = "NAME", conflicts_with = "features")]
    pub service: Option<String>,
    /// Compute these features, in this order (comma-separated). Default: every
    /// feature of the project's views, in declaration order (a service's own
    /// features, which may read request fields, when named or with `--service`).
    #[arg(long, value_name = "A,B,...", value_delimiter = ',')]
    pub features: Vec<String>,
    /// The spine's time column.
    #[arg(long, value_name = "COL", default_value = "ts")]
    pub spine_time: String,
    /// The output file: `.parquet` or `.csv`, or a Delta table (`delta:PATH_OR_URL`).
    /// It is written under a temporary name and replaces FILE (or is committed as the
    /// table's new version) only when the run succeeds; it may not be one of the
    /// inputs.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Print no progress (only the summary and errors).
    #[arg(long, short)]
    pub quiet: bool,
}

impl SpineJob {
    /// The requested features: a service's, a list's, or all of them
    /// (`featc::job::select_features`).
    pub fn features(&self, project: &Project) -> Result<Vec<FeatureId>, String> {
        featc::job::select_features(project, self.service.as_deref(), &self.features)
            .map_err(|e| e.to_string())
    }

    /// The `--source NAME=PATH` overrides, each naming a source of the project.
    pub fn source_paths(&self, project: &Project) -> Result<HashMap<String, PathBuf>, String> {
        source_bindings(&self.sources, project)
    }

    /// The `--source` overrides and the `--as-of-version` pins, as a job's inputs.
    pub fn inputs(&self, project: &Project) -> Result<Inputs, String> {
        Ok(Inputs {
            files: self.source_paths(project)?,
            versions: version_pins(&self.as_of_version, project)?,
            ..Inputs::default()
        })
    }
}

/// `--as-of-version SOURCE=VERSION` flags as versions by source name, each naming a
/// source of the project once (whether it is a table is checked as it is read).
pub fn version_pins(pins: &[String], project: &Project) -> Result<HashMap<String, i64>, String> {
    let mut versions = HashMap::new();
    for pin in pins {
        let parsed = pin
            .split_once('=')
            .and_then(|(name, v)| Some((name, v.trim().parse::<i64>().ok()?)));
        let Some((name, version)) = parsed else {
            return Err(format!(
                "--as-of-version takes SOURCE=VERSION (a version number), got `{pin}`"
            ));
        };
        if !project.sources.iter().any(|s| s.name == name) {
            return Err(format!(
                "--as-of-version: the project has no source `{name}`"
            ));
        }
        if versions.insert(name.to_string(), version).is_some() {
            return Err(format!("--as-of-version: source `{name}` is pinned twice"));
        }
    }
    Ok(versions)
}

/// The versions of the tables a job reads (the pinned ones, the latest of the
/// others), found before it starts; `inputs` then pins them all, so that the job
/// reads exactly what it records.
pub async fn pin_versions(
    project: &Project,
    features: &[FeatureId],
    inputs: &mut Inputs,
) -> Result<Vec<SourceVersion>, String> {
    let versions = io::versions_read(project, features, inputs)
        .await
        .map_err(|e| e.to_string())?;
    inputs.versions = io::lakehouse::pins(&versions);
    Ok(versions)
}

/// Records the versions a job read in its output (`featc.source_versions`), and
/// says them on stderr after its summary line.
pub fn record_versions(writer: &mut io::OutputWriter, versions: &[SourceVersion]) {
    if !versions.is_empty() {
        writer.annotate(
            io::lakehouse::VERSIONS_KEY,
            &io::lakehouse::versions_json(versions),
        );
    }
}

/// The versions a job read, one line each, for its summary.
pub fn say_versions(versions: &[SourceVersion]) {
    for v in versions {
        eprintln!(
            "  source `{}`: {} at version {}",
            v.source, v.location, v.version
        );
    }
}

/// `--source NAME=PATH` flags as paths by source name, each naming a source of the
/// project.
pub fn source_bindings(
    bindings: &[String],
    project: &Project,
) -> Result<HashMap<String, PathBuf>, String> {
    let mut paths = HashMap::new();
    for binding in bindings {
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

/// The path a possibly missing file would have: its folder resolved (symbolic
/// links, `..`) and its name kept.
fn resolved(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    match (parent.canonicalize(), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    }
}

impl SpineJob {
    /// Refuses an `--out` that is one of the run's inputs: the spine, the file of a
    /// source the features read, or a file inside a source's folder (the run would
    /// destroy what it reads, or the next run would read its output as events).
    pub fn check_output(
        &self,
        project: &Project,
        features: &[FeatureId],
        paths: &HashMap<String, PathBuf>,
    ) -> Result<(), String> {
        let out = resolved(&self.out);
        let mut inputs = vec![("the spine".to_string(), self.spine.clone())];
        for s in featc_runtime::io::sources_of(project, features) {
            let path = paths
                .get(&s.name)
                .cloned()
                .or_else(|| s.location.as_ref().map(PathBuf::from));
            if let Some(path) = path {
                inputs.push((format!("source `{}`", s.name), path));
            }
        }
        for (what, path) in inputs {
            // A table (`delta:...`) is compared as written.
            let same_table = io::lakehouse::is_table(&path) && path == self.out;
            // A missing input is reported when it is read.
            let input = path.canonicalize();
            let same_file = input
                .as_ref()
                .is_ok_and(|i| out == *i || (i.is_dir() && out.starts_with(i)));
            if same_table || same_file {
                return Err(format!(
                    "--out `{}` is {what} (`{}`) of this run: write the output elsewhere",
                    self.out.display(),
                    path.display()
                ));
            }
        }
        Ok(())
    }
}

/// Runs `job` on a multi-threaded IO runtime; its error becomes a usage/data failure.
/// SIGINT or SIGTERM stops it: cancelled, its temporary files (a training set's
/// spills) removed, exit status 130 or 143 (`interrupt`).
pub fn block_on(job: impl Future<Output = Result<(), String>>) -> ExitCode {
    super::interrupt::block_on(job)
}

/// `block_on` for a job that handles SIGINT and SIGTERM itself (`serve` stops
/// gracefully on them).
pub fn block_on_with_own_signals(job: impl Future<Output = Result<(), String>>) -> ExitCode {
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
