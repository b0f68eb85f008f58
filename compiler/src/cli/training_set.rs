//! `featc training-set`: compute a point-in-time training set for a spine.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use super::progress::Progress;
use super::spine_job::{block_on, SpineJob};
use datafusion::datasource::provider_as_source;
use datafusion::prelude::SessionConfig;
use featc::ir::{self, FeatureId};
use featc_runtime::batch;
use featc_runtime::batch::timing::Phases;
use featc_runtime::io::{self, read_spine, OutputWriter};
use futures::StreamExt;

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
    #[command(flatten)]
    pub job: SpineJob,
    /// Rows per batch while reading (a DataFusion setting).
    #[arg(long, value_name = "N", hide = true)]
    pub batch_size: Option<usize>,
}

pub fn main(args: Args) -> ExitCode {
    let (_, project) = match super::compile_project(&args.job.projects) {
        Ok(compiled) => compiled,
        Err(code) => return code,
    };
    let features = match args.job.features(&project) {
        Ok(f) => f,
        Err(message) => return super::fail(message),
    };
    let paths = match args.job.source_paths(&project) {
        Ok(p) => p,
        Err(message) => return super::fail(message),
    };
    if let Err(message) = args.job.check_output(&project, &features, &paths) {
        return super::fail(message);
    }
    block_on(compute(&project, &features, &paths, &args))
}

async fn compute(
    project: &ir::Project,
    features: &[FeatureId],
    paths: &HashMap<String, PathBuf>,
    args: &Args,
) -> Result<(), String> {
    let started = Instant::now();
    let mut phases = Phases::start();
    let progress = Progress::new(args.job.quiet);
    let say = |m: &str| progress.phase(m);
    let mut config = SessionConfig::new();
    if let Some(n) = args.batch_size {
        config = config.with_batch_size(n.max(1));
    }
    let ctx = batch::session_context(config);
    say("reading the spine");
    let keys = io::spine_keys(project, features);
    let spine = read_spine(&args.job.spine, &keys, &args.job.spine_time)
        .await
        .map_err(|e| e.to_string())?;
    say("binding sources");
    let plan = featc::lower::groups::plan_groups(project, features).map_err(|e| e.to_string())?;
    let tables = io::bind_sources(&ctx, project, &plan, paths)
        .await
        .map_err(|e| e.to_string())?;
    let table_of = |s: &ir::Source| -> Arc<dyn datafusion::logical_expr::TableSource> {
        match tables.get(&s.name) {
            Some(t) => provider_as_source(Arc::clone(t)),
            // Not reached: bind_sources binds every source a requested feature reads.
            None => Arc::new(datafusion::logical_expr::builder::LogicalTableSource::new(
                io::declared_schema(s),
            )),
        }
    };
    let spine_rows = spine.num_rows();
    let spine_table = spine.provider().map_err(|e| e.to_string())?;
    let logical = featc::lower::batch::lower_plan(
        project,
        plan.clone(),
        &table_of,
        provider_as_source(spine_table),
        &args.job.spine_time,
    )
    .map_err(|e| e.to_string())?;
    phases.mark("read spine, bind, lower");
    say("computing features");
    let failed = |e: datafusion::error::DataFusionError| {
        progress.phase("locating the error");
        io::explain_failure(project, &plan, paths, &e)
    };
    let (physical, mut stream) = batch::execute(&ctx, logical).await.map_err(failed)?;
    let mut writer =
        OutputWriter::create(&args.job.out, stream.schema()).map_err(|e| e.to_string())?;
    let mut rows = 0;
    let mut writing = false;
    while let Some(b) = stream.next().await {
        let b = b.map_err(failed)?;
        if !writing {
            say("writing the output");
            writing = true;
        }
        rows += b.num_rows();
        writer.write(&b).map_err(|e| e.to_string())?;
        progress.advance(rows as u64, spine_rows as u64, "rows");
    }
    phases.mark("compute, write batches");
    writer.finish().map_err(|e| e.to_string())?;
    phases.mark("finish the output file");
    progress.finish();
    eprintln!(
        "wrote {} ({rows} rows, {} features) in {:.2} s",
        args.job.out.display(),
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
