//! `featc build`: compile a project and print (or write) one stage of it.

use std::path::PathBuf;
use std::process::ExitCode;

/// A compiler stage that `--emit` can print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Stage {
    /// The syntax trees of the files, with the line:column of every node.
    Ast,
    /// The typed IR: resolved names, typed expressions, durations in exact units.
    Ir,
    /// The feature plan of every feature: groups, their slots and features, the one
    /// plan both the batch and the stream paths execute.
    Plan,
    /// The feature plan, then the DataFusion plan computing a training set of every
    /// feature (point in time).
    Batch,
    /// The streaming graph of every feature (with `--out DIR`, also `DIR/stream.json`).
    Stream,
    /// The streaming graph as JSON, the form `featc_runtime::stream` loads.
    StreamJson,
    /// One SQL query computing the training set in another engine (`--dialect`);
    /// see docs/scale-out.md.
    Sql,
    /// An Arroyo streaming pipeline, written to `DIR/pipeline.sql` (`--out DIR`);
    /// see docs/scale-out.md.
    Arroyo,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::Ast => "ast",
            Stage::Ir => "ir",
            Stage::Plan => "plan",
            Stage::Batch => "batch",
            Stage::Stream => "stream",
            Stage::StreamJson => "stream-json",
            Stage::Sql => "sql",
            Stage::Arroyo => "arroyo",
        }
    }
}

/// Compile a project and emit one stage of it.
///
/// The stage goes to stdout, or to `DIR/<stage>.txt` with `--out DIR` (`--emit
/// arroyo` writes `DIR/pipeline.sql` and needs `--out`). Exits with 1
/// when the project has errors, 2 on usage or IO errors.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  featc build examples/fraud --emit ir\n  featc build examples/fraud --emit ast --out build/\n  featc build examples/fraud --emit sql --dialect duckdb --service fraud_v1 --table transactions=tx\n  featc build examples/fraud --emit arroyo --features txn_count_1h,amount_sum_1d --out pipeline/"
)]
pub struct Args {
    /// `.feat` files, or folders searched recursively for `*.feat` files.
    #[arg(value_name = "PROJECT", required = true)]
    pub projects: Vec<PathBuf>,
    /// The stage to emit.
    #[arg(long, value_enum, value_name = "STAGE")]
    pub emit: Stage,
    /// Write `DIR/<stage>.txt` instead of printing to stdout (`--emit arroyo`:
    /// `DIR/pipeline.sql`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// With `--emit batch`: the partitions the physical plan is shown for [default:
    /// the machine's cores, as `featc training-set` runs it].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=featc_runtime::batch::resources::MAX_PARTITIONS as i64))]
    pub partitions: Option<u32>,
    /// With `--emit batch`: the passes the physical plan is shown for (`featc
    /// training-set --passes`) [default: 1].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=featc_runtime::batch::resources::MAX_PASSES as i64))]
    pub passes: Option<u32>,
    #[command(flatten)]
    pub sql: super::sql_emit::SqlArgs,
    #[command(flatten)]
    pub arroyo: super::arroyo_emit::ArroyoArgs,
}

pub fn main(args: Args) -> ExitCode {
    if args.emit == Stage::Arroyo {
        return super::arroyo_emit::main(&args);
    }
    if let Some(flag) = args.arroyo.given() {
        return super::fail(format!("{flag} is an option of `--emit arroyo`"));
    }
    let text = match args.emit {
        Stage::Ast => emit_ast(&args),
        Stage::Ir => {
            super::compile_project(&args.projects).map(|(_, p)| featc::print::ir::print_project(&p))
        }
        Stage::Plan => super::compile_project(&args.projects).and_then(|(_, p)| {
            featc::lower::groups::plan_groups(&p, &p.all_features())
                .map(|plan| featc::print::plan::print_plan(&plan))
                .map_err(super::fail)
        }),
        Stage::Batch => {
            let resources = featc_runtime::batch::Resources {
                partitions: args.partitions.map(|n| n as usize),
                passes: args.passes.map(|n| n as usize),
                ..Default::default()
            };
            super::compile_project(&args.projects).and_then(|(_, p)| {
                featc::print::batch::explain_batch(&p, resources.partitions(), resources.passes())
                    .map_err(super::fail)
            })
        }
        Stage::Stream | Stage::StreamJson => super::stream_emit::emit(&args),
        Stage::Sql => super::sql_emit::emit(&args.projects, &args.sql),
        Stage::Arroyo => return super::arroyo_emit::main(&args),
    };
    if args.partitions.is_some() && args.emit != Stage::Batch {
        return super::fail("--partitions is an option of `--emit batch`");
    }
    if args.passes.is_some() && args.emit != Stage::Batch {
        return super::fail("--passes is an option of `--emit batch`");
    }
    if args.emit != Stage::Sql {
        if let Some(flag) = args.sql.given() {
            return super::fail(format!("{flag} is an option of `--emit sql`"));
        }
    }
    let text = match text {
        Ok(text) => text,
        Err(code) => return code,
    };
    match &args.out {
        None => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Some(dir) => {
            let path = dir.join(format!("{}.txt", args.emit.name()));
            let written = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, text));
            match written {
                Ok(()) => {
                    eprintln!("wrote {}", path.display());
                    ExitCode::SUCCESS
                }
                Err(e) => super::fail(format!("cannot write `{}`: {e}", path.display())),
            }
        }
    }
}

/// The syntax trees only need the files to parse, not to check.
fn emit_ast(args: &Args) -> Result<String, ExitCode> {
    let files = super::read_project(&args.projects)?;
    let trees = featc::parse_files(&files).map_err(|diagnostics| {
        super::report(&diagnostics, &files);
        ExitCode::from(super::EXIT_ERRORS)
    })?;
    let mut out = String::new();
    for (file, tree) in files.iter().zip(&trees) {
        out.push_str(&format!("// {}\n", file.name));
        out.push_str(&featc_grammar::print_file(tree, &file.text));
    }
    Ok(out)
}
