//! `featc materialize`: fill an online store (Redis) with every entity's feature
//! vector of the project's services, as of one time, computed from the sources'
//! history by the streaming runtime.

use std::path::PathBuf;
use std::process::ExitCode;

use super::server_defaults;

// What fills Redis: only in a featc built with `serve` (Cargo.toml).
#[cfg(feature = "serve")]
use {
    super::history::{load_history, History, HistorySink},
    super::progress::Progress,
    super::spine_job::{block_on, source_bindings},
    datafusion::arrow::record_batch::RecordBatch,
    featc::ir::Project,
    featc_runtime::stream::{StreamError, StreamRuntime},
    featc_server::redis::{materialize, HashPlan, RedisStore, RedisTarget},
    featc_server::wire::time::{format_time, now_us, parse_time_text},
    std::time::Instant,
};

/// Write every entity's feature vector of the project's services into Redis, as of
/// one time: one hash per service and entity key (docs/online-store.md).
///
/// The values are those `featc training-set` computes for each entity at that time,
/// bit for bit. Entities that never had an event get no key. Exits with 1 when the
/// project has errors, 2 on usage, IO, data or Redis errors.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  featc materialize examples/fraud --to redis://127.0.0.1:6379\n  featc materialize examples/fraud --to redis://127.0.0.1:6379/2 --at 2024-03-31T00:00:00Z --service fraud_v1"
)]
pub struct Args {
    /// `.feat` files, or folders searched recursively for `*.feat` files.
    #[arg(value_name = "PROJECT", required = true)]
    pub projects: Vec<PathBuf>,
    /// The Redis to fill: `redis://HOST:PORT[/DB]` (a Redis Cluster: any node's address,
    /// or `redis://HOST:PORT,HOST:PORT...`).
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// The time the values are as of (RFC 3339 or a date); only events at or before
    /// it are read. Default: now.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Only this service's hashes (repeatable). Default: every service.
    #[arg(long, value_name = "NAME")]
    pub service: Vec<String>,
    /// Read source NAME from PATH instead of its declared file (repeatable).
    #[arg(long = "source", value_name = "NAME=PATH")]
    pub sources: Vec<String>,
    /// The prefix of every key written.
    #[arg(long, value_name = "PREFIX", default_value = server_defaults::REDIS_PREFIX)]
    pub redis_prefix: String,
    /// Print no progress (only the summary and errors).
    #[arg(long, short)]
    pub quiet: bool,
}

#[cfg(feature = "serve")]
pub fn main(args: Args) -> ExitCode {
    let (_, project) = match super::compile_project(&args.projects) {
        Ok(p) => p,
        Err(code) => return code,
    };
    block_on(run(&project, &args))
}

#[cfg(not(feature = "serve"))]
pub fn main(_: Args) -> ExitCode {
    super::cargo_features::missing("serve", "featc materialize")
}

#[cfg(feature = "serve")]
async fn run(project: &Project, args: &Args) -> Result<(), String> {
    let started = Instant::now();
    let at = match &args.at {
        Some(text) => parse_time_text(text).map_err(|e| format!("--at: {e}"))?,
        None => now_us(),
    };
    for name in &args.service {
        if !project.services.iter().any(|s| &s.name == name) {
            let known: Vec<&str> = project.services.iter().map(|s| s.name.as_str()).collect();
            return Err(format!(
                "no service `{name}` (services: {})",
                known.join(", ")
            ));
        }
    }
    if project.services.is_empty() {
        return Err("the project declares no service: a hash holds a service's features".into());
    }
    let target =
        RedisTarget::new(&args.to, &args.redis_prefix).map_err(|e| format!("--to: {e}"))?;
    // Connect first: a wrong address fails before the history is read.
    let mut store = RedisStore::connect(&target).map_err(|e| e.to_string())?;
    let paths = source_bindings(&args.sources, project)?;
    let features = project.all_features();
    let plan = featc::lower::groups::plan_groups(project, &features).map_err(|e| e.to_string())?;
    let graph = featc::lower::stream::lower_stream_plan(project, plan.clone(), &features)
        .map_err(|e| e.to_string())?;
    let plans: Vec<HashPlan> = HashPlan::all(&graph)
        .into_iter()
        .filter(|p| args.service.is_empty() || args.service.contains(&p.service))
        .collect();

    struct IntoRuntime(StreamRuntime);
    impl HistorySink for IntoRuntime {
        fn total(&mut self, _: u64) {}
        fn take(&mut self, source: &str, batch: &RecordBatch) -> Result<(), String> {
            self.0
                .ingest_history(source, batch)
                .map_err(|e: StreamError| e.to_string())
        }
    }
    let progress = Progress::new(args.quiet);
    let mut runtime = IntoRuntime(StreamRuntime::new(graph).map_err(|e| e.to_string())?);
    let graph = runtime.0.graph().clone();
    let history = History {
        project,
        plan: &plan,
        graph: &graph,
        paths: &paths,
        upto: Some(at),
        sort_memory: None,
    };
    let events = load_history(&history, &progress, &mut runtime).await?;
    let mut rt = runtime.0;
    rt.compact().map_err(|e| e.to_string())?;
    let progress = Progress::new(args.quiet);
    progress.phase(&format!("writing hashes to {}", target.url));
    let done = materialize(&rt, &plans, at, &mut store, &mut |done, total| {
        progress.advance(done, total, "hashes")
    })
    .map_err(|e| e.to_string())?;
    progress.finish();
    eprintln!(
        "wrote {} hashes ({} keys deleted: every value null) to {} as of {} from {events} events in {:.2} s",
        done.written,
        done.deleted,
        target.url,
        format_time(at),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
