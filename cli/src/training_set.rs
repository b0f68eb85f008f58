//! `featc training-set`: compute a point-in-time training set for a spine.

use std::process::ExitCode;
use std::time::Instant;

use super::progress::Progress;
use super::spine_job::{block_on, pin_versions, record_versions, say_versions, SpineJob};
use featc::ir::{self, FeatureId};
use featc::job::training_set::{SpineInput, TrainingSet};
use featc_runtime::batch::timing::Phases;
use featc_runtime::batch::Resources;
use featc_runtime::io::{Inputs, OutputWriter};
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
    /// Merges run at once, each over the entity keys hashed to it [default: the
    /// machine's cores]. The output is the same for every N.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=featc_runtime::batch::resources::MAX_PARTITIONS as i64))]
    pub partitions: Option<u32>,
    /// Memory the computation's sorts and queues may hold before they spill to the
    /// temporary directory, e.g. 4GiB or 512M [default: a sixth of the machine's
    /// memory].
    #[arg(long, value_name = "SIZE", value_parser = featc_runtime::batch::resources::parse_size)]
    pub memory_limit: Option<usize>,
    /// Compute in N passes, one after the other, each over the spine rows and events
    /// of one share of the entity keys: the disk the sorts spill to is about the
    /// events divided by N, and every pass reads the sources again [default: 1]. The
    /// output is the same for every N.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=featc_runtime::batch::resources::MAX_PASSES as i64))]
    pub passes: Option<u32>,
    /// Disk the sorts' spill files may hold at once (under TMPDIR), e.g. 20GiB; a run
    /// that needs more stops and says so [default: 100GiB].
    #[arg(long, value_name = "SIZE", value_parser = featc_runtime::batch::resources::parse_size)]
    pub spill_limit: Option<usize>,
    /// Compute on a Ballista cluster: the address of its featc-ballista-scheduler.
    /// Its executors read the sources at the paths given here, and a copy of the spine
    /// under TMPDIR: both must be visible to them at those paths.
    #[arg(long, value_name = "df://HOST:PORT")]
    pub ballista: Option<String>,
}

impl Args {
    fn resources(&self) -> Resources {
        Resources {
            partitions: self.partitions.map(|n| n as usize),
            memory_limit: self.memory_limit,
            passes: self.passes.map(|n| n as usize),
            spill_limit: self.spill_limit,
        }
    }
}

pub fn main(args: Args) -> ExitCode {
    if args.ballista.is_some() && !cfg!(feature = "ballista") {
        return super::cargo_features::missing("ballista", "featc training-set --ballista");
    }
    if args.ballista.is_some() && args.passes.is_some() {
        // A cluster's executors spill on their own disks, and its planner plans one
        // merge per group.
        return super::fail("--passes runs on this machine: it is not an option with --ballista");
    }
    let (_, project) = match super::compile_project(&args.job.projects) {
        Ok(compiled) => compiled,
        Err(code) => return code,
    };
    let features = match args.job.features(&project) {
        Ok(f) => f,
        Err(message) => return super::fail(message),
    };
    let inputs = match args.job.inputs(&project) {
        Ok(i) => i,
        Err(message) => return super::fail(message),
    };
    if let Err(message) = args.job.check_output(&project, &features, &inputs.files) {
        return super::fail(message);
    }
    block_on(compute(&project, &features, inputs, &args))
}

async fn compute(
    project: &ir::Project,
    features: &[FeatureId],
    mut inputs: Inputs,
    args: &Args,
) -> Result<(), String> {
    let started = Instant::now();
    let mut phases = Phases::start();
    let progress = Progress::new(args.job.quiet);
    // The tables' versions are fixed before the run, which reads them and records them.
    let versions = pin_versions(project, features, &mut inputs).await?;
    let job = TrainingSet {
        project,
        features: features.to_vec(),
        spine: SpineInput::File(args.job.spine.clone()),
        spine_time: args.job.spine_time.clone(),
        inputs,
        batch_size: args.batch_size,
        resources: args.resources(),
        ballista: args.ballista.clone(),
    };
    let say = |m: &str| progress.phase(m);
    let mut running = job.start(&say).await.map_err(|e| e.to_string())?;
    phases.mark("read spine, bind, lower");
    let mut writer =
        OutputWriter::create(&args.job.out, running.stream.schema()).map_err(|e| e.to_string())?;
    record_versions(&mut writer, &versions);
    let mut rows = 0;
    let mut writing = false;
    while let Some(b) = running.stream.next().await {
        let b = b.map_err(|e| {
            progress.phase("locating the error");
            job.failure(&running, e).to_string()
        })?;
        if !writing {
            say("writing the output");
            writing = true;
        }
        rows += b.num_rows();
        writer.write(&b).map_err(|e| e.to_string())?;
        progress.advance(rows as u64, running.spine_rows as u64, "rows");
    }
    phases.mark("compute, write batches");
    writer.finish().map_err(|e| e.to_string())?;
    phases.mark("finish the output file");
    phases.plan(running.physical.as_ref());
    progress.finish();
    eprintln!(
        "wrote {} ({rows} rows, {} features) in {:.2} s",
        args.job.out.display(),
        features.len(),
        started.elapsed().as_secs_f64()
    );
    say_versions(&versions);
    for p in &running.partitions_read {
        eprintln!(
            "  source `{}`: {} of the {} partitions of {} read (the others hold no event the spine's times can see)",
            p.source, p.read, p.partitions, p.location
        );
    }
    let spilled = running.spilled_bytes();
    if spilled > 0 {
        eprintln!(
            "  {} spilled to disk to stay within the memory limit",
            featc_runtime::batch::resources::format_size(spilled)
        );
    }
    for (group, n) in running.null_key_rows() {
        if n > 0 {
            eprintln!("  {group}: {n} rows with a null key skipped");
        }
    }
    Ok(())
}
