//! `featc replay`: feed the sources' events through the streaming runtime in arrival
//! order (optionally shuffled within a disorder bound) and answer a spine from the
//! online state; the output has the shape of `featc training-set`.

use std::process::ExitCode;
use std::time::Instant;

use datafusion::arrow::compute::concat_batches;
use datafusion::prelude::SessionConfig;
use featc::ir::Project;
use featc_runtime::stream::{replay_with_progress, LatePolicy, ReplayOptions, Selection};
use featc_runtime::{batch, io};

use super::progress::Progress;
use super::spine_job::{block_on, pin_versions, record_versions, say_versions, SpineJob};

/// What to do with events later than the allowed lateness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Late {
    /// Aggregate them anyway (counted).
    Apply,
    /// Keep them out of the state, in the dead-letter sink (counted).
    DeadLetter,
}

/// Replay the events through the streaming runtime and answer a spine from it.
///
/// Events of all sources are ordered by event time, shuffled deterministically within
/// `--disorder` (time + a seeded jitter in [0, disorder)), and ingested in batches of
/// `--batch-size`. Each spine row is answered at its time `t` as soon as every event
/// with `ts <= t` has been ingested. The allowed lateness is the declared one but at
/// least the disorder, so no event is late. Exits with 1 when the project has errors,
/// 2 on usage, IO or data errors.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  featc replay examples/fraud --spine spine.parquet --out online.parquet\n  featc replay tests/cases/synthetic --spine tests/cases/synthetic/spine.parquet --disorder 1h --batch-size 7 --out /tmp/replay.parquet"
)]
pub struct Args {
    #[command(flatten)]
    pub job: SpineJob,
    /// Shuffle events within this duration (e.g. `0`, `30s`, `1h`, `1d`).
    #[arg(long, value_name = "DURATION", default_value = "0")]
    pub disorder: String,
    /// Events per ingest call.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    pub batch_size: usize,
    /// Seed of the disorder shuffle.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
    /// Policy for events later than the allowed lateness (none occur in a replay
    /// unless the data is inconsistent; shown for completeness).
    #[arg(long, value_enum, default_value = "apply")]
    pub late: Late,
}

/// Parses `0` or an integer followed by `us`, `ms`, `s`, `m`, `h`, `d` or `w` into µs.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let t = text.trim();
    if t == "0" {
        return Ok(0);
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: i64 = digits
        .parse()
        .map_err(|_| format!("invalid duration `{text}` (e.g. 30s, 1h, 7d)"))?;
    let scale: i64 = match unit {
        "us" => 1,
        "ms" => 1_000,
        "s" => 1_000_000,
        "m" => 60_000_000,
        "h" => 3_600_000_000,
        "d" => 86_400_000_000,
        "w" => 604_800_000_000,
        _ => {
            return Err(format!(
                "invalid duration unit in `{text}` (use us, ms, s, m, h, d or w)"
            ))
        }
    };
    n.checked_mul(scale)
        .ok_or_else(|| format!("duration `{text}` is too large"))
}

pub fn main(args: Args) -> ExitCode {
    let (_, project) = match super::compile_project(&args.job.projects) {
        Ok(p) => p,
        Err(code) => return code,
    };
    block_on(run_replay(&project, &args))
}

async fn run_replay(project: &Project, args: &Args) -> Result<(), String> {
    let started = Instant::now();
    let disorder_us = parse_duration(&args.disorder)?;
    if args.batch_size == 0 {
        return Err("--batch-size must be at least 1".into());
    }
    let features = args.job.features(project)?;
    let plan = featc::lower::groups::plan_groups(project, &features).map_err(|e| e.to_string())?;

    // Sources the graph reads: `--source NAME=PATH` or the declared file (bound and
    // checked like `featc training-set` does).
    let mut inputs = args.job.inputs(project)?;
    args.job.check_output(project, &features, &inputs.files)?;
    let versions = pin_versions(project, &features, &mut inputs).await?;
    let progress = Progress::new(args.job.quiet);
    let ctx = batch::session_context(SessionConfig::new());
    let tables = io::bind_sources(&ctx, project, &plan, &inputs)
        .await
        .map_err(|e| e.to_string())?;
    let graph = featc::lower::stream::lower_stream_plan(project, plan.clone(), &features)
        .map_err(|e| e.to_string())?;
    let mut data = Vec::new();
    for (_, op) in graph.sources() {
        progress.phase(&format!("reading source `{}`", op.name));
        let table = tables
            .get(&op.name)
            .ok_or_else(|| format!("internal error: source `{}` was not bound", op.name))?;
        let batches = ctx
            .read_table(table.clone())
            .map_err(super::engine_error)?
            .collect()
            .await
            .map_err(|e| io::explain_failure(project, &plan, &inputs, e).to_string())?;
        data.push((op.name.clone(), batches));
    }

    // The spine, with the key columns of the entities the features need.
    progress.phase("reading the spine");
    let keys = io::spine_keys(project, &features);
    let spine = io::read_spine(&args.job.spine, &keys, &args.job.spine_time)
        .await
        .map_err(|e| e.to_string())?;
    let spine_batch = concat_batches(&spine.schema, &spine.batches).map_err(|e| e.to_string())?;

    let opts = ReplayOptions {
        disorder_us,
        batch_size: args.batch_size,
        seed: args.seed,
        late_policy: match args.late {
            Late::Apply => LatePolicy::Apply,
            Late::DeadLetter => LatePolicy::DeadLetter,
        },
        ..ReplayOptions::default()
    };
    progress.phase("replaying events");
    let (out, report) = replay_with_progress(
        graph,
        &data,
        &spine_batch,
        &args.job.spine_time,
        &Selection::All,
        &opts,
        &mut |done, total| progress.advance(done, total, "events"),
    )
    .map_err(|e| e.to_string())?;
    progress.phase("writing the output");
    let mut writer =
        io::OutputWriter::create(&args.job.out, out.schema()).map_err(|e| e.to_string())?;
    record_versions(&mut writer, &versions);
    writer.write(&out).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    progress.finish();
    let m = report.metrics;
    eprintln!(
        "replayed {} events in {} ingest calls; answered {} spine rows x {} features in {:.2}s -> {}",
        report.events,
        report.ingest_calls,
        report.spine_rows,
        features.len(),
        started.elapsed().as_secs_f64(),
        args.job.out.display()
    );
    eprintln!(
        "late events: {} (dead-lettered {}); null-key rows skipped: {}; entities: {}; state: ~{} bytes",
        m.late, m.dead_lettered, m.null_keys, m.entities, m.state_bytes
    );
    say_versions(&versions);
    Ok(())
}
