//! `featc verify`: the reference interpreter, the batch plan and the streaming runtime
//! over a sample of the user's data and over generated edge cases, every disagreeing
//! cell reported, exit status 1 on any (docs/verify.md).

use std::path::PathBuf;
use std::process::ExitCode;

use featc::verify::{
    self, BatchExecutor, Executor, Options, ReferenceExecutor, SqlExecutor, StreamExecutor,
    UserData,
};
use featc_runtime::io::Inputs;

use super::progress::Progress;
use super::spine_job::source_bindings;
use super::verify_engine::CommandEngine;

/// Prove the paths agree on your data before you ship: every requested feature is
/// computed by the reference interpreter (semantics.md, naively), the batch plan
/// (`featc training-set`'s job, at a random batch size and partition count), the
/// streaming runtime (`featc serve`'s, events disordered within each source's
/// lateness and ingested in random chunks) and the emitted SQL (`--emit sql`'s
/// datafusion dialect on DataFusion's SQL engine), and every cell where a path
/// differs from the reference is reported with its entity, time, feature and the
/// values.
///
/// The datasets: a sample of your data (`--source`, or each source's declared file),
/// answered at your spine (`--spine`) or at probe times around the sampled events;
/// then `--cases` cases generated from the project's own schemas (events exactly a
/// window apart, equal timestamps, nulls in every nullable column, empty windows,
/// keys seen once). Exits with 0 when every path agrees, 1 on any disagreement (or
/// when the project has errors), 2 on usage, IO or data errors.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  featc verify examples/fraud\n  featc verify examples/fraud --source transactions=tx.parquet --sample 50000 --cases 100\n  featc verify examples/fraud --generated-only --seed 7 --format json"
)]
pub struct Args {
    /// `.feat` files, or folders searched recursively for `*.feat` files.
    #[arg(value_name = "PROJECT", required = true)]
    pub projects: Vec<PathBuf>,
    /// Read source NAME from PATH (a `.parquet`/`.csv` file or a folder of them)
    /// instead of its declared file (repeatable).
    #[arg(long = "source", value_name = "NAME=PATH")]
    pub sources: Vec<String>,
    /// Answer at the rows of this spine (Parquet or CSV) instead of probe times
    /// around the sampled events.
    #[arg(long, value_name = "FILE")]
    pub spine: Option<PathBuf>,
    /// The spine's time column (also the probe spines' time column).
    #[arg(long, value_name = "COL", default_value = "ts")]
    pub spine_time: String,
    /// Verify the features of this service.
    #[arg(long, value_name = "NAME", conflicts_with = "features")]
    pub service: Option<String>,
    /// Verify these features (comma-separated). Default: every feature of the views.
    #[arg(long, value_name = "A,B,...", value_delimiter = ',')]
    pub features: Vec<String>,
    /// Events kept per source of your data, about (a seeded uniform sample).
    #[arg(long, value_name = "ROWS", default_value_t = 100_000)]
    pub sample: usize,
    /// Spine rows of your data's dataset, at most.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub spine_rows: usize,
    /// Generated cases.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub cases: usize,
    /// The seed of the samples, the generated cases and the paths' settings: a
    /// reported disagreement replays with the same seed.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
    /// Verify on generated cases only (no data is read).
    #[arg(long)]
    pub generated_only: bool,
    /// Leave out the emitted SQL (the `datafusion` dialect run by DataFusion's SQL
    /// engine in process, held to docs/scale-out.md's float bound).
    #[arg(long)]
    pub no_sql: bool,
    /// Also run DIALECT's emitted SQL on your engine: COMMAND (run by `sh -c`) finds
    /// `query.sql` and `tables/NAME.parquet` in the folder `$FEATC_VERIFY_DIR` and
    /// writes the last statement's rows to `result.parquet` there (repeatable;
    /// docs/verify.md).
    #[arg(long = "sql-engine", value_name = "DIALECT=COMMAND")]
    pub sql_engines: Vec<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// No progress on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// How the report is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub fn main(args: Args) -> ExitCode {
    let (_, project) = match super::compile_project(&args.projects) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let features =
        match featc::job::select_features(&project, args.service.as_deref(), &args.features) {
            Ok(f) => f,
            Err(e) => return super::fail(e),
        };
    let inputs: Inputs = match source_bindings(&args.sources, &project) {
        Ok(paths) => paths.into(),
        Err(e) => return super::fail(e),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return super::fail(format!("cannot start the IO runtime: {e}")),
    };
    let missing = verify::sample::sources_without_data(&project, &features, &inputs);
    let user = (!args.generated_only && missing.is_empty()).then(|| UserData {
        inputs: &inputs,
        spine: args.spine.clone().map(|p| (p, args.spine_time.clone())),
        sample_rows: args.sample.max(1),
        spine_rows: args.spine_rows.max(1),
        seed: args.seed,
        probe_time: args.spine_time.clone(),
    });
    let options = Options {
        user,
        cases: args.cases,
        seed: args.seed,
        probe_time: args.spine_time.clone(),
    };
    let mut commands: Vec<CommandEngine> = Vec::new();
    for spec in &args.sql_engines {
        match CommandEngine::parse(spec, &commands) {
            Ok(e) => commands.push(e),
            Err(e) => return super::fail(e),
        }
    }
    let engines: Vec<SqlExecutor<CommandEngine>> = commands.into_iter().map(SqlExecutor).collect();
    let progress = Progress::new(args.quiet);
    progress.phase("verifying");
    let in_process = SqlExecutor::default();
    let mut others: Vec<&dyn Executor> = vec![&BatchExecutor, &StreamExecutor];
    if !args.no_sql {
        others.push(&in_process);
    }
    others.extend(engines.iter().map(|e| e as &dyn Executor));
    let mut advance =
        |done: usize, total: usize| progress.advance(done as u64, total as u64, "datasets");
    let run = verify::run(
        &project,
        &features,
        &options,
        &ReferenceExecutor,
        &others,
        &mut advance,
    );
    let mut report = match runtime.block_on(run) {
        Ok(r) => r,
        Err(e) => {
            progress.finish();
            return super::fail(e);
        }
    };
    progress.finish();
    if args.generated_only {
        report
            .notes
            .insert(0, "your data: not read (--generated-only)".into());
    } else if !missing.is_empty() {
        report.notes.insert(
            0,
            format!(
                "your data: not read: no data for source{} {} (declare its `file` or pass --source NAME=PATH)",
                if missing.len() == 1 { "" } else { "s" },
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    match args.format {
        Format::Text => print!("{}", report.text()),
        Format::Json => match serde_json::to_string_pretty(&report) {
            Ok(json) => println!("{json}"),
            Err(e) => return super::fail(e),
        },
    }
    if report.agrees() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_ERRORS)
    }
}
