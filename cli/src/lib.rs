//! The `featc` command line: one file per subcommand, plus what they share (loading
//! a project from disk, reporting diagnostics, exit codes). The binary (main.rs) only
//! calls `main`; a library, so that the tests (tests/suite.rs) can also call in
//! process what a subcommand asks of the server (`state_dir`).
//!
//! Adding a subcommand: a new file with an `Args` struct (clap `Args` derive) and a
//! `run(Args) -> ExitCode`, its `mod` line, a `Command` variant and a `run` arm.

use clap::{Parser, Subcommand};
use featc::{ir, Diagnostics, SourceFile};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

pub mod arroyo_emit;
pub mod audit;
pub mod build;
pub mod cargo_features;
pub mod catalog;
pub mod check;
pub mod diff;
pub mod drift;
pub mod fmt;
pub mod git;
#[cfg(feature = "serve")]
pub mod history;
pub mod huge_pages;
pub mod import_spec;
pub mod interrupt;
pub mod materialize;
#[cfg(feature = "serve")]
pub mod online_audit;
pub mod progress;
pub mod replay;
pub mod serve;
pub mod server_defaults;
pub mod spine_job;
pub mod sql_emit;
#[cfg(feature = "serve")]
pub mod state_dir;
pub mod stats;
pub mod stream_emit;
pub mod training_set;
pub mod verify;
pub mod verify_engine;

#[derive(Parser)]
#[command(
    name = "featc",
    version,
    about = "Compile feature definitions (.feat) to point-in-time training sets and streaming features",
    after_help = "Examples:\n  featc check examples/fraud\n  featc build examples/fraud --emit ir"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    Check(check::Args),
    Build(build::Args),
    TrainingSet(training_set::Args),
    Replay(replay::Args),
    // Boxed: by far the largest, and a command line is parsed once.
    Serve(Box<serve::Args>),
    Materialize(materialize::Args),
    ImportSpec(import_spec::Args),
    Fmt(fmt::Args),
    Stats(stats::Args),
    Drift(drift::Args),
    Audit(audit::Args),
    Verify(verify::Args),
    Diff(diff::Args),
    Catalog(catalog::Args),
}

/// Parses the command line and runs the subcommand.
pub fn main() -> ExitCode {
    huge_pages::disable();
    match Cli::parse().command {
        Command::Check(args) => check::main(args),
        Command::Build(args) => build::main(args),
        Command::TrainingSet(args) => training_set::main(args),
        Command::Replay(args) => replay::main(args),
        Command::Serve(args) => serve::main(*args),
        Command::Materialize(args) => materialize::main(args),
        Command::ImportSpec(args) => import_spec::main(args),
        Command::Fmt(args) => fmt::main(args),
        Command::Stats(args) => stats::main(args),
        Command::Drift(args) => drift::main(args),
        Command::Audit(args) => audit::main(args),
        Command::Verify(args) => verify::main(args),
        Command::Diff(args) => diff::main(args),
        Command::Catalog(args) => catalog::main(args),
    }
}

/// Exit status when the project has errors (diagnostics were printed).
pub const EXIT_ERRORS: u8 = 1;
/// Exit status on usage or IO errors.
pub const EXIT_USAGE: u8 = 2;

/// Prints `error: MESSAGE` and returns the usage/IO exit status.
pub fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_USAGE)
}

/// Reads the `.feat` files of the given projects (`featc::files::read_project`): a
/// file that is not UTF-8 is reported as a diagnostic (E0029, exit status 1) with the
/// other files' syntax errors; a file that cannot be read at all is an IO error (exit
/// status 2).
pub fn read_project(paths: &[PathBuf]) -> Result<Vec<SourceFile>, ExitCode> {
    featc::files::read_project(paths).map_err(|e| match e {
        featc::files::ReadError::Io(message) => fail(message),
        featc::files::ReadError::Undecodable(undecodable) => {
            report(&undecodable.diagnostics, &undecodable.files);
            ExitCode::from(EXIT_ERRORS)
        }
    })
}

/// Prints diagnostics to stderr, in color when stderr is a terminal.
pub fn report(diagnostics: &Diagnostics, files: &[SourceFile]) {
    eprint!(
        "{}",
        diagnostics.render(files, std::io::stderr().is_terminal())
    );
    let n = diagnostics.len();
    eprintln!("error: {n} error{} found", if n == 1 { "" } else { "s" });
}

/// Reads and compiles the projects; on failure the diagnostics or the IO error are
/// already printed and the exit status is returned.
pub fn compile_project(paths: &[PathBuf]) -> Result<(Vec<SourceFile>, ir::Project), ExitCode> {
    let files = read_project(paths)?;
    match featc::compile(&files) {
        Ok(project) => Ok((files, project)),
        Err(diagnostics) => {
            report(&diagnostics, &files);
            Err(ExitCode::from(EXIT_ERRORS))
        }
    }
}

/// The text of an error raised while DataFusion executed featc's plan. Data errors
/// (featc's own scalar functions and operators raise them as `Execution` errors that
/// already name the source, column and row) are shown without DataFusion's
/// "Execution error:" prefix; anything else keeps DataFusion's wording.
pub fn engine_error(e: datafusion::error::DataFusionError) -> String {
    match e.find_root() {
        datafusion::error::DataFusionError::Execution(message) => message.clone(),
        _ => e.strip_backtrace(),
    }
}
