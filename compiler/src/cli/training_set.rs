//! `featc training-set`: compute a point-in-time training set for a spine.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::datasource::provider_as_source;
use datafusion::prelude::SessionConfig;
use featc::ir::{self, FeatureId};
use featc_runtime::batch;
use featc_runtime::batch::timing::Phases;
use featc_runtime::io::{read_spine, OutputWriter};
use futures::StreamExt;
use indicatif::ProgressBar;

/// Compute a point-in-time training set: every spine row with its columns unchanged,
/// followed by one column per feature evaluated at the row's time.
///
/// Sources are read from their declared `file` unless bound with `--source`; files
/// may be Parquet or CSV (by extension) or folders of them. Exits with 1 when the
/// project has errors, 2 on usage, IO or data errors.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  featc training-set examples/fraud --spine examples/fraud/data/spine.csv --out train.parquet\n  featc training-set project/ --spine spine.parquet --service fraud_v1 --source transactions=data/tx/ --out train.csv"
)]
pub struct Args {
    /// `.feat` files, or folders searched recursively for `*.feat` files.
    #[arg(value_name = "PROJECT", required = true)]
    pub projects: Vec<PathBuf>,
    /// The spine (Parquet or CSV): entity key columns named like the entities' keys,
    /// and a time column.
    #[arg(long, value_name = "FILE")]
    pub spine: PathBuf,
    /// Read source NAME from PATH instead of its declared file (repeatable).
    #[arg(long = "source", value_name = "NAME=PATH")]
    pub sources: Vec<String>,
    /// Compute the features of this service, in its order.
    #[arg(long, value_name = "NAME", conflicts_with = "features")]
    pub service: Option<String>,
    /// Compute these features, in this order (comma-separated). Default: every
    /// feature of the project, in declaration order.
    #[arg(long, value_name = "A,B,...", value_delimiter = ',')]
    pub features: Option<Vec<String>>,
    /// The spine's time column.
    #[arg(long, value_name = "COL", default_value = "ts")]
    pub spine_time: String,
    /// The output file: `.parquet` or `.csv`.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Rows per batch while reading (a DataFusion setting).
    #[arg(long, value_name = "N", hide = true)]
    pub batch_size: Option<usize>,
}

pub fn run(args: Args) -> ExitCode {
    let (_, project) = match super::compile_project(&args.projects) {
        Ok(compiled) => compiled,
        Err(code) => return code,
    };
    let features = match select_features(&project, &args) {
        Ok(f) => f,
        Err(message) => return super::fail(message),
    };
    let mut paths = HashMap::new();
    for binding in &args.sources {
        let Some((name, path)) = binding.split_once('=') else {
            return super::fail(format!("--source takes NAME=PATH, got `{binding}`"));
        };
        if !project.sources.iter().any(|s| s.name == name) {
            return super::fail(format!("--source: the project has no source `{name}`"));
        }
        paths.insert(name.to_string(), PathBuf::from(path));
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return super::fail(format!("cannot start the runtime: {e}")),
    };
    match runtime.block_on(compute(&project, &features, &paths, &args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => super::fail(message),
    }
}

/// The requested features: a service's, a list's, or all of them.
fn select_features(project: &ir::Project, args: &Args) -> Result<Vec<FeatureId>, String> {
    if let Some(name) = &args.service {
        return match project.services.iter().find(|s| &s.name == name) {
            Some(s) => Ok(s.features.clone()),
            None => {
                let known: Vec<&str> = project.services.iter().map(|s| s.name.as_str()).collect();
                Err(format!(
                    "no service `{name}` (services: {})",
                    known.join(", ")
                ))
            }
        };
    }
    match &args.features {
        None => Ok(project.all_features()),
        Some(names) => names
            .iter()
            .map(|n| {
                let n = n.trim();
                project
                    .feature_by_name(n)
                    .ok_or_else(|| format!("no feature `{n}` in the project"))
            })
            .collect(),
    }
}

async fn compute(
    project: &ir::Project,
    features: &[FeatureId],
    paths: &HashMap<String, PathBuf>,
    args: &Args,
) -> Result<(), String> {
    let started = Instant::now();
    let mut phases = Phases::start();
    let progress = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new_spinner();
        bar.enable_steady_tick(Duration::from_millis(120));
        Some(bar)
    } else {
        None
    };
    let say = |m: &str| {
        if let Some(bar) = &progress {
            bar.set_message(m.to_string());
        }
    };
    let mut config = SessionConfig::new();
    if let Some(n) = args.batch_size {
        config = config.with_batch_size(n.max(1));
    }
    let ctx = batch::session_context(config);
    say("reading the spine");
    let keys = batch::run::spine_keys(project, features);
    let spine = read_spine(&args.spine, &keys, &args.spine_time)
        .await
        .map_err(|e| e.to_string())?;
    say("binding sources");
    let tables = batch::run::bind_sources(&ctx, project, features, paths)
        .await
        .map_err(|e| e.to_string())?;
    let table_of = |s: &ir::Source| -> Arc<dyn datafusion::logical_expr::TableSource> {
        match tables.get(&s.name) {
            Some(t) => provider_as_source(Arc::clone(t)),
            // Not reached: bind_sources binds every source a requested feature reads.
            None => Arc::new(datafusion::logical_expr::builder::LogicalTableSource::new(
                featc_runtime::io::declared_schema(s),
            )),
        }
    };
    let spine_table = spine.provider().map_err(|e| e.to_string())?;
    let plan = featc::lower::batch::lower_batch(
        project,
        features,
        &table_of,
        provider_as_source(spine_table),
        &args.spine_time,
    )
    .map_err(|e| e.to_string())?;
    phases.mark("read spine, bind, lower");
    say("computing features");
    let (physical, mut stream) = batch::run::execute(&ctx, plan)
        .await
        .map_err(super::engine_error)?;
    let mut writer = OutputWriter::create(&args.out, stream.schema()).map_err(|e| e.to_string())?;
    let mut rows = 0;
    while let Some(b) = stream.next().await {
        let b = b.map_err(super::engine_error)?;
        rows += b.num_rows();
        writer.write(&b).map_err(|e| e.to_string())?;
        say(&format!("writing: {rows} rows"));
    }
    phases.mark("compute, write batches");
    writer.finish().map_err(|e| e.to_string())?;
    phases.mark("finish the output file");
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    eprintln!(
        "wrote {} ({rows} rows, {} features) in {:.2} s",
        args.out.display(),
        features.len(),
        started.elapsed().as_secs_f64()
    );
    for (group, n) in batch::null_key_counts(&physical) {
        if n > 0 {
            eprintln!("  {group}: {n} rows with a null key skipped");
        }
    }
    Ok(())
}
