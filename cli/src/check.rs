//! `featc check`: compile a project and report every error, producing nothing.

use std::path::PathBuf;
use std::process::ExitCode;

/// Check a project for errors without producing anything.
///
/// Exits with 0 when the project is clean (a summary goes to stderr), 1 when it has
/// errors (all of them are printed), 2 on usage or IO errors.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  featc check examples/fraud\n  featc check sources.feat features.feat"
)]
pub struct Args {
    /// `.feat` files, or folders searched recursively for `*.feat` files.
    #[arg(value_name = "PROJECT", required = true)]
    pub projects: Vec<PathBuf>,
}

pub fn main(args: Args) -> ExitCode {
    let (files, p) = match super::compile_project(&args.projects) {
        Ok(compiled) => compiled,
        Err(code) => return code,
    };
    let features: usize = p.views.iter().map(|v| v.features.len()).sum();
    eprintln!(
        "ok: {} files, {} sources, {} entities, {} views, {features} features, {} services",
        files.len(),
        p.sources.len(),
        p.entities.len(),
        p.views.len(),
        p.services.len()
    );
    ExitCode::SUCCESS
}
